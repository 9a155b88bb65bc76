// Eastron SDM630 (v2, MID): 3-phase DIN-rail meter, common at small generation sites.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile eastron_sdm630() {
    // Input registers (FC04), IEEE-754 float32, high word first. Wire address = 3xxxx - 30001.
    constexpr DataType F32 = DataType::float32;
    constexpr RegFunction IN = RegFunction::input;
    return profile_from_table(
        {"eastron-sdm630", "Eastron", "SDM630 (v2, MID)",
         "Eastron SDM630Modbus MID V2 user manual, section 1.2 (input registers 30001..30205)",
         "Parameters the wiring mode lacks read as 0 (e.g. L-N voltages in 3P3W mode)."},
        {
            {Reg::u_l1n, 0x0000, F32, IN},  // 30001 phase 1 line to neutral volts
            {Reg::u_l2n, 0x0002, F32, IN},
            {Reg::u_l3n, 0x0004, F32, IN},
            {Reg::p_l1, 0x000C, F32, IN},  // 30013 phase 1 active power, W
            {Reg::p_l2, 0x000E, F32, IN},
            {Reg::p_l3, 0x0010, F32, IN},
            {Reg::q_l1, 0x0018, F32, IN},  // 30025 phase 1 reactive power, var
            {Reg::q_l2, 0x001A, F32, IN},
            {Reg::q_l3, 0x001C, F32, IN},
            {Reg::p_total, 0x0034, F32, IN},            // 30053 total system power
            {Reg::q_total, 0x003C, F32, IN},            // 30061 total system VAr
            {Reg::e_import, 0x0048, F32, IN, 1000.0},   // 30073 import kWh
            {Reg::e_export, 0x004A, F32, IN, 1000.0},   // 30075 export kWh
            {Reg::eq_import, 0x004C, F32, IN, 1000.0},  // 30077 import kVArh
            {Reg::eq_export, 0x004E, F32, IN, 1000.0},  // 30079 export kVArh
            {Reg::u_l12, 0x00C8, F32, IN},              // 30201 line 1 to line 2 volts
            {Reg::u_l23, 0x00CA, F32, IN},
            {Reg::u_l31, 0x00CC, F32, IN},
        },
        {{RegFunction::holding,
          0xFC02,
          {0x0070, 0x0079},
          {},
          "meter code (0x0070 SDM630 v2, 0x0079 SDM630MCT v2)"}});
}

}  // namespace gw::profiles
