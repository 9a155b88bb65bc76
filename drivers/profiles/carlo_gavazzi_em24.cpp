// Carlo Gavazzi EM24-DIN: 3-phase energy analyser.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile carlo_gavazzi_em24() {
    // Input registers (FC04; FC03 works too). INT32 with the LOW word first. Scaled integers:
    // V x10, W and var x10, kWh and kvarh x10.
    constexpr DataType I32 = DataType::int32;
    constexpr RegFunction IN = RegFunction::input;
    constexpr WordOrder LSW = WordOrder::little;
    return profile_from_table(
        {"carlo-gavazzi-em24", "Carlo Gavazzi", "EM24-DIN",
         "Carlo Gavazzi EM24-DIN PFA/PFB/X communication protocol v4r0, instantaneous and energy "
         "tables",
         "Export counters (kWh-, kvarh-) exist only in application modes that measure both "
         "directions; otherwise the meter answers exception 02 for them."},
        {
            {Reg::u_l1n, 0x00, I32, IN, 0.1, LSW},
            {Reg::u_l2n, 0x02, I32, IN, 0.1, LSW},
            {Reg::u_l3n, 0x04, I32, IN, 0.1, LSW},
            {Reg::u_l12, 0x06, I32, IN, 0.1, LSW},
            {Reg::u_l23, 0x08, I32, IN, 0.1, LSW},
            {Reg::u_l31, 0x0A, I32, IN, 0.1, LSW},
            {Reg::p_l1, 0x12, I32, IN, 0.1, LSW},
            {Reg::p_l2, 0x14, I32, IN, 0.1, LSW},
            {Reg::p_l3, 0x16, I32, IN, 0.1, LSW},
            {Reg::q_l1, 0x1E, I32, IN, 0.1, LSW},
            {Reg::q_l2, 0x20, I32, IN, 0.1, LSW},
            {Reg::q_l3, 0x22, I32, IN, 0.1, LSW},
            {Reg::p_total, 0x28, I32, IN, 0.1, LSW},     // W sys
            {Reg::q_total, 0x2C, I32, IN, 0.1, LSW},     // var sys
            {Reg::e_import, 0x3E, I32, IN, 100.0, LSW},  // kWh (+) TOT; 0.1 kWh = 100 Wh
            {Reg::eq_import, 0x40, I32, IN, 100.0,
             LSW},  // kvarh (+) TOT; not 0x42, the partial counter
            {Reg::e_export, 0x5C, I32, IN, 100.0, LSW},   // kWh (-) TOT
            {Reg::eq_export, 0x5E, I32, IN, 100.0, LSW},  // kvarh (-) TOT
        },
        {{RegFunction::input,
          0x000B,
          {71, 72, 73},
          {},
          "identification code (71 AV2/AV9, 72 AV5, 73 AV6)"}});
}

}  // namespace gw::profiles
