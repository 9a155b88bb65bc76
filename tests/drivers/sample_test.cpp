// From raw register values to a sample: totals, sign convention, CT/VT, plausibility.
#include <doctest/doctest.h>

#include "gw/drivers/profile.hpp"
#include "gw/drivers/sample.hpp"

using gw::Reg;

namespace {
gw::MeterConfig meter(const char* profile = "eastron-sdm630") {
    gw::MeterConfig m;
    m.registers = gw::find_profile(profile)->map;
    return m;
}
gw::RawValues raw(double p, double q, double u, double e_imp = 100, double e_exp = 200) {
    gw::RawValues r{};
    auto set = [&](Reg g, double v) { r[static_cast<std::size_t>(g)] = v; };
    set(Reg::p_total, p);
    set(Reg::q_total, q);
    for (Reg g : {Reg::u_l1n, Reg::u_l2n, Reg::u_l3n}) set(g, u);
    for (Reg g : {Reg::u_l12, Reg::u_l23, Reg::u_l31}) set(g, u * 1.732);
    set(Reg::p_l1, p / 3);
    set(Reg::p_l2, p / 3);
    set(Reg::p_l3, p / 3);
    set(Reg::e_import, e_imp);
    set(Reg::e_export, e_exp);
    set(Reg::eq_import, 10);
    set(Reg::eq_export, 20);
    return r;
}
gw::Sample ok(const gw::MeterConfig& m, const gw::RawValues& r) {
    auto s = gw::make_sample(m, r, gw::SysMs{}, gw::SteadyMs{});
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
    return *s;
}
}  // namespace

TEST_CASE("an import-positive meter passes values through") {
    const auto s = ok(meter(), raw(-50'000, 5'000, 230.5));
    CHECK(s.p_w == -50'000);
    CHECK(s.q_var == 5'000);
    CHECK(s.u_v[2] == 230.5);
    CHECK(*s.e_import_wh == 100);
    CHECK(*s.e_export_wh == 200);
}

TEST_CASE("an export-positive meter is flipped, and its energy registers swap roles") {
    auto m = meter();
    m.sign = gw::SignConvention::export_positive;
    const auto s = ok(m, raw(-50'000, 5'000, 230.5));
    CHECK(s.p_w == 50'000);
    CHECK(s.q_var == -5'000);
    CHECK(*s.e_import_wh == 200);
    CHECK(*s.e_export_wh == 100);
    CHECK(*s.eq_import_varh == 20);
    CHECK(s.u_v[0] == 230.5);  // voltage has no sign
}

TEST_CASE("CT and VT ratios multiply secondary values") {
    auto m = meter();
    m.ct_ratio = 40;
    m.vt_ratio = 100;
    const auto s = ok(m, raw(-50, 5, 100));
    CHECK(s.p_w == -50.0 * 4000);
    CHECK(s.q_var == 5.0 * 4000);
    CHECK(s.u_v[1] == 10'000);
    CHECK(*s.e_import_wh == 100.0 * 4000);
}

TEST_CASE("phases are summed where the map has no total register") {
    auto m = meter();
    m.registers[Reg::p_total].reset();
    const auto s = ok(m, raw(-300, 0, 230));
    CHECK(s.p_w == doctest::Approx(-300));
}

TEST_CASE("the voltage mode picks the registers") {
    auto m = meter();
    m.voltage = gw::VoltageMode::phase_to_phase;
    CHECK(ok(m, raw(0, 0, 230)).u_v[0] == doctest::Approx(230 * 1.732));
}

TEST_CASE("missing values and implausible ones are errors") {
    auto r = raw(-50'000, 5'000, 230);
    r[static_cast<std::size_t>(Reg::u_l2n)].reset();
    auto missing = gw::make_sample(meter(), r, gw::SysMs{}, gw::SteadyMs{});
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == gw::Errc::value_not_available);
    CHECK(missing.error().message.find("u_l2n") != std::string::npos);

    auto m = meter();
    m.limits.max_abs_power_kw = 40;
    auto big = gw::make_sample(m, raw(-50'000, 5'000, 230), gw::SysMs{}, gw::SteadyMs{});
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().code == gw::Errc::value_implausible);
    m.limits = {};
    m.limits.min_voltage_v = 180;
    CHECK(gw::make_sample(m, raw(0, 0, 0), gw::SysMs{}, gw::SteadyMs{}).error().code ==
          gw::Errc::value_implausible);
}

TEST_CASE("a missing energy value keeps the sample but not the energy") {
    auto r = raw(-50'000, 5'000, 230);
    r[static_cast<std::size_t>(Reg::e_export)].reset();
    const auto s = ok(meter(), r);
    CHECK_FALSE(s.e_export_wh.has_value());
    CHECK(*s.e_import_wh == 100);
}
