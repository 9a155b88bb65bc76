// Interval grid and ISO 8601 formatting/parsing without locale or TZ database.
#include "gw/core/time.hpp"

#include <cstdio>

namespace gw {

using namespace std::chrono;

bool valid_interval_s(std::int64_t s) {
    return s > 0 && s <= 3600 && 3600 % s == 0;
}

IntervalGrid::IntervalGrid(std::int64_t length_s) : length_(length_s) {}

SysS IntervalGrid::end_of(SysMs t) const {
    const auto len_ms = duration_cast<milliseconds>(length_).count();
    const auto ms = t.time_since_epoch().count();
    auto q = ms / len_ms;
    if (ms % len_ms < 0) --q;  // floor for times before the epoch
    return SysS{seconds{(q + 1) * length_.count()}};
}

bool IntervalGrid::aligned(SysS t) const {
    return t.time_since_epoch().count() % length_.count() == 0;
}

namespace {

struct Civil {
    int y;
    unsigned mo, d, h, mi, s, ms;
};

Civil civil(SysMs t) {
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{t - day};
    return {int(ymd.year()),
            unsigned(ymd.month()),
            unsigned(ymd.day()),
            unsigned(hms.hours().count()),
            unsigned(hms.minutes().count()),
            unsigned(hms.seconds().count()),
            unsigned(hms.subseconds().count())};
}

}  // namespace

std::string format_date(SysS t) {
    const Civil c = civil(t);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.y, c.mo, c.d);
    return buf;
}

std::string format_time_of_day(SysS t) {
    const Civil c = civil(t);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02u:%02u:%02u", c.h, c.mi, c.s);
    return buf;
}

std::string format_utc(SysS t) {
    return format_date(t) + "T" + format_time_of_day(t) + "Z";
}

std::string format_utc_ms(SysMs t) {
    const Civil c = civil(t);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", c.y, c.mo, c.d, c.h, c.mi,
                  c.s, c.ms);
    return buf;
}

namespace {

class Cursor {
  public:
    explicit Cursor(std::string_view s) : s_(s) {}
    bool digits(std::size_t n, int& out) {
        if (pos_ + n > s_.size()) return false;
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = s_[pos_ + i];
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        pos_ += n;
        out = v;
        return true;
    }
    bool lit(char c) {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool at_end() const { return pos_ == s_.size(); }
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    void skip() { ++pos_; }

  private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

Error bad_time(std::string_view why) {
    return make_error(Errc::invalid_argument,
                      std::string(why) + " (expected ISO 8601 like 2026-11-23T11:55:00Z)");
}

}  // namespace

Result<SysMs> parse_utc(std::string_view text) {
    Cursor c(text);
    int y, mo, d, h, mi, s = 0;
    if (!c.digits(4, y) || !c.lit('-') || !c.digits(2, mo) || !c.lit('-') || !c.digits(2, d))
        return bad_time("not a date-time");
    if (!(c.lit('T') || c.lit('t') || c.lit(' ')))
        return bad_time("missing 'T' between date and time");
    if (!c.digits(2, h) || !c.lit(':') || !c.digits(2, mi)) return bad_time("not a time of day");
    if (c.lit(':') && !c.digits(2, s)) return bad_time("bad seconds");
    int ms = 0;
    if (c.lit('.') || c.lit(',')) {
        int n = 0;
        while (c.peek() >= '0' && c.peek() <= '9') {
            if (n < 3) ms = ms * 10 + (c.peek() - '0');
            ++n;
            c.skip();
        }
        if (n == 0) return bad_time("empty fraction of a second");
        for (int i = n; i < 3; ++i) ms *= 10;
    }
    const year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
    if (!ymd.ok()) return bad_time("no such calendar date");
    if (h > 23 || mi > 59 || s > 59) return bad_time("time of day out of range");

    int offset_min = 0;
    if (c.lit('Z') || c.lit('z')) {
    } else if (c.peek() == '+' || c.peek() == '-') {
        const int sign = c.peek() == '-' ? -1 : 1;
        c.skip();
        int oh, om;
        if (!c.digits(2, oh)) return bad_time("bad UTC offset");
        c.lit(':');
        if (!c.digits(2, om)) return bad_time("bad UTC offset");
        if (oh > 23 || om > 59) return bad_time("UTC offset out of range");
        offset_min = sign * (oh * 60 + om);
    } else if (c.at_end()) {
        return bad_time("time has no zone: add Z or an offset such as +01:00");
    } else {
        return bad_time("unexpected characters after the time");
    }
    if (!c.at_end()) return bad_time("unexpected characters after the zone");

    const SysMs local = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
    return SysMs{local - minutes{offset_min}};
}

}  // namespace gw
