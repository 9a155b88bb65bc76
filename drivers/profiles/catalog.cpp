// The list of built-in profiles.
#include "gw/drivers/profile.hpp"

#include <algorithm>

namespace gw {

bool Signature::matches(const std::vector<std::uint16_t>& words) const {
    if (text.empty())
        return words.size() == 1 && std::find(codes.begin(), codes.end(), words[0]) != codes.end();
    if (words.size() < count()) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::uint16_t w = words[i / 2];
        const auto c = static_cast<char>(i % 2 == 0 ? w >> 8 : w & 0xFF);
        if (c != text[i]) return false;
    }
    return true;
}

std::vector<std::uint16_t> Signature::words() const {
    if (text.empty()) return {codes.empty() ? std::uint16_t{0} : codes.front()};
    std::vector<std::uint16_t> out(count(), 0);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<std::uint8_t>(text[i]);
        out[i / 2] = static_cast<std::uint16_t>(out[i / 2] | (i % 2 == 0 ? c << 8 : c));
    }
    return out;
}

MeterProfile profile_from_table(const ProfileInfo& info, std::initializer_list<RegisterRow> rows,
                                std::vector<Signature> signature) {
    MeterProfile p{info.name,  info.make, info.model,          info.source,
                   info.notes, {},        std::move(signature)};
    for (const RegisterRow& r : rows)
        p.map[r.reg] = RegisterSpec{r.address,      r.type,  r.function,        r.word_order,
                                    ByteOrder::big, r.scale, r.all_ones_invalid};
    return p;
}

const std::vector<MeterProfile>& builtin_profiles() {
    static const std::vector<MeterProfile> all{
        profiles::eastron_sdm630(),    profiles::janitza_umg96rm(),
        profiles::siemens_pac3200(),   profiles::carlo_gavazzi_em24(),
        profiles::schneider_pm5300(),  profiles::abb_m4m(),
        profiles::eastron_sdm72d(),    profiles::carlo_gavazzi_em340(),
        profiles::schneider_iem3255(), profiles::siemens_pac2200(),
        profiles::abb_b23(),           profiles::lovato_dmg()};
    return all;
}

const MeterProfile* find_profile(std::string_view name) {
    for (const auto& p : builtin_profiles())
        if (p.name == name) return &p;
    return nullptr;
}

}  // namespace gw
