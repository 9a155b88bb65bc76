// Aggregation with scripted sample sequences and a manual clock: exact expected results.
#include <doctest/doctest.h>

#include "gw/aggregation/aggregator.hpp"
#include "gw/core/clock.hpp"
#include "gw/core/quantity.hpp"
#include "gw/drivers/profile.hpp"

using namespace std::chrono;
using gw::ClosedInterval;
using gw::IntervalAggregator;
using gw::Sample;
using gw::SysMs;
using gw::SysS;

namespace {

const SysS k_t0{seconds{1'795'435'200}};  // 2026-11-23T12:00:00Z, on the 5-minute grid

gw::MeterConfig meter(int poll_ms = 1000) {
    gw::MeterConfig m;
    m.meter_ean = *gw::Ean18::parse("871685900000000035");
    m.registers = gw::find_profile("eastron-sdm630")->map;
    m.poll_ms = poll_ms;
    return m;
}

/// Feeds samples to an aggregator the way the daemon does, with a manual clock.
struct Script {
    gw::MeterConfig m;
    IntervalAggregator agg;
    gw::ManualClock clock{SysMs{k_t0.time_since_epoch()}};
    std::vector<ClosedInterval> closed;

    explicit Script(gw::MeterConfig cfg, int interval_s = 300)
        : m(std::move(cfg)), agg(m, interval_s) {}

    /// A sample at `offset` after 12:00:00Z (the clock is moved there first).
    void at(milliseconds offset, double p_w, double u = 230.0, double q = 0.0,
            std::optional<double> e_imp = std::nullopt,
            std::optional<double> e_exp = std::nullopt) {
        const auto target = SysMs{k_t0.time_since_epoch()} + offset;
        clock.advance(target - clock.utc_now());
        Sample s;
        s.at = clock.utc_now();
        s.steady = clock.steady_now();
        s.p_w = p_w;
        s.q_var = q;
        s.u_v = {u, u + 1, u + 2};
        s.e_import_wh = e_imp;
        s.e_export_wh = e_exp;
        agg.add(s);
        close();
    }
    void until(milliseconds offset) {
        clock.advance(SysMs{k_t0.time_since_epoch()} + offset - clock.utc_now());
        close();
    }
    void close() {
        for (auto& c : agg.close_due(clock.utc_now(), milliseconds{m.poll_ms + 500}))
            closed.push_back(std::move(c));
    }
    const gw::IntervalRecord& only() {
        REQUIRE(closed.size() == 1);
        return closed[0].record;
    }
};

}  // namespace

TEST_CASE("constant power sampled every second: full coverage, exact mean") {
    Script s(meter());
    for (int i = 0; i < 300; ++i) s.at(seconds{i}, -1'234'000.0, 231.35);
    CHECK(s.closed.empty());  // not before the end plus grace
    s.until(seconds{301} + milliseconds{500});
    const auto& r = s.only();
    CHECK(r.end == k_t0 + minutes{5});
    CHECK(r.samples == 300);
    CHECK(r.coverage == 1.0);
    CHECK(r.quality == gw::Quality::gemeten);
    CHECK(*r.p_w == -1'234'000.0);
    CHECK(*r.u1_v == doctest::Approx(231.35));
    CHECK(gw::format_served(gw::Quantity::voltage_l1, *r.u1_v) == "231.4");
    CHECK(*r.u3_v == doctest::Approx(233.35));
}

TEST_CASE("the mean is time-weighted: each sample holds until the next") {
    Script s(meter(60'000));
    // 60 s apart: 1000 W for four minutes, then 4000 W for one minute.
    for (int i = 0; i < 5; ++i) s.at(minutes{i}, i < 4 ? 1000.0 : 4000.0);
    s.at(minutes{5},
         0.0);  // the next interval's first sample ends the hold exactly at the boundary
    s.until(minutes{6} + seconds{1});
    REQUIRE(s.closed.size() >= 1);
    CHECK(*s.closed[0].record.p_w == 1600.0);
    // A hold is capped at 3 poll periods: 0 W counts 3 s, then nothing until 10 s.
    Script t(meter(1000));
    t.at(seconds{0}, 0.0);
    t.at(seconds{10}, 3000.0);
    for (int i = 11; i < 300; ++i) t.at(seconds{i}, 3000.0);
    t.until(seconds{302});
    const auto& r = t.only();
    CHECK(r.coverage == doctest::Approx((3.0 + 290.0) / 300.0));
    CHECK(*r.p_w == doctest::Approx(3000.0 * 290.0 / 293.0));
}

TEST_CASE("a held span is clipped at the boundary and counts on both sides") {
    Script s(meter(1000));
    s.at(seconds{150}, 1000.0);
    s.at(milliseconds{299'500}, 7000.0);  // holds 0.5 s here and 0.5 s in the next interval
    s.at(milliseconds{300'500}, 7000.0);
    s.until(seconds{302});
    REQUIRE(s.closed.size() == 1);
    const auto& r = s.closed[0].record;
    // 1000 W for 3 s (the hold limit), 7000 W for the last 0.5 s
    CHECK(*r.p_w == doctest::Approx((1000.0 * 3 + 7000.0 * 0.5) / 3.5));
    CHECK(r.coverage == doctest::Approx(3.5 / 300));
    CHECK(r.samples == 2);
    s.until(seconds{602});
    REQUIRE(s.closed.size() == 2);
    CHECK(s.closed[1].record.samples == 1);
    CHECK(s.closed[1].record.coverage ==
          doctest::Approx((0.5 + 3.0) / 300));  // 0.5 s from before + its own 3 s
}

TEST_CASE("gaps lower the coverage, quality follows the 90 % threshold") {
    SUBCASE("a 100 s gap") {
        Script s(meter());
        for (int i = 0; i < 100; ++i) s.at(seconds{i}, 500.0);
        for (int i = 200; i < 300; ++i) s.at(seconds{i}, 1500.0);
        s.until(seconds{302});
        const auto& r = s.only();
        CHECK(r.samples == 200);
        CHECK(r.coverage ==
              doctest::Approx(202.0 / 300.0));  // the last sample before the gap holds 3 s
        CHECK(r.quality == gw::Quality::onvolledig);
        CHECK(*r.p_w == doctest::Approx((500.0 * 102 + 1500.0 * 100) / 202));
    }
    SUBCASE("exactly 90 % is gemeten") {
        Script s(meter());
        for (int i = 30; i < 300; ++i) s.at(seconds{i}, 500.0);
        s.until(seconds{302});
        CHECK(s.only().coverage == doctest::Approx(0.9));
        CHECK(s.only().quality == gw::Quality::gemeten);
    }
    SUBCASE("just below 90 % is onvolledig") {
        Script s(meter());
        for (int i = 31; i < 300; ++i) s.at(seconds{i}, 500.0);
        s.until(seconds{302});
        CHECK(s.only().quality == gw::Quality::onvolledig);
    }
}

TEST_CASE("an interval without a valid sample of its own is not stored") {
    Script s(meter());
    s.at(seconds{299}, 500.0);  // its hold reaches 2 s into the next interval
    s.until(seconds{700});
    REQUIRE(s.closed.size() == 1);  // only the first: the second has held time but no sample
    CHECK(s.closed[0].record.end == k_t0 + minutes{5});
}

TEST_CASE("rounding happens after averaging, half away from zero") {
    Script s(meter(100'000));
    // -1234.4 kW, -1234.4 kW, -1234.7 kW for 100 s each: rounded first they would give -1234.
    s.at(seconds{0}, -1'234'400.0);
    s.at(seconds{100}, -1'234'400.0);
    s.at(seconds{200}, -1'234'700.0);
    s.at(seconds{300}, 0.0);
    s.until(seconds{402});
    REQUIRE(!s.closed.empty());
    const auto& r = s.closed[0].record;
    CHECK(*r.p_w == doctest::Approx(-1'234'500.0));
    CHECK(gw::served_scaled(gw::Quantity::active_power, *r.p_w) == -1235);
}

TEST_CASE("sign convention and CT/VT ratios, from raw registers to the stored mean") {
    gw::MeterConfig m = meter();
    m.sign = gw::SignConvention::export_positive;
    m.ct_ratio = 20;
    m.vt_ratio = 50;  // a medium-voltage transfer point
    Script s(m);
    for (int i = 0; i < 300; ++i) {
        gw::RawValues raw{};
        raw[static_cast<std::size_t>(gw::Reg::p_total)] =
            1234.5;  // secondary W, the meter's export as +
        raw[static_cast<std::size_t>(gw::Reg::q_total)] = -10.0;
        for (auto r : {gw::Reg::u_l1n, gw::Reg::u_l2n, gw::Reg::u_l3n})
            raw[static_cast<std::size_t>(r)] = 57.74;
        s.clock.advance(SysMs{k_t0.time_since_epoch()} + seconds{i} - s.clock.utc_now());
        auto sample = gw::make_sample(m, raw, s.clock.utc_now(), s.clock.steady_now());
        REQUIRE(sample.ok());
        s.agg.add(*sample);
    }
    s.until(seconds{302});
    const auto& r = s.only();
    CHECK(*r.p_w == doctest::Approx(-1234.5 * 1000));  // export: negative, x CT x VT
    CHECK(gw::format_served(gw::Quantity::active_power, *r.p_w) == "-1235");
    CHECK(*r.q_var == doctest::Approx(10.0 * 1000));
    CHECK(gw::format_served(gw::Quantity::voltage_l1, *r.u1_v) == "2887.0");
}

TEST_CASE("energy registers: reading at the interval end, and the energy-delta method") {
    gw::MeterConfig m = meter();
    m.method = gw::AveragingMethod::energy;
    Script s(m);
    // Import 360 kWh/h = 360 kW steady, but sampled with a big gap: the delta is exact anyway.
    auto e_at = [](double sec) { return 1'000'000.0 + 360'000.0 * sec / 3600.0; };
    s.at(seconds{-1}, 0.0, 230, 0, e_at(-1), 5000.0);  // the previous interval's last reading
    for (int i = 0; i < 40; ++i) s.at(seconds{i}, 360'000.0, 230, 0, e_at(i), 5000.0);
    for (int i = 250; i < 300; ++i) s.at(seconds{i}, 360'000.0, 230, 0, e_at(i), 5000.0);
    s.at(seconds{300}, 360'000.0, 230, 0, e_at(300), 5000.0);
    s.until(seconds{302});
    REQUIRE(s.closed.size() == 2);  // 11:59:59 is in the interval before
    const auto& c = s.closed[1];
    CHECK(c.record.end == k_t0 + minutes{5});
    CHECK(c.record.quality == gw::Quality::onvolledig);  // samples cover little
    CHECK(*c.record.p_w == doctest::Approx(360'000.0));  // from the energy delta, exact
    REQUIRE(c.energy.has_value());
    CHECK(*c.energy->e_import_wh == e_at(300));  // the sample exactly on the boundary
    CHECK(*c.energy->e_export_wh == 5000.0);
}

TEST_CASE("cross-check: sampled power against the energy delta") {
    auto run = [](double sampled_w) {
        Script s(meter());
        auto e_at = [](double sec) {
            return 2'000'000.0 + 100'000.0 * sec / 3600.0;
        };  // 100 kW import
        for (int i = -1; i <= 300; ++i) s.at(seconds{i}, sampled_w, 230, 0, e_at(i), 0.0);
        s.until(seconds{302});
        REQUIRE(s.closed.size() == 2);
        return s.closed[1];
    };
    const auto agree = run(101'000.0);  // 1 % off: within 5 %
    CHECK((agree.record.flags & gw::k_flag_cross_check) == 0);
    CHECK(agree.events.empty());
    CHECK(*agree.record.p_w == 101'000.0);  // samples method: the sampled value stands
    const auto disagree = run(120'000.0);
    CHECK((disagree.record.flags & gw::k_flag_cross_check) != 0);
    REQUIRE(disagree.events.size() == 1);
    CHECK(disagree.events[0].kind == "cross_check");
    CHECK(disagree.record.quality == gw::Quality::gemeten);  // the flag does not change kwaliteit
}

TEST_CASE(
    "an energy reading from a meter that stopped answering before the boundary is not stored") {
    Script s(meter());
    for (int i = 0; i < 200; ++i) s.at(seconds{i}, 1000.0, 230, 0, 5000.0 + i, 0.0);
    s.until(seconds{302});
    REQUIRE(s.closed.size() == 1);
    CHECK_FALSE(s.closed[0].energy.has_value());
}

TEST_CASE("the wall clock jumping forward closes the open interval, nothing overlaps") {
    Script s(meter());
    for (int i = 0; i < 150; ++i) s.at(seconds{i}, 1000.0);
    // NTP steps the clock forward by an hour between two polls one second apart.
    s.clock.jump_utc(hours{1});
    s.clock.advance(seconds{1});
    Sample after;
    after.at = s.clock.utc_now();
    after.steady = s.clock.steady_now();
    after.p_w = 2000.0;
    after.u_v = {230, 230, 230};
    s.agg.add(after);
    s.close();
    REQUIRE(s.closed.size() == 1);
    CHECK(s.closed[0].record.end == k_t0 + minutes{5});
    CHECK(s.closed[0].record.samples == 150);
    CHECK(s.closed[0].record.coverage ==
          doctest::Approx(150.0 / 300.0));  // nothing held across the jump
    CHECK(s.closed[0].record.quality == gw::Quality::onvolledig);
    CHECK(s.agg.clock_jumps() == 1);
    for (int i = 1; i < 300; ++i) {
        s.clock.advance(seconds{1});
        Sample x = after;
        x.at = s.clock.utc_now();
        x.steady = s.clock.steady_now();
        s.agg.add(x);
    }
    s.clock.advance(seconds{5});
    s.close();
    REQUIRE(s.closed.size() >= 2);
    for (std::size_t i = 1; i < s.closed.size(); ++i)
        CHECK(s.closed[i].record.end > s.closed[i - 1].record.end);
    CHECK(s.closed[1].record.end >= k_t0 + hours{1} + minutes{5});
}

TEST_CASE("the wall clock jumping back never rewrites or duplicates an interval") {
    Script s(meter());
    for (int i = 0; i < 400; ++i) s.at(seconds{i}, 1000.0);  // 12:00-12:05 closed, 12:05-12:10 open
    REQUIRE(s.closed.size() == 1);
    s.clock.jump_utc(-hours{1});  // back to about 11:06
    std::vector<gw::SysS> ends;
    for (int i = 0; i < 120; ++i) {
        s.clock.advance(seconds{1});
        Sample x;
        x.at = s.clock.utc_now();
        x.steady = s.clock.steady_now();
        x.p_w = 9999.0;
        x.u_v = {230, 230, 230};
        s.agg.add(x);
        s.close();
    }
    // The open 12:10 interval was closed at the jump with what it had; the samples stamped
    // 11:06.. fall in intervals at or before an already closed one and are dropped.
    REQUIRE(s.closed.size() == 2);
    CHECK(s.closed[1].record.end == k_t0 + minutes{10});
    CHECK(*s.closed[1].record.p_w == 1000.0);
    CHECK(s.agg.dropped_samples() >= 119);
    for (const auto& c : s.closed) ends.push_back(c.record.end);
    CHECK(std::adjacent_find(ends.begin(), ends.end()) == ends.end());
}

TEST_CASE("a late sample for a closed interval is dropped, not stored twice") {
    Script s(meter());
    for (int i = 0; i < 300; ++i) s.at(seconds{i}, 1000.0);
    s.until(seconds{305});
    REQUIRE(s.closed.size() == 1);
    Sample late;
    late.at = SysMs{k_t0.time_since_epoch()} + seconds{299};
    late.steady = s.clock.steady_now() - seconds{6};
    late.p_w = 5.0;
    late.u_v = {230, 230, 230};
    s.agg.add(late);
    s.until(seconds{700});
    CHECK(s.closed.size() == 1);
    CHECK(s.agg.dropped_samples() == 1);
}

TEST_CASE(
    "a stop hands out the open interval as carried state, never as data, and a restart continues "
    "it") {
    Script before(meter());
    for (int i = 0; i < 120; ++i) before.at(seconds{i}, 1000.0, 230.0, 0.0, 5000.0 + i, 100.0);
    auto stopped = before.agg.stop(SysMs{k_t0.time_since_epoch()} + seconds{120});
    CHECK(stopped.closed.empty());  // its end (12:05) is still ahead: nothing to commit
    REQUIRE(stopped.carry.size() == 1);
    const gw::CarryRecord& c = stopped.carry[0];
    CHECK(c.end == k_t0 + minutes{5});
    CHECK(c.samples == 120);
    CHECK(c.held_ms == 120'000);  // the last sample holds until the stop
    CHECK(c.p_ws == doctest::Approx(1000.0 * 120'000));
    REQUIRE(c.start_at.has_value());  // the energy reading the interval starts from
    CHECK(*c.start_at == SysMs{k_t0.time_since_epoch()});
    CHECK(*c.e_import_wh == 5000.0);

    Script after(meter());
    after.agg.seed(c);
    for (int i = 125; i < 300; ++i) after.at(seconds{i}, 4000.0, 230.0, 0.0, 6000.0 + i, 100.0);
    after.until(seconds{302});
    const auto& r = after.only();
    CHECK(r.samples == 120 + 175);
    CHECK(r.coverage == doctest::Approx((120.0 + 175.0) / 300.0));
    CHECK(r.quality == gw::Quality::gemeten);
    CHECK(*r.p_w == doctest::Approx((1000.0 * 120 + 4000.0 * 175) / 295));
    REQUIRE(after.closed[0].energy.has_value());  // the end reading of the second run
    CHECK(*after.closed[0].energy->e_import_wh == 6299.0);
}

TEST_CASE("a stop after an interval's end commits that interval as it is") {
    Script s(meter());
    for (int i = 0; i < 300; ++i) s.at(seconds{i}, 1000.0);
    auto stopped = s.agg.stop(SysMs{k_t0.time_since_epoch()} +
                              milliseconds{300'200});  // within the close grace
    REQUIRE(stopped.closed.size() == 1);
    CHECK(stopped.closed[0].record.end == k_t0 + minutes{5});
    CHECK(stopped.closed[0].record.quality == gw::Quality::gemeten);
    CHECK(stopped.carry.empty());  // 0.2 s of the next interval hold no sample of their own
}

TEST_CASE("a state carried from an interval whose end has passed is closed as it is") {
    Script before(meter());
    for (int i = 0; i < 60; ++i) before.at(seconds{i}, 2000.0);
    auto stopped = before.agg.stop(SysMs{k_t0.time_since_epoch()} + seconds{60});
    REQUIRE(stopped.carry.size() == 1);
    Script after(meter());
    after.clock.advance(minutes{10});  // restarted two intervals later
    after.agg.seed(stopped.carry[0]);
    after.close();
    const auto& r = after.only();
    CHECK(r.end == k_t0 + minutes{5});
    CHECK(r.samples == 60);
    CHECK(r.quality == gw::Quality::onvolledig);
    CHECK(*r.p_w == doctest::Approx(2000.0));
    CHECK_FALSE(after.closed[0].energy.has_value());
}

TEST_CASE("after a restart, samples in intervals stored by the earlier run are dropped") {
    Script s(meter());
    s.agg.resume_after(k_t0 + minutes{5});
    s.agg.seed(gw::CarryRecord{*gw::Ean18::parse("871685900000000035"),
                               k_t0 + minutes{5}});  // ignored: stored
    for (int i = 0; i < 310; ++i) s.at(seconds{i}, 1000.0);
    s.until(seconds{700});
    REQUIRE(s.closed.size() == 1);
    CHECK(s.closed[0].record.end == k_t0 + minutes{10});
    CHECK(s.agg.dropped_samples() == 300);
}
