// SimUnit: registers, energy integration, truth.
#include "simulator.hpp"

#include <modbus.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "gw/core/time.hpp"

namespace gw::sim {

SimUnit::SimUnit(int unit_id, std::string profile_name, RegisterMap map, ScenarioParams scenario)
    : id_(unit_id), profile_(std::move(profile_name)), map_(map), scenario_(scenario) {
    // Whole register space for both tables: 2 x 128 KiB, and any profile fits.
    mapping_ = modbus_mapping_new(0, 0, 65536, 65536);
}

SimUnit::~SimUnit() {
    modbus_mapping_free(mapping_);
}

void SimUnit::serve(Reg r, double canonical) {
    if (!map_.has(r)) return;
    const RegisterSpec& spec = *map_[r];
    std::vector<std::uint16_t> words;
    auto ov = overrides.find(r);
    if (ov != overrides.end()) {
        words = ov->second.special ? encode_special(spec, *ov->second.special)
                                   : encode_value(spec, ov->second.number);
    } else {
        words = encode_value(spec, canonical);
    }
    std::uint16_t* table = spec.function == RegFunction::holding ? mapping_->tab_registers
                                                                 : mapping_->tab_input_registers;
    for (std::size_t i = 0; i < words.size(); ++i) table[spec.address + i] = words[i];
    auto decoded = decode_value(spec, words);
    served_[static_cast<std::size_t>(r)] = decoded ? std::optional(*decoded) : std::nullopt;
}

void SimUnit::update(std::int64_t utc_ms, double real_ms) {
    if (started_ && real_ms > 0) {
        // The energy counters are the exact integral of the power served since the last update.
        const double hours = real_ms / 3'600'000.0;
        (served_p_w_ >= 0 ? e_import_wh_ : e_export_wh_) += std::fabs(served_p_w_) * hours;
        (served_q_var_ >= 0 ? eq_import_varh_ : eq_export_varh_) +=
            std::fabs(served_q_var_) * hours;
    }
    t_ms_ = utc_ms;
    started_ = true;
    const Instant v = scenario_at(scenario_, utc_ms, id_);
    const Reg p[3] = {Reg::p_l1, Reg::p_l2, Reg::p_l3}, q[3] = {Reg::q_l1, Reg::q_l2, Reg::q_l3};
    const Reg un[3] = {Reg::u_l1n, Reg::u_l2n, Reg::u_l3n},
              ul[3] = {Reg::u_l12, Reg::u_l23, Reg::u_l31};
    double p_sum = 0, q_sum = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        serve(p[i], v.p_w[i]);
        serve(q[i], v.q_var[i]);
        serve(un[i], v.u_ln[i]);
        // Line-to-line from the two phase voltages 120 degrees apart.
        const double a = v.u_ln[i], b = v.u_ln[(i + 1) % 3];
        serve(ul[i], std::sqrt(a * a + b * b + a * b));
        p_sum += v.p_w[i];
        q_sum += v.q_var[i];
    }
    serve(Reg::p_total, p_sum);
    serve(Reg::q_total, q_sum);
    serve(Reg::e_import, e_import_wh_);
    serve(Reg::e_export, e_export_wh_);
    serve(Reg::eq_import, eq_import_varh_);
    serve(Reg::eq_export, eq_export_varh_);
    // What a reader sees as the totals: the total register where there is one, else the phase sum.
    auto reader_total = [&](Reg tot, const Reg* phases) {
        if (map_.has(tot)) return served_[static_cast<std::size_t>(tot)].value_or(0.0);
        double s = 0;
        for (int i = 0; i < 3; ++i) s += served_[static_cast<std::size_t>(phases[i])].value_or(0.0);
        return s;
    };
    served_p_w_ = reader_total(Reg::p_total, p);
    served_q_var_ = reader_total(Reg::q_total, q);
}

std::string SimUnit::truth_json() const {
    std::ostringstream os;
    os.precision(17);
    os << "{\"t_ms\":" << t_ms_ << ",\"t\":\""
       << format_utc_ms(SysMs{std::chrono::milliseconds{t_ms_}}) << "\",\"unit\":" << id_
       << ",\"profile\":\"" << profile_ << "\"";
    for (std::size_t r = 0; r < k_reg_count; ++r) {
        if (!map_.has(static_cast<Reg>(r))) continue;
        os << ",\"" << reg_name(static_cast<Reg>(r)) << "\":";
        if (served_[r])
            os << *served_[r];
        else
            os << "null";
    }
    os << ",\"p_w\":" << served_p_w_ << ",\"q_var\":" << served_q_var_
       << ",\"e_import_exact_wh\":" << e_import_wh_ << ",\"e_export_exact_wh\":" << e_export_wh_
       << "}";
    return os.str();
}

std::string SimUnit::summary() const {
    char buf[200];
    auto at = [&](Reg r) { return served_[static_cast<std::size_t>(r)].value_or(NAN); };
    std::snprintf(buf, sizeof buf,
                  "unit %d %s: P %.1f kW, Q %.1f kVAr, U %.1f/%.1f/%.1f V, E+ %.0f Wh, E- %.0f Wh",
                  id_, profile_.c_str(), served_p_w_ / 1000, served_q_var_ / 1000,
                  map_.has(Reg::u_l1n) ? at(Reg::u_l1n) : at(Reg::u_l12),
                  map_.has(Reg::u_l2n) ? at(Reg::u_l2n) : at(Reg::u_l23),
                  map_.has(Reg::u_l3n) ? at(Reg::u_l3n) : at(Reg::u_l31), e_import_wh_,
                  e_export_wh_);
    return buf;
}

}  // namespace gw::sim
