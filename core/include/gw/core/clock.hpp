// The injectable clock: wall time (UTC) for stamps, steady time for pacing.
#pragma once

#include <atomic>

#include "gw/core/time.hpp"

namespace gw {

/// Source of time for every module. Implementations are thread-safe.
class Clock {
public:
    virtual ~Clock() = default;
    /// Wall-clock UTC; may jump (NTP, manual set). Use it only to stamp.
    virtual SysMs utc_now() const = 0;
    /// Monotonic time; use it to schedule and measure.
    virtual SteadyMs steady_now() const = 0;
};

/// The real clocks of the system.
class SystemClock final : public Clock {
public:
    SysMs utc_now() const override;
    SteadyMs steady_now() const override;
};

/// A clock that tests move by hand. `advance` moves both clocks; `jump_utc` moves
/// only the wall clock (an NTP step or a wrong RTC), as happens on real devices.
class ManualClock final : public Clock {
public:
    explicit ManualClock(SysMs utc_start, SteadyMs steady_start = SteadyMs{});
    SysMs utc_now() const override { return SysMs{std::chrono::milliseconds{utc_ms_.load()}}; }
    SteadyMs steady_now() const override { return SteadyMs{std::chrono::milliseconds{steady_ms_.load()}}; }
    void advance(std::chrono::milliseconds d);
    void jump_utc(std::chrono::milliseconds d);

private:
    std::atomic<long long> utc_ms_;
    std::atomic<long long> steady_ms_;
};

}  // namespace gw
