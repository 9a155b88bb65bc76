// The list of built-in profiles.
#include "gw/drivers/profile.hpp"

namespace gw {

const std::vector<MeterProfile>& builtin_profiles() {
    static const std::vector<MeterProfile> all{
        profiles::eastron_sdm630(),     profiles::janitza_umg96rm(),  profiles::siemens_pac3200(),
        profiles::carlo_gavazzi_em24(), profiles::schneider_pm5300(), profiles::abb_m4m()};
    return all;
}

const MeterProfile* find_profile(std::string_view name) {
    for (const auto& p : builtin_profiles())
        if (p.name == name) return &p;
    return nullptr;
}

}  // namespace gw
