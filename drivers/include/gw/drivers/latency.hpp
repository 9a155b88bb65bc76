// A histogram of Modbus request durations, for the metrics.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace gw {

/// Upper bounds (seconds) of the Modbus request duration histogram.
inline constexpr std::array<double, 10> k_latency_bounds_s{0.005, 0.01, 0.025, 0.05, 0.1,
                                                           0.25,  0.5,  1,     2.5,  5};

/// Durations of Modbus requests (one read transaction each, answered or not).
struct LatencyHistogram {
    /// counts[i]: requests that took at most k_latency_bounds_s[i] and more than the bound
    /// before; the last entry: longer than every bound.
    std::array<std::uint64_t, k_latency_bounds_s.size() + 1> counts{};
    double sum_s = 0;
    std::uint64_t count = 0;
    void note(double seconds) {
        std::size_t i = 0;
        while (i < k_latency_bounds_s.size() && seconds > k_latency_bounds_s[i]) ++i;
        ++counts[i];
        sum_s += seconds;
        ++count;
    }
};

}  // namespace gw
