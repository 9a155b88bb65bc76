// System and manual clocks.
#include "gw/core/clock.hpp"

#include <sys/timex.h>

namespace gw {

using namespace std::chrono;

SysMs SystemClock::utc_now() const {
    return time_point_cast<milliseconds>(system_clock::now());
}
SteadyMs SystemClock::steady_now() const {
    return time_point_cast<milliseconds>(steady_clock::now());
}

bool SystemClock::synchronised() const {
    timex tx{};
    const int state = ::adjtimex(&tx);
    return state != -1 && state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}

ManualClock::ManualClock(SysMs utc_start, SteadyMs steady_start)
    : utc_ms_(utc_start.time_since_epoch().count()),
      steady_ms_(steady_start.time_since_epoch().count()) {}

void ManualClock::advance(milliseconds d) {
    utc_ms_ += d.count();
    steady_ms_ += d.count();
}

void ManualClock::jump_utc(milliseconds d) {
    utc_ms_ += d.count();
}

}  // namespace gw
