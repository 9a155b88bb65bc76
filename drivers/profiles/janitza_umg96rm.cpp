// Janitza UMG 96RM and UMG 604: power analysers, common at transfer points.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile janitza_umg96rm() {
    // The "frequently required readings" block from 19000: holding registers (FC03), float32
    // high word first, power in W and var, energy in Wh. Reactive energy exists only as
    // inductive/capacitive, so the profile has no eq_import/eq_export.
    constexpr DataType F32 = DataType::float32;
    constexpr RegFunction HOLD = RegFunction::holding;
    return profile_from_table(
        {"janitza-umg96rm", "Janitza", "UMG 96RM / UMG 604",
         "Janitza UMG 96RM Modbus address list and formulary (Dok. 1.040.034), addresses "
         "19000..19076",
         "Energy 'consumed' is import and 'delivered' is export. No directional reactive energy."},
        {
            {Reg::u_l1n, 19000, F32, HOLD},
            {Reg::u_l2n, 19002, F32, HOLD},
            {Reg::u_l3n, 19004, F32, HOLD},
            {Reg::u_l12, 19006, F32, HOLD},
            {Reg::u_l23, 19008, F32, HOLD},
            {Reg::u_l31, 19010, F32, HOLD},
            {Reg::p_l1, 19020, F32, HOLD},
            {Reg::p_l2, 19022, F32, HOLD},
            {Reg::p_l3, 19024, F32, HOLD},
            {Reg::p_total, 19026, F32, HOLD},
            {Reg::q_l1, 19036, F32, HOLD},
            {Reg::q_l2, 19038, F32, HOLD},
            {Reg::q_l3, 19040, F32, HOLD},
            {Reg::q_total, 19042, F32, HOLD},
            {Reg::e_import, 19068, F32, HOLD},  // consumed
            {Reg::e_export, 19076, F32, HOLD},  // delivered
        });
}

}  // namespace gw::profiles
