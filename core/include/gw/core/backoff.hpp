// A capped exponential backoff: the delays between attempts after failures.
#pragma once

#include <algorithm>
#include <chrono>

namespace gw {

/// `first`, then doubling after each failure, never more than `cap`; reset() after a success.
/// A pure value: the caller schedules the attempts on its own clock.
class Backoff {
  public:
    Backoff(std::chrono::milliseconds first, std::chrono::milliseconds cap)
        : first_(first), cap_(cap) {}

    /// Counts a failure and returns how long to wait before the next attempt.
    std::chrono::milliseconds fail() {
        const int doublings = std::min(failures_, 20);
        ++failures_;
        const auto d = first_.count() << doublings;
        return std::chrono::milliseconds{std::min<long long>(d, cap_.count())};
    }
    void reset() { failures_ = 0; }
    int failures() const { return failures_; }
    void set_cap(std::chrono::milliseconds cap) { cap_ = cap; }

  private:
    std::chrono::milliseconds first_, cap_;
    int failures_ = 0;
};

}  // namespace gw
