// ABB M4M 20 / M4M 30 network analysers.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {
namespace {
// Holding registers (FC03), hex addresses used as printed, high word first. Scaled integers:
// voltage UINT32 x0.1 V, power INT32 x0.01 W/var, energy UINT64 x0.01 kWh/kvarh.
// The M4M block is shifted against the B23/B24 map: do not mix them.
constexpr DataType U32 = DataType::uint32;
constexpr DataType I32 = DataType::int32;
constexpr DataType U64 = DataType::uint64;
constexpr RegFunction HOLD = RegFunction::holding;
constexpr WordOrder BE = WordOrder::big;
constexpr std::uint16_t U_L1N = 0x5B02, U_L2N = 0x5B04, U_L3N = 0x5B06;
constexpr std::uint16_t U_L12 = 0x5B08, U_L23 = 0x5B0A, U_L31 = 0x5B0C;
constexpr std::uint16_t P_TOTAL = 0x5B1A, P_L1 = 0x5B1C, P_L2 = 0x5B1E, P_L3 = 0x5B20;
constexpr std::uint16_t Q_TOTAL = 0x5B22, Q_L1 = 0x5B24, Q_L2 = 0x5B26, Q_L3 = 0x5B28;
constexpr std::uint16_t E_IMPORT = 0x5000, E_EXPORT = 0x5004, EQ_IMPORT = 0x500C,
                        EQ_EXPORT = 0x5010;
}  // namespace

MeterProfile abb_m4m() {
    MeterProfile p{
        "abb-m4m",
        "ABB",
        "M4M 20 / M4M 30",
        "ABB M4M Modbus map v1.3N (register block 0x5B00.., energy 0x5000..)",
        "Unsigned registers reading all ones (0xFFFF...) are 'not available'. Verify one value "
        "against the meter's display when commissioning: the map is less widely used than the "
        "others.",
        {}};
    auto& m = p.map;
    m[Reg::u_l1n] = reg(U_L1N, U32, HOLD, 0.1, BE, true);
    m[Reg::u_l2n] = reg(U_L2N, U32, HOLD, 0.1, BE, true);
    m[Reg::u_l3n] = reg(U_L3N, U32, HOLD, 0.1, BE, true);
    m[Reg::u_l12] = reg(U_L12, U32, HOLD, 0.1, BE, true);
    m[Reg::u_l23] = reg(U_L23, U32, HOLD, 0.1, BE, true);
    m[Reg::u_l31] = reg(U_L31, U32, HOLD, 0.1, BE, true);
    m[Reg::p_total] = reg(P_TOTAL, I32, HOLD, 0.01);
    m[Reg::p_l1] = reg(P_L1, I32, HOLD, 0.01);
    m[Reg::p_l2] = reg(P_L2, I32, HOLD, 0.01);
    m[Reg::p_l3] = reg(P_L3, I32, HOLD, 0.01);
    m[Reg::q_total] = reg(Q_TOTAL, I32, HOLD, 0.01);
    m[Reg::q_l1] = reg(Q_L1, I32, HOLD, 0.01);
    m[Reg::q_l2] = reg(Q_L2, I32, HOLD, 0.01);
    m[Reg::q_l3] = reg(Q_L3, I32, HOLD, 0.01);
    m[Reg::e_import] = reg(E_IMPORT, U64, HOLD, 10.0, BE, true);  // 0.01 kWh = 10 Wh
    m[Reg::e_export] = reg(E_EXPORT, U64, HOLD, 10.0, BE, true);
    m[Reg::eq_import] = reg(EQ_IMPORT, U64, HOLD, 10.0, BE, true);
    m[Reg::eq_export] = reg(EQ_EXPORT, U64, HOLD, 10.0, BE, true);
    return p;
}

}  // namespace gw::profiles
