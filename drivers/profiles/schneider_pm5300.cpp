// Schneider Electric PowerLogic PM5100 / PM5300 (PM5000 series) power meters.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile schneider_pm5300() {
    // Holding registers (FC03). The register list numbers from 1: wire address = register - 1.
    // Instantaneous float32 in kW / kVAR / V; energy INT64 in Wh / varh; high word first.
    constexpr DataType F32 = DataType::float32;
    constexpr DataType I64 = DataType::int64;
    constexpr RegFunction HOLD = RegFunction::holding;
    return profile_from_table(
        {"schneider-pm5300", "Schneider Electric", "PowerLogic PM5100 / PM5300",
         "Schneider PM5100/PM5300 public register list (registers 3020..3068, 3204..3224)",
         "'Delivered' energy is import, 'received' is export."},
        {
            {Reg::u_l12, 3019, F32, HOLD},  // register 3020
            {Reg::u_l23, 3021, F32, HOLD},
            {Reg::u_l31, 3023, F32, HOLD},
            {Reg::u_l1n, 3027, F32, HOLD},  // register 3028
            {Reg::u_l2n, 3029, F32, HOLD},
            {Reg::u_l3n, 3031, F32, HOLD},
            {Reg::p_l1, 3053, F32, HOLD, 1000.0},  // kW
            {Reg::p_l2, 3055, F32, HOLD, 1000.0},
            {Reg::p_l3, 3057, F32, HOLD, 1000.0},
            {Reg::p_total, 3059, F32, HOLD, 1000.0},
            {Reg::q_l1, 3061, F32, HOLD, 1000.0},  // kVAR
            {Reg::q_l2, 3063, F32, HOLD, 1000.0},
            {Reg::q_l3, 3065, F32, HOLD, 1000.0},
            {Reg::q_total, 3067, F32, HOLD, 1000.0},
            {Reg::e_import, 3203, I64, HOLD},   // active energy delivered, Wh
            {Reg::e_export, 3207, I64, HOLD},   // active energy received
            {Reg::eq_import, 3219, I64, HOLD},  // reactive energy delivered, varh
            {Reg::eq_export, 3223, I64, HOLD},  // reactive energy received
        },
        {{RegFunction::holding, 49, {}, "PM5", "meter model string"}});
}

}  // namespace gw::profiles
