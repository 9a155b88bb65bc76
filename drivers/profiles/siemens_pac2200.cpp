// Siemens SENTRON PAC2200 (7KM2200): DIN-rail power monitoring device, RS485 or Ethernet.
#include "gw/drivers/profile.hpp"

namespace gw::profiles {

MeterProfile siemens_pac2200() {
    // The manual's "offset" is the wire address. Holding registers (FC03; FC04 reads the same).
    // Instantaneous values float32, energy counters float64 in Wh/varh, high word first. A read
    // must start at the first register of a value, otherwise the device answers an exception.
    // The offsets used here are the same as on the PAC3200.
    constexpr DataType F32 = DataType::float32;
    constexpr DataType F64 = DataType::float64;
    constexpr RegFunction HOLD = RegFunction::holding;
    return profile_from_table(
        {"siemens-pac2200", "Siemens", "SENTRON PAC2200",
         "SENTRON PAC2200 manual L1V30415167B-02 (05/2018) and equipment manual "
         "L1V30415167B-03 (12/2019), appendix A.1, table A-3 'Available measured variables'",
         "Energy registers are tariff 1; with tariff switching the meter splits energy over "
         "two counters and the cross-check will flag it. Reactive power follows the device's "
         "reactive power setting (Qtot by default). M-Bus versions do not speak Modbus."},
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
            {Reg::e_import, 801, F64, HOLD},   // active energy import, tariff 1
            {Reg::e_export, 809, F64, HOLD},   // active energy export, tariff 1
            {Reg::eq_import, 817, F64, HOLD},  // reactive energy import, tariff 1
            {Reg::eq_export, 825, F64, HOLD},  // reactive energy export, tariff 1
        },
        // I&M 0 block at 64001 (27 registers): 64001 manufacturer ID (42 = Siemens), 64002..64011
        // order number, 20 ASCII chars, e.g. "7KM2200-2EA30-1JA1". Siemens asks for the block
        // to be read whole; a device that refuses a partial read simply fails this signature.
        {{RegFunction::holding, 64002, {}, "7KM2200", "I&M 0 order number (MLFB)"}});
}

}  // namespace gw::profiles
