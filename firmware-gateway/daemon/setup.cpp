// Start-up helpers.
#include "gw/daemon/setup.hpp"

#include <iostream>

#include "gw/drivers/profile.hpp"

namespace gw {

std::string version() {
    return GW_VERSION;
}

ConfigResult load_gateway_config(const std::string& path) {
    return load_config(path, [](std::string_view name) -> const RegisterMap* {
        const MeterProfile* p = find_profile(name);
        return p ? &p->map : nullptr;
    });
}

void print_diagnostics(const std::vector<Diagnostic>& diags, const char* severity) {
    for (const auto& d : diags) std::cerr << severity << ": " << d.str() << '\n';
}

}  // namespace gw
