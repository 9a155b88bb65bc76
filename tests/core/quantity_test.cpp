// Quantity names and the rounding rules of SPEC section 2.
#include <doctest/doctest.h>

#include "gw/core/quantity.hpp"

using gw::Quantity;

TEST_CASE("API names, units and MQTT fields") {
    CHECK(gw::api_name(Quantity::active_power) == "actief_vermogen");
    CHECK(gw::api_name(Quantity::reactive_power) == "blind_vermogen");
    CHECK(gw::api_name(Quantity::voltage_l2) == "spanning_L2");
    CHECK(gw::unit(Quantity::active_power) == "kW");
    CHECK(gw::unit(Quantity::reactive_power) == "kVAr");
    CHECK(gw::unit(Quantity::voltage_l3) == "V");
    CHECK(gw::mqtt_field(Quantity::reactive_power) == "blind_vermogen_kvar");
    CHECK(gw::mqtt_field(Quantity::voltage_l1) == "spanning_l1_v");
    for (Quantity q : gw::k_all_quantities) CHECK(gw::quantity_from_api_name(gw::api_name(q)) == q);
    CHECK_FALSE(gw::quantity_from_api_name("spanning_l1").has_value());  // case matters
    CHECK_FALSE(gw::quantity_from_api_name("").has_value());
}

TEST_CASE("round half away from zero") {
    CHECK(gw::round_half_away(2.5, 0) == 3);
    CHECK(gw::round_half_away(-2.5, 0) == -3);
    CHECK(gw::round_half_away(0.5, 0) == 1);
    CHECK(gw::round_half_away(-0.5, 0) == -1);
    CHECK(gw::round_half_away(2.4999, 0) == 2);
    CHECK(gw::round_half_away(-2.4999, 0) == -2);
    CHECK(gw::round_half_away(231.35, 1) ==
          doctest::Approx(231.4));  // 231.35 is 231.349999... in binary
    CHECK(gw::round_half_away(-231.35, 1) == doctest::Approx(-231.4));
    CHECK(gw::round_half_away(231.34, 1) == doctest::Approx(231.3));
    CHECK(gw::round_half_away(0.05, 1) == doctest::Approx(0.1));
}

TEST_CASE("power is served in whole kW, rounded half away from zero after averaging") {
    CHECK(gw::served_scaled(Quantity::active_power, 1'234'500.0) == 1235);
    CHECK(gw::served_scaled(Quantity::active_power, -1'234'500.0) == -1235);
    CHECK(gw::served_scaled(Quantity::active_power, 1'234'499.999) == 1234);
    CHECK(gw::served_scaled(Quantity::active_power, -1'234'499.999) == -1234);
    CHECK(gw::served_scaled(Quantity::reactive_power, 499.0) == 0);
    CHECK(gw::served_scaled(Quantity::reactive_power, 500.0) == 1);
    CHECK(gw::served_scaled(Quantity::reactive_power, -500.0) == -1);
    CHECK(gw::format_served(Quantity::active_power, -1'234'000.0) == "-1234");
    CHECK(gw::format_served(Quantity::active_power, -400.0) == "0");  // no "-0"
}

TEST_CASE("voltage is served with exactly one decimal") {
    CHECK(gw::served_scaled(Quantity::voltage_l1, 231.35) == 2314);
    CHECK(gw::served_scaled(Quantity::voltage_l1, 231.449) == 2314);
    CHECK(gw::format_served(Quantity::voltage_l1, 231.35) == "231.4");
    CHECK(gw::format_served(Quantity::voltage_l2, 230.0) == "230.0");
    CHECK(gw::format_served(Quantity::voltage_l3, 230.96) == "231.0");
    CHECK(gw::format_served(Quantity::voltage_l3, 0.04) == "0.0");
    CHECK(gw::format_served(Quantity::voltage_l3, -0.05) == "-0.1");
    CHECK(gw::format_served(Quantity::voltage_l1, 10'500.25) == "10500.3");  // MV site behind a VT
}
