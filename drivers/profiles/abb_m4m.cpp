// ABB M4M 20 / M4M 30 network analysers.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile abb_m4m() {
    // Holding registers (FC03), hex addresses used as printed, high word first. Scaled
    // integers: voltage UINT32 x0.1 V, power INT32 x0.01 W/var, energy UINT64 x0.01 kWh/kvarh.
    // The M4M block is shifted against the B23/B24 map: do not mix them.
    constexpr DataType U32 = DataType::uint32;
    constexpr DataType I32 = DataType::int32;
    constexpr DataType U64 = DataType::uint64;
    constexpr RegFunction HOLD = RegFunction::holding;
    constexpr WordOrder BE = WordOrder::big;
    return profile_from_table(
        {"abb-m4m", "ABB", "M4M 20 / M4M 30",
         "ABB M4M Modbus map v1.3N (register block 0x5B00.., energy 0x5000..)",
         "Unsigned registers reading all ones (0xFFFF...) are 'not available'. Verify one value "
         "against the meter's display when commissioning: the map is less widely used than the "
         "others."},
        {
            {Reg::u_l1n, 0x5B02, U32, HOLD, 0.1, BE, true},
            {Reg::u_l2n, 0x5B04, U32, HOLD, 0.1, BE, true},
            {Reg::u_l3n, 0x5B06, U32, HOLD, 0.1, BE, true},
            {Reg::u_l12, 0x5B08, U32, HOLD, 0.1, BE, true},
            {Reg::u_l23, 0x5B0A, U32, HOLD, 0.1, BE, true},
            {Reg::u_l31, 0x5B0C, U32, HOLD, 0.1, BE, true},
            {Reg::p_total, 0x5B1A, I32, HOLD, 0.01},
            {Reg::p_l1, 0x5B1C, I32, HOLD, 0.01},
            {Reg::p_l2, 0x5B1E, I32, HOLD, 0.01},
            {Reg::p_l3, 0x5B20, I32, HOLD, 0.01},
            {Reg::q_total, 0x5B22, I32, HOLD, 0.01},
            {Reg::q_l1, 0x5B24, I32, HOLD, 0.01},
            {Reg::q_l2, 0x5B26, I32, HOLD, 0.01},
            {Reg::q_l3, 0x5B28, I32, HOLD, 0.01},
            {Reg::e_import, 0x5000, U64, HOLD, 10.0, BE, true},  // 0.01 kWh = 10 Wh
            {Reg::e_export, 0x5004, U64, HOLD, 10.0, BE, true},
            {Reg::eq_import, 0x500C, U64, HOLD, 10.0, BE, true},
            {Reg::eq_export, 0x5010, U64, HOLD, 10.0, BE, true},
        });
}

}  // namespace gw::profiles
