// Siemens SENTRON PAC3200 (PAC4200 has the same offsets for these values).
#include "gw/drivers/profile.hpp"

namespace gw::profiles {
namespace {
// Siemens "offset" is the wire address. Holding registers (FC03; FC04 works too).
// Instantaneous values float32, energy counters float64 in Wh/varh, high word first.
constexpr DataType F32 = DataType::float32;
constexpr DataType F64 = DataType::float64;
constexpr RegFunction HOLD = RegFunction::holding;
constexpr std::uint16_t U_L1N = 1, U_L2N = 3, U_L3N = 5, U_L12 = 7, U_L23 = 9, U_L31 = 11;
constexpr std::uint16_t P_L1 = 25, P_L2 = 27, P_L3 = 29, Q_L1 = 31, Q_L2 = 33, Q_L3 = 35;
constexpr std::uint16_t P_TOTAL = 65, Q_TOTAL = 67;
constexpr std::uint16_t E_IMPORT_T1 = 801, E_EXPORT_T1 = 809, EQ_IMPORT_T1 = 817,
                        EQ_EXPORT_T1 = 825;
}  // namespace

MeterProfile siemens_pac3200() {
    MeterProfile p{
        "siemens-pac3200",
        "Siemens",
        "SENTRON PAC3200 / PAC4200",
        "SENTRON PAC3200 manual A5E01168664B-04, table 3-6; PAC4200 manual A5E02316180B-01, table "
        "A-9",
        "Energy registers are tariff 1; with tariff switching the meter splits energy over "
        "two counters and the cross-check will flag it.",
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
    m[Reg::e_import] = reg(E_IMPORT_T1, F64, HOLD);
    m[Reg::e_export] = reg(E_EXPORT_T1, F64, HOLD);
    m[Reg::eq_import] = reg(EQ_IMPORT_T1, F64, HOLD);
    m[Reg::eq_export] = reg(EQ_EXPORT_T1, F64, HOLD);
    return p;
}

}  // namespace gw::profiles
