// Built-in meter profiles: a named register map per meter family, with its published source.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "gw/core/registers.hpp"

namespace gw {

/// A register whose contents identify a meter family: a model code, or a product name. A
/// profile may list several (model variants); a meter matching any of them is of that family.
struct Signature {
    RegFunction function = RegFunction::holding;
    std::uint16_t address = 0;
    std::vector<std::uint16_t> codes;  ///< a uint16 register that reads one of these values
    std::string_view text;  ///< or: ASCII text the registers start with (2 chars a register,
                            ///< high byte first)
    std::string_view what;  ///< e.g. "model code", "meter model string"

    /// Registers to read: 1 for a code, the text's length rounded up for a text.
    std::uint16_t count() const {
        return text.empty() ? 1 : static_cast<std::uint16_t>((text.size() + 1) / 2);
    }
    /// Whether `words` (count() of them, as read) match.
    bool matches(const std::vector<std::uint16_t>& words) const;
    /// What a meter of this family serves there (the first code, or the text): the simulator
    /// plays it.
    std::vector<std::uint16_t> words() const;
};

struct MeterProfile {
    std::string_view name;  ///< the config's `profile = "..."`
    std::string_view make;
    std::string_view model;
    std::string_view source;  ///< the manufacturer's table the addresses come from
    std::string_view notes;   ///< what an installer must know (tariffs, wiring modes)
    RegisterMap map;
    std::vector<Signature> signature;  ///< empty: the family has no identification register
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

/// A profile from its register table and its identification registers.
MeterProfile profile_from_table(const ProfileInfo& info, std::initializer_list<RegisterRow> rows,
                                std::vector<Signature> signature = {});

namespace profiles {
// One function per family, each in its own file under drivers/profiles/: the table and its source.
MeterProfile eastron_sdm630();
MeterProfile janitza_umg96rm();
MeterProfile siemens_pac3200();
MeterProfile carlo_gavazzi_em24();
MeterProfile schneider_pm5300();
MeterProfile abb_m4m();
MeterProfile eastron_sdm72d();
MeterProfile carlo_gavazzi_em340();
MeterProfile schneider_iem3255();
MeterProfile siemens_pac2200();
MeterProfile abb_b23();
MeterProfile lovato_dmg();
}  // namespace profiles

}  // namespace gw
