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

/// One row of a meter's register table: which quantity, where, and how to read it.
struct RegisterRow {
    Reg reg;
    std::uint16_t address;  ///< the wire address (0-based, as in the request)
    DataType type;
    RegFunction function;
    double scale = 1.0;  ///< raw value x scale = canonical unit (W, var, V, Wh, varh)
    WordOrder word_order = WordOrder::big;
    bool all_ones_invalid = false;  ///< unsigned types: all ones means "not available"
};

/// Who the profile is for, and where its addresses come from.
struct ProfileInfo {
    std::string_view name;
    std::string_view make;
    std::string_view model;
    std::string_view source;
    std::string_view notes;
};

/// A profile from its register table.
MeterProfile profile_from_table(const ProfileInfo& info, std::initializer_list<RegisterRow> rows);

namespace profiles {
// One function per family, each in its own file under drivers/profiles/: the table and its source.
MeterProfile eastron_sdm630();
MeterProfile janitza_umg96rm();
MeterProfile siemens_pac3200();
MeterProfile carlo_gavazzi_em24();
MeterProfile schneider_pm5300();
MeterProfile abb_m4m();
}  // namespace profiles

}  // namespace gw
