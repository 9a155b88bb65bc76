// Schneider Electric Acti9 iEM3000 series (iEM3155 / iEM3255 / iEM3355 and relatives).
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile schneider_iem3255() {
    // Holding registers only (the meter answers FC03, FC16 and FC43/14, not FC04). The manual
    // numbers registers from 1: wire address = register - 1, the same convention as the
    // PM5000 list. Instantaneous values float32 in V / kW / kVAR; energy INT64 in Wh / VARh;
    // high word first.
    constexpr DataType F32 = DataType::float32;
    constexpr DataType I64 = DataType::int64;
    constexpr RegFunction HOLD = RegFunction::holding;
    return profile_from_table(
        {"schneider-iem3255", "Schneider Electric", "Acti9 iEM3155 / iEM3255 / iEM3355",
         "Schneider Electric iEM3100 / iEM3200 / iEM3300 series user manual, DOCA0005EN "
         "(rev. -04 04/2014 to -13 03/2022), Modbus register list (registers 3020..3068, "
         "3204..3224)",
         "Export and reactive energy exist only on the iEM3x55 (and iEM3455/3555); the "
         "iEM3x50 lacks them. No per-phase reactive power in this family. 'Import' is "
         "import-positive; check the sign of total active power against the display when "
         "exporting."},
        {
            {Reg::u_l12, 3019, F32, HOLD},            // register 3020 voltage L1-L2
            {Reg::u_l23, 3021, F32, HOLD},            // 3022
            {Reg::u_l31, 3023, F32, HOLD},            // 3024
            {Reg::u_l1n, 3027, F32, HOLD},            // 3028 voltage L1-N
            {Reg::u_l2n, 3029, F32, HOLD},            // 3030
            {Reg::u_l3n, 3031, F32, HOLD},            // 3032
            {Reg::p_l1, 3053, F32, HOLD, 1000.0},     // 3054 active power phase 1, kW
            {Reg::p_l2, 3055, F32, HOLD, 1000.0},     // 3056
            {Reg::p_l3, 3057, F32, HOLD, 1000.0},     // 3058
            {Reg::p_total, 3059, F32, HOLD, 1000.0},  // 3060 total active power, kW
            {Reg::q_total, 3067, F32, HOLD, 1000.0},  // 3068 total reactive power, kVAR
            {Reg::e_import, 3203, I64, HOLD},         // 3204 total active energy import, Wh
            {Reg::e_export, 3207, I64, HOLD},         // 3208 total active energy export
            {Reg::eq_import, 3219, I64, HOLD},        // 3220 total reactive energy import, VARh
            {Reg::eq_export, 3223, I64, HOLD},        // 3224 total reactive energy export
        },
        // Register 50 (wire 49), 20 registers UTF-8: "Meter model". The exact string is taken to
        // start with the catalogue name (e.g. "iEM3255"); not confirmed against a device.
        {{RegFunction::holding, 49, {}, "iEM3155", "meter model string"},
         {RegFunction::holding, 49, {}, "iEM3255", "meter model string"},
         {RegFunction::holding, 49, {}, "iEM3355", "meter model string"},
         {RegFunction::holding, 49, {}, "iEM3455", "meter model string"},
         {RegFunction::holding, 49, {}, "iEM3555", "meter model string"}});
}

}  // namespace gw::profiles
