// The five measured quantities, their API names and units, and the rounding rules (SPEC 2).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

enum class Quantity : std::uint8_t {
    active_power,
    reactive_power,
    voltage_l1,
    voltage_l2,
    voltage_l3
};

inline constexpr std::array<Quantity, 5> k_all_quantities{
    Quantity::active_power, Quantity::reactive_power, Quantity::voltage_l1, Quantity::voltage_l2,
    Quantity::voltage_l3};

/// `meting_type` in the API: actief_vermogen, blind_vermogen, spanning_L1..3.
std::string_view api_name(Quantity q);
/// `waarde_type` in the API: kW, kVAr, V.
std::string_view unit(Quantity q);
/// Field name in the MQTT payload: actief_vermogen_kw, ..., spanning_l3_v.
std::string_view mqtt_field(Quantity q);
/// Decimals served: 0 for power, 1 for voltage.
int decimals(Quantity q);
/// Inverse of api_name; exact, case-sensitive match.
std::optional<Quantity> quantity_from_api_name(std::string_view name);

/// Round half away from zero to `decimals` places. A value within 1e-12 (relative) of a
/// half step counts as the half step, so 231.35 (stored as 231.34999...) rounds to 231.4.
double round_half_away(double value, int decimals);

/// The served value of a canonical mean, as an integer in units of 10^-decimals:
/// -1234567 W -> -1235 (kW); 231.35 V -> 2314 (tenths of a volt). Exact integers
/// let JSON and CSV print "-1235" and "231.4" without float formatting surprises.
std::int64_t served_scaled(Quantity q, double canonical_mean);

/// The served value as text: "-1235" for power, "231.4" (always one decimal) for voltage.
std::string format_served(Quantity q, double canonical_mean);

}  // namespace gw
