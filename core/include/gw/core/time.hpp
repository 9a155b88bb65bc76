// UTC time points, end-stamped interval arithmetic and ISO 8601 text.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/core/error.hpp"

namespace gw {

using SysMs = std::chrono::sys_time<std::chrono::milliseconds>;
using SysS = std::chrono::sys_seconds;
using SteadyMs = std::chrono::time_point<std::chrono::steady_clock, std::chrono::milliseconds>;

/// True when `seconds` is a positive divisor of 3600 (so intervals align to every hour).
bool valid_interval_s(std::int64_t seconds);

/// The grid of end-stamped UTC intervals of one length. An interval stamped `end` covers
/// [end - length, end). Works for times before 1970 too (floor division).
class IntervalGrid {
  public:
    /// Precondition: valid_interval_s(length_s).
    explicit IntervalGrid(std::int64_t length_s);

    std::chrono::seconds length() const { return length_; }
    /// End stamp of the interval that contains `t`; a time exactly on a boundary
    /// belongs to the interval that starts there.
    SysS end_of(SysMs t) const;
    SysS start_of_end(SysS end) const { return end - length_; }
    /// True when `t` lies on the grid (a possible end stamp).
    bool aligned(SysS t) const;

  private:
    std::chrono::seconds length_;
};

/// "2026-11-23T11:55:00Z" (seconds resolution).
std::string format_utc(SysS t);
/// "2026-11-23T11:55:00.123Z".
std::string format_utc_ms(SysMs t);
/// "2026-11-23" and "11:55:00" of a UTC time (the API's datum and tijd).
std::string format_date(SysS t);
std::string format_time_of_day(SysS t);

/// Parses an ISO 8601 date-time that carries `Z` or an explicit offset (+01:00, +0100);
/// fractions of a second are accepted and truncated to milliseconds. A naive time
/// (no zone) is an error, because its meaning is ambiguous.
Result<SysMs> parse_utc(std::string_view text);

}  // namespace gw
