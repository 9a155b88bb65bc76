// The bus poller through its RegisterReader seam, with a scripted link: every read is answered
// as the test says, so errors are classified and counted without a network or a clock.
#include <doctest/doctest.h>

#include <deque>

#include "gw/drivers/bus_poller.hpp"
#include "gw/drivers/decode.hpp"
#include "gw/drivers/profile.hpp"

using namespace std::chrono;

namespace {

/// A link whose reads answer from a register table, or with the next scripted error.
struct ScriptedLink final : gw::RegisterReader {
    gw::LinkConfig cfg;
    std::array<std::uint16_t, 65536> holding{}, input{};
    std::deque<gw::Error> errors;  ///< the next reads fail with these, in order
    bool up = true;
    std::uint64_t reads = 0;

    const gw::LinkConfig& config() const override { return cfg; }
    bool connected() const override { return up; }
    gw::SteadyMs next_attempt() const override { return {}; }
    void close() override { up = false; }
    gw::Status read(int, gw::RegFunction fn, std::uint16_t start, std::uint16_t count,
                    std::uint16_t* out, gw::SteadyMs) override {
        ++reads;
        if (!errors.empty()) {
            gw::Error e = errors.front();
            errors.pop_front();
            if (e.code == gw::Errc::modbus_connect) up = false;
            return e;
        }
        up = true;
        const auto& table = fn == gw::RegFunction::holding ? holding : input;
        for (std::uint16_t i = 0; i < count; ++i)
            out[i] = table[static_cast<std::size_t>(start + i)];
        return {};
    }
    std::uint64_t requests() const override { return reads; }
    std::uint64_t wire_bytes() const override { return 0; }

    /// Serves `value` in register `r` of `map`, as the meter would.
    void serve(const gw::RegisterMap& map, gw::Reg r, double value) {
        const auto& spec = *map[r];
        auto& table = spec.function == gw::RegFunction::holding ? holding : input;
        const auto words = gw::encode_value(spec, value);
        for (std::size_t i = 0; i < words.size(); ++i) table[spec.address + i] = words[i];
    }
};

gw::MeterConfig meter() {
    gw::MeterConfig m;
    m.meter_ean = *gw::Ean18::parse("871685900000000035");
    m.profile = "eastron-sdm630";
    m.registers = gw::find_profile("eastron-sdm630")->map;
    m.unit_id = 7;
    return m;
}

struct Rig {
    gw::ManualClock clock{gw::SysMs{seconds{1'795'435'200}}};
    ScriptedLink* link;
    std::unique_ptr<gw::BusPoller> poller;
    explicit Rig(gw::MeterConfig m = meter()) {
        auto l = std::make_unique<ScriptedLink>();
        link = l.get();
        for (gw::Reg r :
             {gw::Reg::p_total, gw::Reg::q_total, gw::Reg::u_l1n, gw::Reg::u_l2n, gw::Reg::u_l3n,
              gw::Reg::e_import, gw::Reg::e_export, gw::Reg::eq_import, gw::Reg::eq_export})
            link->serve(m.registers, r,
                        r == gw::Reg::p_total   ? -48'300.0
                        : r == gw::Reg::q_total ? 5'200.0
                                                : 231.5);
        poller = std::make_unique<gw::BusPoller>(std::move(l), std::vector<gw::MeterConfig>{m},
                                                 clock, [](gw::PollResult&&) {});
    }
};

}  // namespace

TEST_CASE(
    "a poll reads the meter in its planned transactions and builds a sample stamped by the clock") {
    Rig rig;
    const auto r = rig.poller->poll_once(0);
    REQUIRE(r.sample.has_value());
    CHECK(r.sample->p_w == doctest::Approx(-48'300.0));
    CHECK(r.sample->q_var == doctest::Approx(5'200.0));
    CHECK(r.sample->u_v[1] == doctest::Approx(231.5));
    CHECK(r.at == rig.clock.utc_now());
    CHECK(r.transactions == rig.poller->plan(0).transactions());
    CHECK(rig.link->reads == r.transactions);
    CHECK(r.link_up);
    CHECK(r.counters.polls == 1);
    CHECK(r.counters.samples == 1);
}

TEST_CASE(
    "each kind of failure is counted as what it is, and the message names meter, link and unit") {
    Rig rig;
    const std::pair<gw::Errc, std::uint64_t gw::MeterCounters::*> kinds[] = {
        {gw::Errc::modbus_timeout, &gw::MeterCounters::timeouts},
        {gw::Errc::modbus_exception, &gw::MeterCounters::exceptions},
        {gw::Errc::modbus_crc, &gw::MeterCounters::crc_errors},
        {gw::Errc::modbus_bad_reply, &gw::MeterCounters::bad_replies},
        {gw::Errc::modbus_connect, &gw::MeterCounters::link_errors},
    };
    for (const auto& [code, counter] : kinds) {
        rig.link->errors.push_back(gw::make_error(code, "scripted"));
        const auto r = rig.poller->poll_once(0);
        REQUIRE(r.error.has_value());
        CHECK_FALSE(r.sample.has_value());
        CHECK(r.counters.*counter == 1);
        CHECK(r.error->message.find("meter 871685900000000035 (link , unit 7): scripted") !=
              std::string::npos);
    }
    const auto last = rig.poller->poll_once(0);
    CHECK(last.sample.has_value());  // and the next answer is a sample again
    CHECK(last.counters.errors() == 5);
    CHECK(last.counters.polls == 6);
    CHECK(last.counters.samples == 1);
}

TEST_CASE("a sentinel or an implausible value is a counted invalid sample, never data") {
    auto m = meter();
    m.limits.max_abs_power_kw = 40;
    Rig rig(m);
    auto r = rig.poller->poll_once(0);
    REQUIRE(r.error.has_value());
    CHECK(r.error->code == gw::Errc::value_implausible);  // 48.3 kW is beyond the 40 kW limit
    CHECK(r.counters.implausible == 1);
    Rig nan;
    const gw::RegisterSpec spec = *meter().registers[gw::Reg::u_l2n];
    const auto words = gw::encode_special(spec, gw::SpecialValue::nan);
    for (std::size_t i = 0; i < words.size(); ++i) nan.link->input[spec.address + i] = words[i];
    r = nan.poller->poll_once(0);
    REQUIRE(r.error.has_value());
    CHECK(r.error->code == gw::Errc::value_not_finite);
    CHECK(r.counters.not_finite == 1);
}
