// Register decoding and encoding.
#include "gw/drivers/decode.hpp"

#include <bit>
#include <cmath>
#include <limits>

namespace gw {
namespace {

std::uint16_t swap_bytes(std::uint16_t w) {
    return static_cast<std::uint16_t>((w << 8) | (w >> 8));
}

/// The value's bits, most significant word first, whatever the meter's order.
std::uint64_t assemble(const RegisterSpec& spec, std::span<const std::uint16_t> words) {
    std::uint64_t bits = 0;
    const std::size_t n = words.size();
    for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t w = words[spec.word_order == WordOrder::big ? i : n - 1 - i];
        if (spec.byte_order == ByteOrder::little) w = swap_bytes(w);
        bits = (bits << 16) | w;
    }
    return bits;
}

std::vector<std::uint16_t> disassemble(const RegisterSpec& spec, std::uint64_t bits) {
    const unsigned n = register_count(spec.type);
    std::vector<std::uint16_t> words(n);
    for (unsigned i = 0; i < n; ++i) {
        std::uint16_t w = static_cast<std::uint16_t>(bits >> (16 * (n - 1 - i)));
        if (spec.byte_order == ByteOrder::little) w = swap_bytes(w);
        words[spec.word_order == WordOrder::big ? i : n - 1 - i] = w;
    }
    return words;
}

Error not_available() {
    return make_error(Errc::value_not_available, "register holds a 'not available' sentinel");
}

}  // namespace

Result<double> decode_value(const RegisterSpec& spec, std::span<const std::uint16_t> words) {
    const std::uint64_t bits = assemble(spec, words);
    double raw = 0;
    switch (spec.type) {
        case DataType::int16: {
            const auto v = static_cast<std::int16_t>(bits);
            if (v == std::numeric_limits<std::int16_t>::max() ||
                v == std::numeric_limits<std::int16_t>::min())
                return not_available();
            raw = v;
            break;
        }
        case DataType::int32: {
            const auto v = static_cast<std::int32_t>(bits);
            if (v == std::numeric_limits<std::int32_t>::max() ||
                v == std::numeric_limits<std::int32_t>::min())
                return not_available();
            raw = v;
            break;
        }
        case DataType::int64: {
            const auto v = static_cast<std::int64_t>(bits);
            if (v == std::numeric_limits<std::int64_t>::max() ||
                v == std::numeric_limits<std::int64_t>::min())
                return not_available();
            raw = static_cast<double>(v);
            break;
        }
        case DataType::uint16:
            if (spec.all_ones_invalid && bits == 0xFFFF) return not_available();
            raw = static_cast<double>(bits);
            break;
        case DataType::uint32:
            if (spec.all_ones_invalid && bits == 0xFFFF'FFFF) return not_available();
            raw = static_cast<double>(bits);
            break;
        case DataType::uint64:
            if (spec.all_ones_invalid && bits == ~std::uint64_t{0}) return not_available();
            raw = static_cast<double>(bits);
            break;
        case DataType::float32:
            raw = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
            break;
        case DataType::float64:
            raw = std::bit_cast<double>(bits);
            break;
    }
    if (!std::isfinite(raw))
        return make_error(Errc::value_not_finite, "register holds NaN or infinity");
    return raw * spec.scale;
}

std::vector<std::uint16_t> encode_value(const RegisterSpec& spec, double value) {
    const double raw = value / spec.scale;
    auto clamp_int = [&](double lo, double hi) {
        // Stay one step inside the range so that a real value never becomes a sentinel.
        return std::llround(std::fmin(std::fmax(raw, lo + 1), hi - 1));
    };
    std::uint64_t bits = 0;
    switch (spec.type) {
        case DataType::int16:
            bits = static_cast<std::uint16_t>(clamp_int(-32768.0, 32767.0));
            break;
        case DataType::int32:
            bits = static_cast<std::uint32_t>(
                static_cast<std::int32_t>(clamp_int(-2147483648.0, 2147483647.0)));
            break;
        case DataType::int64:
            bits = static_cast<std::uint64_t>(clamp_int(-9.2e18, 9.2e18));
            break;
        case DataType::uint16:
            bits = static_cast<std::uint64_t>(clamp_int(-1.0, 65535.0));
            break;
        case DataType::uint32:
            bits = static_cast<std::uint64_t>(clamp_int(-1.0, 4294967295.0));
            break;
        case DataType::uint64:
            bits = static_cast<std::uint64_t>(std::fmin(std::fmax(std::round(raw), 0.0), 1.8e19));
            break;
        case DataType::float32:
            bits = std::bit_cast<std::uint32_t>(static_cast<float>(raw));
            break;
        case DataType::float64:
            bits = std::bit_cast<std::uint64_t>(raw);
            break;
    }
    return disassemble(spec, bits);
}

std::vector<std::uint16_t> encode_special(const RegisterSpec& spec, SpecialValue which) {
    const unsigned n = register_count(spec.type);
    const std::uint64_t ones = n == 4 ? ~std::uint64_t{0} : (std::uint64_t{1} << (16 * n)) - 1;
    const std::uint64_t sign_bit = std::uint64_t{1} << (16 * n - 1);
    std::uint64_t bits = ones;
    switch (which) {
        case SpecialValue::all_ones:
            bits = ones;
            break;
        case SpecialValue::not_available:
            bits = sign_bit - 1;
            break;  // 0x7FFF, 0x7FFFFFFF, ...
        case SpecialValue::nan:
            bits = spec.type == DataType::float32
                       ? std::bit_cast<std::uint32_t>(std::numeric_limits<float>::quiet_NaN())
                   : spec.type == DataType::float64
                       ? std::bit_cast<std::uint64_t>(std::numeric_limits<double>::quiet_NaN())
                       : sign_bit - 1;
            break;
        case SpecialValue::infinity:
            bits = spec.type == DataType::float32
                       ? std::bit_cast<std::uint32_t>(std::numeric_limits<float>::infinity())
                   : spec.type == DataType::float64
                       ? std::bit_cast<std::uint64_t>(std::numeric_limits<double>::infinity())
                       : sign_bit - 1;
            break;
    }
    return disassemble(spec, bits);
}

}  // namespace gw
