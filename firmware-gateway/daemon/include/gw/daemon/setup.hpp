// Start-up helpers shared by meter-gateway and gatewayctl: config with built-in profiles, version.
#pragma once

#include <string>

#include "gw/core/config.hpp"

namespace gw {

/// The program version ("0.1.0").
std::string version();

/// Loads and validates the configuration, resolving built-in meter profiles from the drivers.
ConfigResult load_gateway_config(const std::string& path);

/// Prints every diagnostic on stderr, one per line, prefixed with `severity`.
void print_diagnostics(const std::vector<Diagnostic>& diags, const char* severity);

}  // namespace gw
