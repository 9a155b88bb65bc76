// Register words <-> values: data types, word and byte order, scale, "not available" sentinels.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "gw/core/error.hpp"
#include "gw/core/registers.hpp"

namespace gw {

/// Decodes the register_count(spec.type) words of one value into its canonical unit.
/// Errors: value_not_available (a sentinel such as 0x8000 for int16, 0x7FFFFFFF for int32,
/// all ones for unsigned types where the spec says so), value_not_finite (NaN, infinity).
/// Precondition: words.size() == register_count(spec.type).
Result<double> decode_value(const RegisterSpec& spec, std::span<const std::uint16_t> words);

/// The inverse, for the simulator: the words that decode to (approximately) `value`.
/// Integer types round to the nearest step and saturate short of the sentinels.
std::vector<std::uint16_t> encode_value(const RegisterSpec& spec, double value);

/// The raw words of a sentinel or special value, for fault injection in the simulator.
enum class SpecialValue { nan, infinity, not_available, all_ones };
std::vector<std::uint16_t> encode_special(const RegisterSpec& spec, SpecialValue which);

}  // namespace gw
