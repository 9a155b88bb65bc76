// ABB B23 / B24 (EQ meters B series): 3-phase DIN-rail meters, direct (B23) or CT (B24).
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile abb_b23() {
    // Holding registers (FC03), hex register numbers sent as printed (ABB says not to subtract
    // 1), high word first. Scaled integers: voltage UINT32 x0.1 V, power INT32 x0.01 W/var,
    // energy UINT64 x0.01 kWh/kvarh. This is the EQ-meter layout shared with the A43/A44; the
    // M4M uses a block shifted by one value and has its own profile.
    constexpr DataType U32 = DataType::uint32;
    constexpr DataType I32 = DataType::int32;
    constexpr DataType U64 = DataType::uint64;
    constexpr RegFunction HOLD = RegFunction::holding;
    constexpr WordOrder BE = WordOrder::big;
    return profile_from_table(
        {"abb-b23", "ABB", "B23 / B24",
         "ABB B23/B24 user manual 2CMC485003M0201 (rev. A 2013-06-20, 2021-05-13 edition), "
         "chapter 9.3 mapping tables; layout identical to A43/A44 user manual 2CMC484001M0201 "
         "rev. C; addresses cross-checked against volkszaehler/mbmd and victronenergy/"
         "dbus-modbus-client",
         "Unsigned registers reading all ones (0xFFFF...) are 'not available'; signed ones "
         "read 0x7FFF..., a sentinel also taken as 'not available'. Export counters exist only on "
         "bidirectional variants. The L2-L3 and L3-L1 voltages are labelled L3-L2 and L1-L3 "
         "by ABB (same magnitude)."},
        {
            {Reg::u_l1n, 0x5B00, U32, HOLD, 0.1, BE, true},
            {Reg::u_l2n, 0x5B02, U32, HOLD, 0.1, BE, true},
            {Reg::u_l3n, 0x5B04, U32, HOLD, 0.1, BE, true},
            {Reg::u_l12, 0x5B06, U32, HOLD, 0.1, BE, true},
            {Reg::u_l23, 0x5B08, U32, HOLD, 0.1, BE, true},  // ABB: L3-L2
            {Reg::u_l31, 0x5B0A, U32, HOLD, 0.1, BE, true},  // ABB: L1-L3
            {Reg::p_total, 0x5B14, I32, HOLD, 0.01},
            {Reg::p_l1, 0x5B16, I32, HOLD, 0.01},
            {Reg::p_l2, 0x5B18, I32, HOLD, 0.01},
            {Reg::p_l3, 0x5B1A, I32, HOLD, 0.01},
            {Reg::q_total, 0x5B1C, I32, HOLD, 0.01},
            {Reg::q_l1, 0x5B1E, I32, HOLD, 0.01},
            {Reg::q_l2, 0x5B20, I32, HOLD, 0.01},
            {Reg::q_l3, 0x5B22, I32, HOLD, 0.01},
            {Reg::e_import, 0x5000, U64, HOLD, 10.0, BE, true},  // 0.01 kWh = 10 Wh
            {Reg::e_export, 0x5004, U64, HOLD, 10.0, BE, true},
            {Reg::eq_import, 0x500C, U64, HOLD, 10.0, BE, true},
            {Reg::eq_export, 0x5010, U64, HOLD, 10.0, BE, true},
        },
        // 0x8960: type designation, ASCII, starting "B23 " or "B24 " (the B21 is single-phase
        // and answers "B21 ", which must not match).
        {{RegFunction::holding, 0x8960, {}, "B23", "type designation"},
         {RegFunction::holding, 0x8960, {}, "B24", "type designation"}});
}

}  // namespace gw::profiles
