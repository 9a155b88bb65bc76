// Janitza UMG 96RM and UMG 604: power analysers, common at transfer points.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {
namespace {
// "Frequently required readings" block from 19000, holding registers (FC03), float32 high word
// first. Power in W/var, energy in Wh. Reactive energy exists only as inductive/capacitive, so the
// profile has no eq_import/eq_export.
constexpr DataType F32 = DataType::float32;
constexpr RegFunction HOLD = RegFunction::holding;
constexpr std::uint16_t U_L1N = 19000, U_L2N = 19002, U_L3N = 19004;
constexpr std::uint16_t U_L12 = 19006, U_L23 = 19008, U_L31 = 19010;
constexpr std::uint16_t P_L1 = 19020, P_L2 = 19022, P_L3 = 19024, P_TOTAL = 19026;
constexpr std::uint16_t Q_L1 = 19036, Q_L2 = 19038, Q_L3 = 19040, Q_TOTAL = 19042;
constexpr std::uint16_t E_CONSUMED = 19068, E_DELIVERED = 19076;
}  // namespace

MeterProfile janitza_umg96rm() {
    MeterProfile p{
        "janitza-umg96rm",
        "Janitza",
        "UMG 96RM / UMG 604",
        "Janitza UMG 96RM Modbus address list and formulary (Dok. 1.040.034), addresses "
        "19000..19076",
        "Energy 'consumed' is import and 'delivered' is export. No directional reactive energy.",
        {}};
    auto& m = p.map;
    m[Reg::u_l1n] = reg(U_L1N, F32, HOLD);
    m[Reg::u_l2n] = reg(U_L2N, F32, HOLD);
    m[Reg::u_l3n] = reg(U_L3N, F32, HOLD);
    m[Reg::u_l12] = reg(U_L12, F32, HOLD);
    m[Reg::u_l23] = reg(U_L23, F32, HOLD);
    m[Reg::u_l31] = reg(U_L31, F32, HOLD);
    m[Reg::p_l1] = reg(P_L1, F32, HOLD);
    m[Reg::p_l2] = reg(P_L2, F32, HOLD);
    m[Reg::p_l3] = reg(P_L3, F32, HOLD);
    m[Reg::p_total] = reg(P_TOTAL, F32, HOLD);
    m[Reg::q_l1] = reg(Q_L1, F32, HOLD);
    m[Reg::q_l2] = reg(Q_L2, F32, HOLD);
    m[Reg::q_l3] = reg(Q_L3, F32, HOLD);
    m[Reg::q_total] = reg(Q_TOTAL, F32, HOLD);
    m[Reg::e_import] = reg(E_CONSUMED, F32, HOLD);
    m[Reg::e_export] = reg(E_DELIVERED, F32, HOLD);
    return p;
}

}  // namespace gw::profiles
