// Interval grid arithmetic and ISO 8601 text.
#include <doctest/doctest.h>

#include "gw/core/time.hpp"

using namespace std::chrono;
using gw::IntervalGrid;
using gw::SysMs;
using gw::SysS;

namespace {
SysMs at(const char* text) {
    auto t = gw::parse_utc(text);
    REQUIRE_MESSAGE(t.ok(), text);
    return *t;
}
SysS at_s(const char* text) {
    return time_point_cast<seconds>(at(text));
}
}  // namespace

TEST_CASE("valid interval lengths divide an hour") {
    for (int s : {1, 2, 5, 10, 15, 60, 300, 600, 900, 1800, 3600}) CHECK(gw::valid_interval_s(s));
    for (int s : {0, -300, 7, 7200, 301, 11, 3599}) CHECK_FALSE(gw::valid_interval_s(s));
}

TEST_CASE("a time belongs to the interval stamped with the next boundary") {
    IntervalGrid g(300);
    CHECK(g.end_of(at("2026-11-23T11:50:00Z")) ==
          at_s("2026-11-23T11:55:00Z"));  // a start belongs to its interval
    CHECK(g.end_of(at("2026-11-23T11:54:59.999Z")) == at_s("2026-11-23T11:55:00Z"));
    CHECK(g.end_of(at("2026-11-23T11:55:00Z")) == at_s("2026-11-23T12:00:00Z"));
    CHECK(g.end_of(at("2026-11-23T11:52:31.5Z")) == at_s("2026-11-23T11:55:00Z"));
    CHECK(g.start_of_end(at_s("2026-11-23T11:55:00Z")) == at_s("2026-11-23T11:50:00Z"));
}

TEST_CASE("intervals cross day, month and year boundaries") {
    IntervalGrid g(300);
    CHECK(g.end_of(at("2026-12-31T23:57:13Z")) == at_s("2027-01-01T00:00:00Z"));
    CHECK(g.end_of(at("2027-01-01T00:00:00Z")) == at_s("2027-01-01T00:05:00Z"));
    CHECK(g.end_of(at("2028-02-28T23:59:59Z")) == at_s("2028-02-29T00:00:00Z"));  // leap day
    CHECK(g.end_of(at("2026-11-30T23:55:00.001Z")) == at_s("2026-12-01T00:00:00Z"));
    CHECK(gw::format_utc(g.end_of(at("2026-12-31T23:59:59.999Z"))) == "2027-01-01T00:00:00Z");
}

TEST_CASE("short demo intervals and one-hour intervals") {
    CHECK(IntervalGrid(10).end_of(at("2026-11-23T11:55:09.999Z")) == at_s("2026-11-23T11:55:10Z"));
    CHECK(IntervalGrid(3600).end_of(at("2026-11-23T11:00:00Z")) == at_s("2026-11-23T12:00:00Z"));
    CHECK(IntervalGrid(900).aligned(at_s("2026-11-23T11:45:00Z")));
    CHECK_FALSE(IntervalGrid(900).aligned(at_s("2026-11-23T11:50:00Z")));
}

TEST_CASE("a clock that booted in 1969 still gets a floor, not a truncation") {
    IntervalGrid g(300);
    CHECK(g.end_of(SysMs{milliseconds{-1}}) == SysS{seconds{0}});
    CHECK(g.end_of(SysMs{milliseconds{-300'000}}) == SysS{seconds{0}});
    CHECK(g.end_of(SysMs{milliseconds{-300'001}}) == SysS{seconds{-300}});
}

TEST_CASE("UTC formatting") {
    const SysS t = at_s("2026-11-23T11:55:00Z");
    CHECK(gw::format_utc(t) == "2026-11-23T11:55:00Z");
    CHECK(gw::format_date(t) == "2026-11-23");
    CHECK(gw::format_time_of_day(t) == "11:55:00");
    CHECK(gw::format_utc_ms(at("2026-11-23T11:55:00.042Z")) == "2026-11-23T11:55:00.042Z");
}

TEST_CASE("ISO 8601 parsing with zones") {
    CHECK(at("2026-11-23T12:55:00+01:00") == at("2026-11-23T11:55:00Z"));
    CHECK(at("2026-11-23T12:55:00+0100") == at("2026-11-23T11:55:00Z"));
    CHECK(at("2026-11-23T06:25:00-05:30") == at("2026-11-23T11:55:00Z"));
    CHECK(at("2026-11-23T11:55Z") == at("2026-11-23T11:55:00Z"));
    CHECK(at("2026-11-23T11:55:00.5Z").time_since_epoch().count() % 1000 == 500);
    CHECK(at("2026-11-23T11:55:00.123456Z").time_since_epoch().count() % 1000 == 123);
    CHECK(at("2026-11-24T00:30:00+01:00") == at("2026-11-23T23:30:00Z"));  // the date changes too
}

TEST_CASE("naive and malformed times are refused with a reason") {
    auto naive = gw::parse_utc("2026-11-23T11:55:00");
    REQUIRE_FALSE(naive.ok());
    CHECK(naive.error().message.find("no zone") != std::string::npos);
    for (const char* bad :
         {"", "yesterday", "2026-11-23", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
          "2026-11-23T24:00:00Z", "2026-11-23T11:60:00Z", "2026-11-23T11:55:00+25:00",
          "2026-11-23T11:55:00ZZ", "2026-11-23T11:55:00.Z", "2026-11-23T11:55:00 Z", "1700000000",
          "2026-11-23T11:55:00+1"}) {
        CAPTURE(bad);
        CHECK_FALSE(gw::parse_utc(bad).ok());
    }
}
