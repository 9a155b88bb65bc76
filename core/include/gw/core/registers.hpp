// The register vocabulary shared by config, meter profiles and the read planner.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gw {

/// Named quantities a meter's register map may provide (SPEC 7.1 "custom register names").
/// Canonical units after scaling: W, var, V, Wh, varh.
enum class Reg : std::uint8_t {
    p_l1,
    p_l2,
    p_l3,
    p_total,
    q_l1,
    q_l2,
    q_l3,
    q_total,
    u_l1n,
    u_l2n,
    u_l3n,
    u_l12,
    u_l23,
    u_l31,
    e_import,
    e_export,
    eq_import,
    eq_export,
    count_
};
inline constexpr std::size_t k_reg_count = static_cast<std::size_t>(Reg::count_);

enum class DataType : std::uint8_t {
    int16,
    uint16,
    int32,
    uint32,
    int64,
    uint64,
    float32,
    float64
};
enum class RegFunction : std::uint8_t { holding, input };
/// Order of the 16-bit words of a multi-register value: big = most significant word first.
enum class WordOrder : std::uint8_t { big, little };
/// Order of the two bytes inside each register: big is the Modbus standard; little = swapped.
enum class ByteOrder : std::uint8_t { big, little };

struct RegisterSpec {
    std::uint16_t address = 0;  ///< 0-based protocol address, as sent on the wire
    DataType type = DataType::float32;
    RegFunction function = RegFunction::holding;
    WordOrder word_order = WordOrder::big;
    ByteOrder byte_order = ByteOrder::big;
    double scale = 1.0;  ///< raw value * scale = canonical unit
    /// Unsigned types: an all-ones raw value (0xFFFF, 0xFFFFFFFF, ...) means "not available".
    bool all_ones_invalid = false;

    friend bool operator==(const RegisterSpec&, const RegisterSpec&) = default;
};

/// A meter's register map: which named quantities it has and where.
struct RegisterMap {
    std::array<std::optional<RegisterSpec>, k_reg_count> regs{};

    friend bool operator==(const RegisterMap&, const RegisterMap&) = default;

    bool has(Reg r) const { return regs[static_cast<std::size_t>(r)].has_value(); }
    const std::optional<RegisterSpec>& operator[](Reg r) const {
        return regs[static_cast<std::size_t>(r)];
    }
    std::optional<RegisterSpec>& operator[](Reg r) { return regs[static_cast<std::size_t>(r)]; }
    bool has_all(std::initializer_list<Reg> rs) const {
        for (Reg r : rs)
            if (!has(r)) return false;
        return true;
    }
    bool has_phase_to_neutral() const { return has_all({Reg::u_l1n, Reg::u_l2n, Reg::u_l3n}); }
    bool has_phase_to_phase() const { return has_all({Reg::u_l12, Reg::u_l23, Reg::u_l31}); }
    bool has_active_power() const {
        return has(Reg::p_total) || has_all({Reg::p_l1, Reg::p_l2, Reg::p_l3});
    }
    bool has_reactive_power() const {
        return has(Reg::q_total) || has_all({Reg::q_l1, Reg::q_l2, Reg::q_l3});
    }
    bool has_active_energy() const { return has_all({Reg::e_import, Reg::e_export}); }
};

std::string_view reg_name(Reg r);
std::optional<Reg> reg_from_name(std::string_view name);
std::string_view data_type_name(DataType t);
std::optional<DataType> data_type_from_name(std::string_view name);
/// Number of 16-bit registers a value of this type occupies.
unsigned register_count(DataType t);

}  // namespace gw
