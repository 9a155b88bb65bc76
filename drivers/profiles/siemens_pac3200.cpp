// Siemens SENTRON PAC3200 (PAC4200 has the same offsets for these values).
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile siemens_pac3200() {
    // Siemens' "offset" is the wire address. Holding registers (FC03; FC04 works too).
    // Instantaneous values float32, energy counters float64 in Wh/varh, high word first.
    constexpr DataType F32 = DataType::float32;
    constexpr DataType F64 = DataType::float64;
    constexpr RegFunction HOLD = RegFunction::holding;
    return profile_from_table(
        {"siemens-pac3200", "Siemens", "SENTRON PAC3200 / PAC4200",
         "SENTRON PAC3200 manual A5E01168664B-04, table 3-6; PAC4200 manual A5E02316180B-01, table "
         "A-9",
         "Energy registers are tariff 1; with tariff switching the meter splits energy over "
         "two counters and the cross-check will flag it."},
        {
            {Reg::u_l1n, 1, F32, HOLD},
            {Reg::u_l2n, 3, F32, HOLD},
            {Reg::u_l3n, 5, F32, HOLD},
            {Reg::u_l12, 7, F32, HOLD},
            {Reg::u_l23, 9, F32, HOLD},
            {Reg::u_l31, 11, F32, HOLD},
            {Reg::p_l1, 25, F32, HOLD},
            {Reg::p_l2, 27, F32, HOLD},
            {Reg::p_l3, 29, F32, HOLD},
            {Reg::q_l1, 31, F32, HOLD},
            {Reg::q_l2, 33, F32, HOLD},
            {Reg::q_l3, 35, F32, HOLD},
            {Reg::p_total, 65, F32, HOLD},
            {Reg::q_total, 67, F32, HOLD},
            {Reg::e_import, 801, F64, HOLD},  // active energy import, tariff 1
            {Reg::e_export, 809, F64, HOLD},
            {Reg::eq_import, 817, F64, HOLD},
            {Reg::eq_export, 825, F64, HOLD},
        },
        {{RegFunction::holding, 64002, {}, "7KM21", "I&M 0 order number (PAC3200)"},
         {RegFunction::holding, 64002, {}, "7KM42", "I&M 0 order number (PAC4200)"}});
}

}  // namespace gw::profiles
