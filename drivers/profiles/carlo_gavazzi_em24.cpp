// Carlo Gavazzi EM24-DIN: 3-phase energy analyser.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {
namespace {
// Input registers (FC04; FC03 works too). INT32 with the LOW word first. Values are scaled
// integers: V x10, W and var x10, kWh and kvarh x10.
constexpr DataType I32 = DataType::int32;
constexpr RegFunction IN = RegFunction::input;
constexpr WordOrder LSW = WordOrder::little;
constexpr std::uint16_t U_L1N = 0x00, U_L2N = 0x02, U_L3N = 0x04, U_L12 = 0x06, U_L23 = 0x08,
                        U_L31 = 0x0A;
constexpr std::uint16_t P_L1 = 0x12, P_L2 = 0x14, P_L3 = 0x16, Q_L1 = 0x1E, Q_L2 = 0x20,
                        Q_L3 = 0x22;
constexpr std::uint16_t P_SYS = 0x28, Q_SYS = 0x2C;
constexpr std::uint16_t E_IMPORT_TOT = 0x3E,
                        EQ_IMPORT_TOT = 0x40;  // not 0x42: that is the partial counter
constexpr std::uint16_t E_EXPORT_TOT = 0x5C, EQ_EXPORT_TOT = 0x5E;
}  // namespace

MeterProfile carlo_gavazzi_em24() {
    MeterProfile p{
        "carlo-gavazzi-em24",
        "Carlo Gavazzi",
        "EM24-DIN",
        "Carlo Gavazzi EM24-DIN PFA/PFB/X communication protocol v4r0, instantaneous and energy "
        "tables",
        "Export counters (kWh-, kvarh-) exist only in application modes that measure both "
        "directions; otherwise the meter answers exception 02 for them.",
        {}};
    auto& m = p.map;
    m[Reg::u_l1n] = reg(U_L1N, I32, IN, 0.1, LSW);
    m[Reg::u_l2n] = reg(U_L2N, I32, IN, 0.1, LSW);
    m[Reg::u_l3n] = reg(U_L3N, I32, IN, 0.1, LSW);
    m[Reg::u_l12] = reg(U_L12, I32, IN, 0.1, LSW);
    m[Reg::u_l23] = reg(U_L23, I32, IN, 0.1, LSW);
    m[Reg::u_l31] = reg(U_L31, I32, IN, 0.1, LSW);
    m[Reg::p_l1] = reg(P_L1, I32, IN, 0.1, LSW);
    m[Reg::p_l2] = reg(P_L2, I32, IN, 0.1, LSW);
    m[Reg::p_l3] = reg(P_L3, I32, IN, 0.1, LSW);
    m[Reg::p_total] = reg(P_SYS, I32, IN, 0.1, LSW);
    m[Reg::q_l1] = reg(Q_L1, I32, IN, 0.1, LSW);
    m[Reg::q_l2] = reg(Q_L2, I32, IN, 0.1, LSW);
    m[Reg::q_l3] = reg(Q_L3, I32, IN, 0.1, LSW);
    m[Reg::q_total] = reg(Q_SYS, I32, IN, 0.1, LSW);
    m[Reg::e_import] = reg(E_IMPORT_TOT, I32, IN, 100.0, LSW);  // 0.1 kWh = 100 Wh
    m[Reg::e_export] = reg(E_EXPORT_TOT, I32, IN, 100.0, LSW);
    m[Reg::eq_import] = reg(EQ_IMPORT_TOT, I32, IN, 100.0, LSW);
    m[Reg::eq_export] = reg(EQ_EXPORT_TOT, I32, IN, 100.0, LSW);
    return p;
}

}  // namespace gw::profiles
