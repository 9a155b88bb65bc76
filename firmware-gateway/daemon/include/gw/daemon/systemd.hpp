// systemd's notify protocol (READY, WATCHDOG, STATUS) without libsystemd: one datagram each.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace gw::systemd {

/// Sends `state` (e.g. "READY=1") to $NOTIFY_SOCKET; false when not run by systemd.
bool notify(const std::string& state);
/// The watchdog period systemd expects pings within ($WATCHDOG_USEC), if it set one for us.
std::optional<std::chrono::microseconds> watchdog_period();

}  // namespace gw::systemd
