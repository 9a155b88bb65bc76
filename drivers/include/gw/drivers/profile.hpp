// Built-in meter profiles: a named register map per meter family, with its published source.
#pragma once

#include <string_view>
#include <vector>

#include "gw/core/registers.hpp"

namespace gw {

struct MeterProfile {
    std::string_view name;  ///< the config's `profile = "..."`
    std::string_view make;
    std::string_view model;
    std::string_view source;  ///< the manufacturer's table the addresses come from
    std::string_view notes;   ///< what an installer must know (tariffs, wiring modes)
    RegisterMap map;
};

/// Every built-in profile, in a stable order.
const std::vector<MeterProfile>& builtin_profiles();
/// The profile of that name, or nullptr.
const MeterProfile* find_profile(std::string_view name);

namespace profiles {
// One function per family, each in its own file under drivers/profiles/.
MeterProfile eastron_sdm630();
MeterProfile janitza_umg96rm();
MeterProfile siemens_pac3200();
MeterProfile carlo_gavazzi_em24();
MeterProfile schneider_pm5300();
MeterProfile abb_m4m();

/// Shorthand for profile tables.
constexpr RegisterSpec reg(std::uint16_t address, DataType type, RegFunction fn, double scale = 1.0,
                           WordOrder wo = WordOrder::big, bool all_ones_invalid = false) {
    return RegisterSpec{address, type, fn, wo, ByteOrder::big, scale, all_ones_invalid};
}
}  // namespace profiles

}  // namespace gw
