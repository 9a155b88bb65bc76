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
    /// Whether the wall clock is known to be right (NTP-synchronised). Until it is, samples
    /// are not turned into stamped intervals.
    virtual bool synchronised() const = 0;
};

/// The real clocks of the system.
class SystemClock final : public Clock {
  public:
    SysMs utc_now() const override;
    SteadyMs steady_now() const override;
    /// The kernel's view: adjtimex reports no error and no STA_UNSYNC.
    bool synchronised() const override;
};

/// A clock that tests move by hand. `advance` moves both clocks; `jump_utc` moves
/// only the wall clock (an NTP step or a wrong RTC), as happens on real devices.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(SysMs utc_start, SteadyMs steady_start = SteadyMs{});
    SysMs utc_now() const override { return SysMs{std::chrono::milliseconds{utc_ms_.load()}}; }
    SteadyMs steady_now() const override {
        return SteadyMs{std::chrono::milliseconds{steady_ms_.load()}};
    }
    bool synchronised() const override { return synchronised_.load(); }
    void advance(std::chrono::milliseconds d);
    void jump_utc(std::chrono::milliseconds d);
    void set_synchronised(bool s) { synchronised_ = s; }

  private:
    std::atomic<long long> utc_ms_;
    std::atomic<long long> steady_ms_;
    std::atomic<bool> synchronised_{true};
};

}  // namespace gw
