// Eastron SDM72D-M-2 (SDM72D-M v2, MID): 3-phase DIN-rail meter, 100 A direct.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile eastron_sdm72d() {
    // Input registers (FC04), IEEE-754 float32, high word first. The manual prints Modicon
    // numbers 3xxxx: wire address = number - 30001 (its hex column gives the same value).
    // The v2 map follows the SDM630 layout for the values listed here; the older SDM72D-M (v1)
    // only has total power and energy and is not covered by this profile.
    constexpr DataType F32 = DataType::float32;
    constexpr RegFunction IN = RegFunction::input;
    return profile_from_table(
        {"eastron-sdm72d", "Eastron", "SDM72D-M-2 (SDM72D-M v2)",
         "Eastron SDM72D-M-2 Modbus protocol / user manual (input registers 30001..30391, meter "
         "code holding register 464515); cross-checked against the SDM72DM-V2 tables of "
         "Tinkerforge esp32-firmware and volkszaehler/mbmd",
         "No import/export split of reactive energy: the meter only offers total kvarh "
         "(30345), so eq_import/eq_export are absent. Values the wiring mode lacks read 0."},
        {
            {Reg::u_l1n, 0x0000, F32, IN},             // 30001 phase 1 line to neutral volts
            {Reg::u_l2n, 0x0002, F32, IN},             // 30003
            {Reg::u_l3n, 0x0004, F32, IN},             // 30005
            {Reg::p_l1, 0x000C, F32, IN},              // 30013 phase 1 active power, W
            {Reg::p_l2, 0x000E, F32, IN},              // 30015
            {Reg::p_l3, 0x0010, F32, IN},              // 30017
            {Reg::q_l1, 0x0018, F32, IN},              // 30025 phase 1 reactive power, var
            {Reg::q_l2, 0x001A, F32, IN},              // 30027
            {Reg::q_l3, 0x001C, F32, IN},              // 30029
            {Reg::p_total, 0x0034, F32, IN},           // 30053 total system power, W
            {Reg::q_total, 0x003C, F32, IN},           // 30061 total system var
            {Reg::e_import, 0x0048, F32, IN, 1000.0},  // 30073 total import kWh
            {Reg::e_export, 0x004A, F32, IN, 1000.0},  // 30075 total export kWh
            {Reg::u_l12, 0x00C8, F32, IN},             // 30201 line 1 to line 2 volts
            {Reg::u_l23, 0x00CA, F32, IN},             // 30203
            {Reg::u_l31, 0x00CC, F32, IN},             // 30205
        },
        // Holding register 464515 (wire 0xFC02), one uint16: the meter code. 0x0089 is the
        // SDM72D-M-2; the v1 SDM72D-M reports another code (0x0084 per Eastron, 0x0200 seen in
        // the field) and must not match.
        {{RegFunction::holding, 0xFC02, {0x0089}, {}, "Eastron meter code (0x0089 = SDM72D-M-2)"}});
}

}  // namespace gw::profiles
