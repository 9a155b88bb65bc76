// The list of built-in profiles.
#include "gw/drivers/profile.hpp"

namespace gw {

MeterProfile profile_from_table(const ProfileInfo& info, std::initializer_list<RegisterRow> rows) {
    MeterProfile p{info.name, info.make, info.model, info.source, info.notes, {}};
    for (const RegisterRow& r : rows)
        p.map[r.reg] = RegisterSpec{r.address,      r.type,  r.function,        r.word_order,
                                    ByteOrder::big, r.scale, r.all_ones_invalid};
    return p;
}

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
