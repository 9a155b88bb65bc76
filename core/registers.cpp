// Names of registers and data types.
#include "gw/core/registers.hpp"

namespace gw {
namespace {

constexpr std::array<std::string_view, k_reg_count> k_reg_names{
    "p_l1",  "p_l2",    "p_l3",     "p_total",  "q_l1",      "q_l2",
    "q_l3",  "q_total", "u_l1n",    "u_l2n",    "u_l3n",     "u_l12",
    "u_l23", "u_l31",   "e_import", "e_export", "eq_import", "eq_export"};

constexpr std::array<std::string_view, 8> k_type_names{"int16", "uint16", "int32",   "uint32",
                                                       "int64", "uint64", "float32", "float64"};

}  // namespace

std::string_view reg_name(Reg r) {
    return k_reg_names[static_cast<std::size_t>(r)];
}

std::optional<Reg> reg_from_name(std::string_view name) {
    for (std::size_t i = 0; i < k_reg_count; ++i)
        if (k_reg_names[i] == name) return static_cast<Reg>(i);
    return std::nullopt;
}

std::string_view data_type_name(DataType t) {
    return k_type_names[static_cast<std::size_t>(t)];
}

std::optional<DataType> data_type_from_name(std::string_view name) {
    for (std::size_t i = 0; i < k_type_names.size(); ++i)
        if (k_type_names[i] == name) return static_cast<DataType>(i);
    return std::nullopt;
}

unsigned register_count(DataType t) {
    switch (t) {
        case DataType::int16:
        case DataType::uint16:
            return 1;
        case DataType::int32:
        case DataType::uint32:
        case DataType::float32:
            return 2;
        case DataType::int64:
        case DataType::uint64:
        case DataType::float64:
            return 4;
    }
    return 1;
}

}  // namespace gw
