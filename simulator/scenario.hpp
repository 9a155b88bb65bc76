// Simulated electrical values over time: a solar day, import/export swings, or fixed values.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace gw::sim {

/// Instantaneous per-phase values in the meter's own (import-positive) convention.
struct Instant {
    std::array<double, 3> p_w{};
    std::array<double, 3> q_var{};
    std::array<double, 3> u_ln{};
};

enum class ScenarioKind { fixed, solar, swing };

struct ScenarioParams {
    ScenarioKind kind = ScenarioKind::solar;
    double peak_kw = 100;  ///< solar: peak export; swing: amplitude
    double p_kw = -50;     ///< fixed: total active power
    double q_kvar = 5;     ///< fixed: total reactive power
    double u_v = 230;      ///< fixed: phase-to-neutral voltage; others: nominal
    double noise_v = 0.8;  ///< voltage noise amplitude
    std::uint64_t seed = 1;
};

/// Deterministic in (params, time): the same inputs give the same values on every run.
Instant scenario_at(const ScenarioParams& p, std::int64_t utc_ms, int unit);

bool parse_scenario_kind(const std::string& text, ScenarioKind& out);

}  // namespace gw::sim
