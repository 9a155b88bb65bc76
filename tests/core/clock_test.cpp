// The manual clock used by every time-dependent test.
#include <doctest/doctest.h>

#include "gw/core/clock.hpp"

using namespace std::chrono;

TEST_CASE("manual clock: advance moves both clocks, jump_utc only the wall clock") {
    gw::ManualClock c(gw::SysMs{milliseconds{1'000'000}});
    const auto s0 = c.steady_now();
    c.advance(milliseconds{1500});
    CHECK(c.utc_now().time_since_epoch().count() == 1'001'500);
    CHECK(c.steady_now() - s0 == milliseconds{1500});
    c.jump_utc(-hours{1});
    CHECK(c.utc_now().time_since_epoch().count() == 1'001'500 - 3'600'000);
    CHECK(c.steady_now() - s0 == milliseconds{1500});
}

TEST_CASE("system clock is UTC and steady clock does not go back") {
    gw::SystemClock c;
    const auto a = c.steady_now();
    const auto b = c.steady_now();
    CHECK(b >= a);
    const auto diff = c.utc_now() - time_point_cast<milliseconds>(system_clock::now());
    CHECK(std::llabs(diff.count()) < 1000);
}
