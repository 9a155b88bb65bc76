// Carlo Gavazzi EM300/ET300 series: EM330, EM340, EM341, ET330, ET340 3-phase meters.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile carlo_gavazzi_em340() {
    // Input registers (FC04; FC03 reads the same values). INT32 with the LOW word first (bytes
    // high first inside each word). Scaled integers: V x10, W and var x10, kWh and kvarh x10.
    // The table prints physical addresses in hex: they are the wire addresses.
    constexpr DataType I32 = DataType::int32;
    constexpr RegFunction IN = RegFunction::input;
    constexpr WordOrder LSW = WordOrder::little;
    return profile_from_table(
        {"carlo-gavazzi-em340", "Carlo Gavazzi", "EM330 / EM340 / EM341 / ET330 / ET340",
         "Carlo Gavazzi EM300 series and ET300 series communication protocol, version 2 "
         "revision 6 (2014-11-14), tables 2.4-1 and 2.7-2",
         "Set the measuring mode to bidirectional ('b', PFB models): in easy-connection mode "
         "('A', PFA models) power is always positive and every kWh counts as import, so "
         "e_export stays 0. In bidirectional mode power is import-positive, kWh(-) counts "
         "export, kvarh(+)/kvarh(-) count positive/negative Q."},
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
            {Reg::p_total, 0x28, I32, IN, 0.1, LSW},      // W sys
            {Reg::q_total, 0x2C, I32, IN, 0.1, LSW},      // var sys
            {Reg::e_import, 0x34, I32, IN, 100.0, LSW},   // kWh(+) TOT; 0.1 kWh = 100 Wh
            {Reg::eq_import, 0x36, I32, IN, 100.0, LSW},  // kvarh(+) TOT
            {Reg::e_export, 0x4E, I32, IN, 100.0, LSW},   // kWh(-) TOT
            {Reg::eq_export, 0x50, I32, IN, 100.0, LSW},  // kvarh(-) TOT
        },
        // 0x000B, one uint16 read on its own: Carlo Gavazzi identification code (table 2.7-2).
        // 331/332 EM330, 335/336 ET330, 341 EM340, 346 EM341, 345 ET340. 330 and 340 are
        // engineering samples with the other word order and are left out on purpose.
        {{RegFunction::input,
          0x000B,
          {331, 332, 335, 336, 341, 345, 346},
          {},
          "Carlo Gavazzi identification code (EM/ET300 series)"}});
}

}  // namespace gw::profiles
