// Quantity names, units and rounding.
#include "gw/core/quantity.hpp"

#include <cmath>

namespace gw {

std::string_view api_name(Quantity q) {
    switch (q) {
        case Quantity::active_power:
            return "actief_vermogen";
        case Quantity::reactive_power:
            return "blind_vermogen";
        case Quantity::voltage_l1:
            return "spanning_L1";
        case Quantity::voltage_l2:
            return "spanning_L2";
        case Quantity::voltage_l3:
            return "spanning_L3";
    }
    return {};
}

std::string_view unit(Quantity q) {
    switch (q) {
        case Quantity::active_power:
            return "kW";
        case Quantity::reactive_power:
            return "kVAr";
        default:
            return "V";
    }
}

std::string_view mqtt_field(Quantity q) {
    switch (q) {
        case Quantity::active_power:
            return "actief_vermogen_kw";
        case Quantity::reactive_power:
            return "blind_vermogen_kvar";
        case Quantity::voltage_l1:
            return "spanning_l1_v";
        case Quantity::voltage_l2:
            return "spanning_l2_v";
        case Quantity::voltage_l3:
            return "spanning_l3_v";
    }
    return {};
}

int decimals(Quantity q) {
    return q == Quantity::active_power || q == Quantity::reactive_power ? 0 : 1;
}

std::optional<Quantity> quantity_from_api_name(std::string_view name) {
    for (Quantity q : k_all_quantities)
        if (api_name(q) == name) return q;
    return std::nullopt;
}

namespace {

double round_scaled(double scaled) {
    const double whole = std::trunc(scaled);
    const double frac = std::fabs(scaled - whole);
    // A few ulps: enough for 231.35 (231.3499999...) and sums of means, far below any real digit.
    const double tolerance = 1e-12 * std::max(1.0, std::fabs(scaled));
    if (std::fabs(frac - 0.5) <= tolerance) return whole + (scaled < 0 ? -1.0 : 1.0);
    return std::round(scaled);  // std::round is half away from zero
}

}  // namespace

double round_half_away(double value, int places) {
    const double factor = std::pow(10.0, places);
    return round_scaled(value * factor) / factor;
}

std::int64_t served_scaled(Quantity q, double canonical_mean) {
    // Divide rather than multiply by 1e-3: 1234500 / 1000.0 is exactly 1234.5.
    const bool power = q == Quantity::active_power || q == Quantity::reactive_power;
    const double served = power ? canonical_mean / 1000.0 : canonical_mean;
    return static_cast<std::int64_t>(round_scaled(served * std::pow(10.0, decimals(q))));
}

std::string format_served(Quantity q, double canonical_mean) {
    const std::int64_t scaled = served_scaled(q, canonical_mean);
    if (decimals(q) == 0) return std::to_string(scaled);
    const std::int64_t mag = scaled < 0 ? -scaled : scaled;
    return (scaled < 0 ? "-" : "") + std::to_string(mag / 10) + "." + std::to_string(mag % 10);
}

}  // namespace gw
