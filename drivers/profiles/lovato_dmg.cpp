// Lovato Electric DMG610 (DMG600/DMG6x0 multimeters with an EXP10 communication module).
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile lovato_dmg() {
    // Input registers (FC04; FC03 is accepted too). Lovato's table lists "effective" addresses:
    // wire address = table address - 1. Scaled integers, high word first: voltage UINT32
    // x0.01 V, power INT32 x0.01 W/var, energy UINT64 x0.01 kWh/kvarh.
    // The map rests on volkszaehler/mbmd (meters/rs485/dmg610.go) because the manufacturer's
    // table could not be had; line-to-line voltages are left out for that reason.
    constexpr DataType U32 = DataType::uint32;
    constexpr DataType I32 = DataType::int32;
    constexpr DataType U64 = DataType::uint64;
    constexpr RegFunction IN = RegFunction::input;
    // No signature: the DMG series identifies itself only through function 17 (Report Slave
    // ID, a device type byte), not through a readable register.
    return profile_from_table(
        {"lovato-dmg", "Lovato Electric", "DMG610",
         "volkszaehler/mbmd meters/rs485/dmg610.go, which cites the Lovato 'DMG series' Modbus "
         "protocol manual (current issue: doc. I317IGB12_19, 18/12/2019); map rests on mbmd "
         "because the manufacturer's table could not be had",
         "Less proven than the other profiles: verify power sign and one energy counter "
         "against the display when commissioning. Other DMG models (DMG700/800, older "
         "protocol) keep their energy counters elsewhere and 32-bit wide: do not use this "
         "profile for them."},
        {
            {Reg::u_l1n, 0x0001, U32, IN, 0.01},  // table 0002h L1 phase voltage
            {Reg::u_l2n, 0x0003, U32, IN, 0.01},
            {Reg::u_l3n, 0x0005, U32, IN, 0.01},
            {Reg::p_l1, 0x0013, I32, IN, 0.01},  // table 0014h L1 active power
            {Reg::p_l2, 0x0015, I32, IN, 0.01},
            {Reg::p_l3, 0x0017, I32, IN, 0.01},
            {Reg::q_l1, 0x0019, I32, IN, 0.01},  // table 001Ah L1 reactive power
            {Reg::q_l2, 0x001B, I32, IN, 0.01},
            {Reg::q_l3, 0x001D, I32, IN, 0.01},
            {Reg::p_total, 0x0039, I32, IN, 0.01},    // equivalent (total) active power
            {Reg::q_total, 0x003B, I32, IN, 0.01},    // equivalent (total) reactive power
            {Reg::e_import, 0x1B1F, U64, IN, 10.0},   // total imported active energy
            {Reg::e_export, 0x1B23, U64, IN, 10.0},   // total exported active energy
            {Reg::eq_import, 0x1B27, U64, IN, 10.0},  // total imported reactive energy
            {Reg::eq_export, 0x1B2B, U64, IN, 10.0},  // total exported reactive energy
        });
}

}  // namespace gw::profiles
