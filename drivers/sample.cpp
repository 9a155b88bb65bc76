// Raw register values -> sample.
#include "gw/drivers/sample.hpp"

#include <cmath>
#include <sstream>

#include "gw/drivers/decode.hpp"

namespace gw {

RawValues decode_blocks(const RegisterMap& map, const ReadPlan& plan,
                        std::span<const std::vector<std::uint16_t>> words,
                        std::optional<Error>& first_error) {
    RawValues out{};
    for (std::size_t b = 0; b < plan.blocks.size() && b < words.size(); ++b) {
        const ReadBlock& block = plan.blocks[b];
        for (Reg r : block.members) {
            const RegisterSpec& spec = *map[r];
            const std::size_t offset = spec.address - block.start;
            const std::size_t n = register_count(spec.type);
            if (offset + n > words[b].size()) continue;
            auto v =
                decode_value(spec, std::span<const std::uint16_t>(words[b]).subspan(offset, n));
            if (v) {
                out[static_cast<std::size_t>(r)] = *v;
            } else if (!first_error) {
                first_error =
                    Error{v.error().code, std::string(reg_name(r)) + ": " + v.error().message};
            }
        }
    }
    return out;
}

namespace {

std::optional<double> get(const RawValues& raw, Reg r) {
    return raw[static_cast<std::size_t>(r)];
}

/// The total register, or the sum of the three phases.
std::optional<double> total(const RegisterMap& map, const RawValues& raw, Reg tot, Reg l1, Reg l2,
                            Reg l3) {
    if (map.has(tot)) return get(raw, tot);
    const auto a = get(raw, l1), b = get(raw, l2), c = get(raw, l3);
    if (!a || !b || !c) return std::nullopt;
    return *a + *b + *c;
}

Error missing(Reg r) {
    return make_error(Errc::value_not_available,
                      std::string(reg_name(r)) + ": no valid value in this read");
}

std::string num(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

}  // namespace

Result<Sample> make_sample(const MeterConfig& meter, const RawValues& raw, SysMs at,
                           SteadyMs steady) {
    const RegisterMap& map = meter.registers;
    const double power_ratio = meter.ct_ratio * meter.vt_ratio;
    const double sign = meter.sign == SignConvention::import_positive ? 1.0 : -1.0;

    const auto p = total(map, raw, Reg::p_total, Reg::p_l1, Reg::p_l2, Reg::p_l3);
    if (!p) return missing(map.has(Reg::p_total) ? Reg::p_total : Reg::p_l1);
    const auto q = total(map, raw, Reg::q_total, Reg::q_l1, Reg::q_l2, Reg::q_l3);
    if (!q) return missing(map.has(Reg::q_total) ? Reg::q_total : Reg::q_l1);

    Sample s;
    s.at = at;
    s.steady = steady;
    s.p_w = sign * *p * power_ratio;
    s.q_var = sign * *q * power_ratio;
    const Reg phase_p[3] = {Reg::p_l1, Reg::p_l2, Reg::p_l3};
    const Reg phase_q[3] = {Reg::q_l1, Reg::q_l2, Reg::q_l3};
    for (std::size_t i = 0; i < 3; ++i) {
        if (const auto v = get(raw, phase_p[i])) s.p_phase_w[i] = sign * *v * power_ratio;
        if (const auto v = get(raw, phase_q[i])) s.q_phase_var[i] = sign * *v * power_ratio;
    }
    const Reg volts[2][3] = {{Reg::u_l1n, Reg::u_l2n, Reg::u_l3n},
                             {Reg::u_l12, Reg::u_l23, Reg::u_l31}};
    for (int i = 0; i < 3; ++i) {
        const Reg r = volts[meter.voltage == VoltageMode::phase_to_neutral ? 0 : 1][i];
        const auto u = get(raw, r);
        if (!u) return missing(r);
        s.u_v[static_cast<std::size_t>(i)] = *u * meter.vt_ratio;
    }
    auto energy = [&](Reg r) -> std::optional<double> {
        const auto v = get(raw, r);
        return v ? std::optional(*v * power_ratio) : std::nullopt;
    };
    // A meter that counts export as positive has its "import" register counting our export.
    const bool swap = meter.sign == SignConvention::export_positive;
    s.e_import_wh = energy(swap ? Reg::e_export : Reg::e_import);
    s.e_export_wh = energy(swap ? Reg::e_import : Reg::e_export);
    s.eq_import_varh = energy(swap ? Reg::eq_export : Reg::eq_import);
    s.eq_export_varh = energy(swap ? Reg::eq_import : Reg::eq_export);

    const PlausibilityLimits& lim = meter.limits;
    const double max_w = lim.max_abs_power_kw * 1000.0;
    if (std::fabs(s.p_w) > max_w)
        return make_error(Errc::value_implausible, "active power " + num(s.p_w) +
                                                       " W beyond the limit of " +
                                                       num(lim.max_abs_power_kw) + " kW");
    if (std::fabs(s.q_var) > max_w)
        return make_error(Errc::value_implausible, "reactive power " + num(s.q_var) +
                                                       " var beyond the limit of " +
                                                       num(lim.max_abs_power_kw) + " kVAr");
    for (int i = 0; i < 3; ++i) {
        const double u = s.u_v[static_cast<std::size_t>(i)];
        if (u < lim.min_voltage_v || u > lim.max_voltage_v)
            return make_error(Errc::value_implausible,
                              "voltage L" + std::to_string(i + 1) + " " + num(u) + " V outside " +
                                  num(lim.min_voltage_v) + ".." + num(lim.max_voltage_v) + " V");
    }
    for (const auto& e : {s.e_import_wh, s.e_export_wh, s.eq_import_varh, s.eq_export_varh})
        if (e && *e < 0)
            return make_error(Errc::value_implausible, "negative energy counter " + num(*e));
    return s;
}

}  // namespace gw
