// Eastron SDM630 (v2, MID): 3-phase DIN-rail meter, common at small generation sites.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {
namespace {
// Input registers (FC04), IEEE-754 float32, high word first. Wire address = 3xxxx - 30001.
constexpr DataType F32 = DataType::float32;
constexpr RegFunction IN = RegFunction::input;
constexpr std::uint16_t U_L1N = 0x0000, U_L2N = 0x0002, U_L3N = 0x0004;
constexpr std::uint16_t P_L1 = 0x000C, P_L2 = 0x000E, P_L3 = 0x0010;
constexpr std::uint16_t Q_L1 = 0x0018, Q_L2 = 0x001A, Q_L3 = 0x001C;
constexpr std::uint16_t P_TOTAL = 0x0034, Q_TOTAL = 0x003C;
constexpr std::uint16_t E_IMPORT = 0x0048, E_EXPORT = 0x004A;    // kWh
constexpr std::uint16_t EQ_IMPORT = 0x004C, EQ_EXPORT = 0x004E;  // kvarh
constexpr std::uint16_t U_L12 = 0x00C8, U_L23 = 0x00CA, U_L31 = 0x00CC;
}  // namespace

MeterProfile eastron_sdm630() {
    MeterProfile p{
        "eastron-sdm630",
        "Eastron",
        "SDM630 (v2, MID)",
        "Eastron SDM630Modbus MID V2 user manual, section 1.2 (input registers 30001..30205)",
        "Parameters the wiring mode lacks read as 0 (e.g. L-N voltages in 3P3W mode).",
        {}};
    auto& m = p.map;
    m[Reg::u_l1n] = reg(U_L1N, F32, IN);
    m[Reg::u_l2n] = reg(U_L2N, F32, IN);
    m[Reg::u_l3n] = reg(U_L3N, F32, IN);
    m[Reg::u_l12] = reg(U_L12, F32, IN);
    m[Reg::u_l23] = reg(U_L23, F32, IN);
    m[Reg::u_l31] = reg(U_L31, F32, IN);
    m[Reg::p_l1] = reg(P_L1, F32, IN);
    m[Reg::p_l2] = reg(P_L2, F32, IN);
    m[Reg::p_l3] = reg(P_L3, F32, IN);
    m[Reg::p_total] = reg(P_TOTAL, F32, IN);
    m[Reg::q_l1] = reg(Q_L1, F32, IN);
    m[Reg::q_l2] = reg(Q_L2, F32, IN);
    m[Reg::q_l3] = reg(Q_L3, F32, IN);
    m[Reg::q_total] = reg(Q_TOTAL, F32, IN);
    m[Reg::e_import] = reg(E_IMPORT, F32, IN, 1000.0);
    m[Reg::e_export] = reg(E_EXPORT, F32, IN, 1000.0);
    m[Reg::eq_import] = reg(EQ_IMPORT, F32, IN, 1000.0);
    m[Reg::eq_export] = reg(EQ_EXPORT, F32, IN, 1000.0);
    return p;
}

}  // namespace gw::profiles
