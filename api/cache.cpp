// The response cache of the data endpoints, and the consent check they share.
#include "params.hpp"

#include <algorithm>

namespace gw {

using namespace std::chrono;
using namespace api;

std::optional<http::Response> Api::check_access(Ctx& ctx, const Window& w) {
    ctx.audit.klant_ean = w.klant.to_string();
    ctx.audit.meter_ean = w.meter.to_string();
    ctx.audit.window_start = time_point_cast<seconds>(w.start);
    ctx.audit.window_end = time_point_cast<seconds>(w.end);
    if (config_.find_customer(w.klant) == nullptr)
        return error(ctx, 404, "not_found",
                     "klant_ean " + w.klant.to_string() + " is not on this gateway");
    auto consent = store_.consent_active(w.klant);
    if (!consent)
        return error(ctx, 503, "storage_unavailable",
                     "storage unavailable: " + consent.error().message);
    if (!*consent)
        return error(ctx, 403, "no_consent",
                     "no active consent for klant_ean " + w.klant.to_string());
    if (w.meter_cfg == nullptr || w.meter_cfg->klant_ean != w.klant)
        return error(ctx, 404, "not_found",
                     "meter_ean " + w.meter.to_string() + " does not belong to klant_ean " +
                         w.klant.to_string());
    return std::nullopt;
}

namespace {
constexpr std::size_t k_cache_entries = 32;
constexpr std::size_t k_cache_bytes = std::size_t{16} * 1024 * 1024;
}  // namespace

std::optional<http::Response> Api::cached(Ctx& ctx) {
    auto it = cache_.find(ctx.req.target);
    if (it == cache_.end()) return std::nullopt;
    auto dv = store_.data_version();
    if (!dv || *dv != it->second.data_version || it->second.generation != generation_) {
        cache_bytes_ -= it->second.response.text().size();
        cache_.erase(it);
        return std::nullopt;
    }
    it->second.used = ++cache_clock_;
    ctx.audit.rows = it->second.rows;
    return it->second.response;  // the body is shared, not copied
}

http::Response Api::remember(Ctx& ctx, http::Response r) {
    if (r.status != 200 || r.body.size() > k_cache_bytes / 4) return r;
    auto dv = store_.data_version();
    if (!dv) return r;
    while (!cache_.empty() &&
           (cache_.size() >= k_cache_entries || cache_bytes_ + r.body.size() > k_cache_bytes)) {
        auto oldest = std::min_element(
            cache_.begin(), cache_.end(),
            [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
        cache_bytes_ -= oldest->second.response.text().size();
        cache_.erase(oldest);
    }
    cache_bytes_ += r.body.size();
    r.shared_body = std::make_shared<const std::string>(std::move(r.body));
    r.body.clear();
    cache_[ctx.req.target] = Cached{generation_, *dv, r, ctx.audit.rows, ++cache_clock_};
    return r;
}

}  // namespace gw
