// gatewayctl's field commands: read, scan and check. They talk to the meters themselves, over the
// links of the configuration; on an RS-485 line that the running gateway holds they refuse with
// a clear message (one master per line; see ModbusLink).
#pragma once

#include <string>
#include <vector>

#include "gw/core/config.hpp"

namespace gw::field {

/// Thrown for a wrong command line (exit 64).
struct Usage : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// gatewayctl read --meter EAN | --link ID --unit N --profile P: one read, every register.
int read_cmd(const Config& cfg, const std::vector<std::string>& args);
/// gatewayctl scan --link ID [--units 1-247] [--timeout-ms N]: which unit ids answer.
int scan_cmd(const Config& cfg, const std::vector<std::string>& args);
/// gatewayctl check: the link and sign checks over one read of every meter.
int check_cmd(const Config& cfg, const std::vector<std::string>& args);

}  // namespace gw::field
