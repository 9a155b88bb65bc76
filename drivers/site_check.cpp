#include "gw/drivers/site_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gw {

namespace {

std::string kw(double w) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f kW", std::fabs(w) / 1000.0);
    return buf;
}

const char* sign_name(SignConvention s) {
    return s == SignConvention::import_positive ? "import_positive" : "export_positive";
}

const char* other_sign(SignConvention s) {
    return s == SignConvention::import_positive ? "export_positive" : "import_positive";
}

}  // namespace

std::vector<SiteProblem> check_site(const std::vector<MeterReading>& meters) {
    std::vector<SiteProblem> out;
    for (const auto& m : meters) {
        const std::string ean = m.meter->meter_ean.to_string();
        switch (m.link) {
            case LinkState::ok:
                break;
            case LinkState::unknown:
                out.push_back({ean, "link", "meter " + ean + " has not been polled yet"});
                break;
            case LinkState::degraded:
            case LinkState::down:
                out.push_back({ean, "link",
                               "meter " + ean + " (link " + m.meter->link + ", unit " +
                                   std::to_string(m.meter->unit_id) + ") is " +
                                   link_state_name(m.link) +
                                   (m.last_error ? ": " + *m.last_error : std::string())});
                break;
        }
    }

    // Production, from the production meters whose own sign is plausible.
    double production_w = 0;  // negative: export
    bool producing = false;
    for (const auto& m : meters) {
        if (m.meter->type != MeterType::bruto_productie || !m.sample) continue;
        const double p = m.sample->p_w;
        const std::string ean = m.meter->meter_ean.to_string();
        if (p > k_sign_floor_w) {
            out.push_back({ean, "sign",
                           "production meter " + ean + " reads an import of " + kw(p) +
                               ". A production meter shows what the site produces as export "
                               "(-). If the site is producing now, its sign setting (" +
                               sign_name(m.meter->sign) + ") looks wrong: try sign = \"" +
                               other_sign(m.meter->sign) + "\"."});
        } else if (p < -k_sign_floor_w) {
            production_w += p;
            producing = true;
        }
    }
    if (!producing) return out;
    const double floor = std::max(k_sign_floor_w, 0.05 * std::fabs(production_w));
    for (const auto& m : meters) {
        if (m.meter->type != MeterType::overdrachtspunt || !m.sample) continue;
        const double p = m.sample->p_w;
        if (p <= floor) continue;
        const std::string ean = m.meter->meter_ean.to_string();
        out.push_back({ean, "sign",
                       "transfer point " + ean + " reads an import of " + kw(p) +
                           " while the production meters show " + kw(production_w) +
                           " of production. Unless the site itself draws more than " +
                           kw(std::fabs(production_w) + p) + ", its sign setting (" +
                           sign_name(m.meter->sign) + ") looks wrong: try sign = \"" +
                           other_sign(m.meter->sign) + "\"."});
    }
    return out;
}

}  // namespace gw
