// Resampling.
#include "gw/core/resample.hpp"

namespace gw {

using namespace std::chrono;

QuantityValues values_of(const IntervalRecord& r) {
    return {r.p_w, r.q_var, r.u1_v, r.u2_v, r.u3_v};
}

std::vector<Bucket> resample(const std::vector<IntervalRecord>& intervals, int interval_s,
                             int bucket_s, SysMs from, SysS to) {
    struct Sums {
        std::array<double, 5> sum{};
        std::array<int, 5> count{};
    };
    std::vector<Bucket> out;
    std::vector<Sums> sums;
    for (const auto& r : intervals) {
        const auto e = r.end.time_since_epoch().count();
        const SysS end{seconds{((e + bucket_s - 1) / bucket_s) * bucket_s}};
        if (SysMs{(end - seconds{bucket_s}).time_since_epoch()} < from || end > to) continue;
        if (out.empty() || out.back().end != end) {
            out.push_back({end, {}, Quality::gemeten, 0});
            sums.emplace_back();
        }
        const auto vals = values_of(r);
        for (std::size_t i = 0; i < vals.size(); ++i)
            if (vals[i]) {
                sums.back().sum[i] += *vals[i];
                sums.back().count[i] += 1;
            }
        if (r.quality == Quality::onvolledig) out.back().quality = Quality::onvolledig;
        out.back().parts += 1;
    }
    const int parts = bucket_s / interval_s;
    for (std::size_t b = 0; b < out.size(); ++b) {
        if (out[b].parts < parts) out[b].quality = Quality::onvolledig;
        for (std::size_t i = 0; i < out[b].values.size(); ++i)
            if (sums[b].count[i] > 0) out[b].values[i] = sums[b].sum[i] / sums[b].count[i];
    }
    return out;
}

}  // namespace gw
