// Scenario formulas.
#include "scenario.hpp"

#include <cmath>

namespace gw::sim {
namespace {

constexpr double k_pi = 3.14159265358979323846;

/// A reproducible pseudo-random number in [-1, 1) from a key (splitmix64).
double noise(std::uint64_t key) {
    std::uint64_t z = key + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 52) - 1.0;
}

/// Solar production (>= 0, kW) at hour-of-day h: a bell between 06:00 and 20:00 UTC.
double solar_kw(double peak, double h) {
    if (h < 6 || h > 20) return 0;
    return peak * std::pow(std::sin(k_pi * (h - 6) / 14), 2);
}

}  // namespace

bool parse_scenario_kind(const std::string& text, ScenarioKind& out) {
    if (text == "fixed")
        out = ScenarioKind::fixed;
    else if (text == "solar")
        out = ScenarioKind::solar;
    else if (text == "swing")
        out = ScenarioKind::swing;
    else
        return false;
    return true;
}

Instant scenario_at(const ScenarioParams& p, std::int64_t utc_ms, int unit) {
    Instant out;
    const double day_ms = 86'400'000.0;
    const double h = std::fmod(static_cast<double>(utc_ms), day_ms) / 3'600'000.0;
    const std::uint64_t tick =
        static_cast<std::uint64_t>(utc_ms / 100);  // noise changes every 100 ms of scenario time
    const std::uint64_t key = p.seed * 1'000'003ULL + static_cast<std::uint64_t>(unit) * 7919ULL;
    double p_kw = 0, q_kvar = 0;
    switch (p.kind) {
        case ScenarioKind::fixed:
            p_kw = p.p_kw;
            q_kvar = p.q_kvar;
            break;
        case ScenarioKind::solar: {
            // A production meter: export (negative) while the sun shines, a small night load.
            const double prod = solar_kw(p.peak_kw, h) * (1 + 0.02 * noise(key ^ tick));
            p_kw = prod > 0 ? -prod : 0.4;
            q_kvar = -0.05 * prod + 0.1;
            break;
        }
        case ScenarioKind::swing: {
            // A transfer point: site load minus production, crossing between import and export.
            const double load = 0.3 * p.peak_kw * (1 + 0.3 * std::sin(2 * k_pi * h / 24 * 3));
            const double swing =
                0.25 * p.peak_kw * std::sin(2 * k_pi * static_cast<double>(utc_ms) / 600'000.0);
            p_kw = load - solar_kw(p.peak_kw, h) + swing + 0.01 * p.peak_kw * noise(key ^ tick);
            q_kvar = 0.1 * load - 0.02 * p_kw;
            break;
        }
    }
    const std::array<double, 3> share{0.34, 0.33, 0.33};
    for (std::size_t i = 0; i < 3; ++i) {
        out.p_w[i] = p_kw * 1000 * share[i];
        out.q_var[i] = q_kvar * 1000 * share[i];
        const double u_nom = p.kind == ScenarioKind::fixed
                                 ? p.u_v
                                 : p.u_v + 1.5 * std::sin(2 * k_pi * h / 24 + double(i));
        out.u_ln[i] =
            u_nom + (p.kind == ScenarioKind::fixed ? 0 : p.noise_v * noise(key ^ (tick * 3 + i)));
    }
    return out;
}

}  // namespace gw::sim
