// Schneider Electric PowerLogic PM5100 / PM5300 (PM5000 series) power meters.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {
namespace {
// Holding registers (FC03). The register list numbers from 1: wire address = register - 1.
// Instantaneous float32 in kW / kVAR / V; energy INT64 in Wh / varh; high word first.
constexpr DataType F32 = DataType::float32;
constexpr DataType I64 = DataType::int64;
constexpr RegFunction HOLD = RegFunction::holding;
constexpr std::uint16_t U_L12 = 3019, U_L23 = 3021, U_L31 = 3023;  // registers 3020, 3022, 3024
constexpr std::uint16_t U_L1N = 3027, U_L2N = 3029, U_L3N = 3031;  // registers 3028, 3030, 3032
constexpr std::uint16_t P_L1 = 3053, P_L2 = 3055, P_L3 = 3057, P_TOTAL = 3059;
constexpr std::uint16_t Q_L1 = 3061, Q_L2 = 3063, Q_L3 = 3065, Q_TOTAL = 3067;
constexpr std::uint16_t E_DELIVERED = 3203, E_RECEIVED = 3207, EQ_DELIVERED = 3219,
                        EQ_RECEIVED = 3223;
}  // namespace

MeterProfile schneider_pm5300() {
    MeterProfile p{
        "schneider-pm5300",
        "Schneider Electric",
        "PowerLogic PM5100 / PM5300",
        "Schneider PM5100/PM5300 public register list (registers 3020..3068, 3204..3224)",
        "'Delivered' energy is import, 'received' is export.",
        {}};
    auto& m = p.map;
    m[Reg::u_l12] = reg(U_L12, F32, HOLD);
    m[Reg::u_l23] = reg(U_L23, F32, HOLD);
    m[Reg::u_l31] = reg(U_L31, F32, HOLD);
    m[Reg::u_l1n] = reg(U_L1N, F32, HOLD);
    m[Reg::u_l2n] = reg(U_L2N, F32, HOLD);
    m[Reg::u_l3n] = reg(U_L3N, F32, HOLD);
    m[Reg::p_l1] = reg(P_L1, F32, HOLD, 1000.0);
    m[Reg::p_l2] = reg(P_L2, F32, HOLD, 1000.0);
    m[Reg::p_l3] = reg(P_L3, F32, HOLD, 1000.0);
    m[Reg::p_total] = reg(P_TOTAL, F32, HOLD, 1000.0);
    m[Reg::q_l1] = reg(Q_L1, F32, HOLD, 1000.0);
    m[Reg::q_l2] = reg(Q_L2, F32, HOLD, 1000.0);
    m[Reg::q_l3] = reg(Q_L3, F32, HOLD, 1000.0);
    m[Reg::q_total] = reg(Q_TOTAL, F32, HOLD, 1000.0);
    m[Reg::e_import] = reg(E_DELIVERED, I64, HOLD);
    m[Reg::e_export] = reg(E_RECEIVED, I64, HOLD);
    m[Reg::eq_import] = reg(EQ_DELIVERED, I64, HOLD);
    m[Reg::eq_export] = reg(EQ_RECEIVED, I64, HOLD);
    return p;
}

}  // namespace gw::profiles
