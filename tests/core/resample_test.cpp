// 15- and 60-minute buckets from 5-minute intervals: means of the unrounded parts, the worst
// quality, a missing part makes a bucket onvolledig, only whole buckets inside the window.
#include <doctest/doctest.h>

#include "gw/core/resample.hpp"

using namespace std::chrono;

namespace {

const gw::SysS k_t0{seconds{1'795'435'200}};  // 2026-11-23T12:00:00Z, on the hour

gw::IntervalRecord part(int i, double p, gw::Quality q = gw::Quality::gemeten) {
    gw::IntervalRecord r{*gw::Ean18::parse("871685900000000035"), k_t0 + minutes{5 * i}};
    r.p_w = p;
    r.q_var = 10.0 * i;
    r.u1_v = r.u2_v = r.u3_v = 230.0 + i;
    r.quality = q;
    return r;
}

}  // namespace

TEST_CASE("quarter hours are the means of their three parts, stamped by their end") {
    const std::vector<gw::IntervalRecord> rows{part(1, -1000.4), part(2, -2000.4), part(3, -3000.4),
                                               part(4, 100.0),   part(5, 200.0),   part(6, 300.0)};
    const auto b =
        gw::resample(rows, 300, 900, gw::SysMs{k_t0.time_since_epoch()}, k_t0 + hours{1});
    REQUIRE(b.size() == 2);
    CHECK(b[0].end == k_t0 + minutes{15});
    CHECK(*b[0].values[0] == doctest::Approx(-2000.4));  // unrounded parts, one mean
    CHECK(*b[0].values[1] == doctest::Approx(20.0));
    CHECK(*b[0].values[2] == doctest::Approx(232.0));
    CHECK(b[0].quality == gw::Quality::gemeten);
    CHECK(b[0].parts == 3);
    CHECK(b[1].end == k_t0 + minutes{30});
}

TEST_CASE("a bucket takes the worst quality of its parts, and a missing part makes it onvolledig") {
    const std::vector<gw::IntervalRecord> rows{part(1, 1), part(2, 2, gw::Quality::onvolledig),
                                               part(3, 3), part(4, 4), part(6, 6)};
    const auto b =
        gw::resample(rows, 300, 900, gw::SysMs{k_t0.time_since_epoch()}, k_t0 + hours{1});
    REQUIRE(b.size() == 2);
    CHECK(b[0].quality == gw::Quality::onvolledig);
    CHECK(b[1].quality == gw::Quality::onvolledig);
    CHECK(b[1].parts == 2);
    CHECK(*b[1].values[0] == doctest::Approx(5.0));
}

TEST_CASE("only buckets wholly inside the window are made, and a value no part has stays empty") {
    std::vector<gw::IntervalRecord> rows;
    for (int i = 1; i <= 12; ++i) rows.push_back(part(i, i));
    rows[4].q_var.reset();
    rows[5].q_var.reset();
    rows[3].q_var.reset();
    // From 12:05: the first quarter (12:00-12:15) is not wholly inside; to 12:50: nor is the last.
    const auto b = gw::resample(rows, 300, 900, gw::SysMs{(k_t0 + minutes{5}).time_since_epoch()},
                                k_t0 + minutes{50});
    REQUIRE(b.size() == 2);
    CHECK(b[0].end == k_t0 + minutes{30});
    CHECK_FALSE(b[0].values[1].has_value());  // parts 4..6 have no reactive power
    CHECK(b[1].end == k_t0 + minutes{45});
    const auto hour =
        gw::resample(rows, 300, 3600, gw::SysMs{k_t0.time_since_epoch()}, k_t0 + hours{1});
    REQUIRE(hour.size() == 1);
    CHECK(hour[0].parts == 12);
    CHECK(*hour[0].values[0] == doctest::Approx(6.5));
}
