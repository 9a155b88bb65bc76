// Gateway health: version, uptime, clock, meters, MQTT, storage and the TLS certificate.
#include <boost/json.hpp>

#include "params.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;
namespace json = boost::json;

namespace {

json::value opt_time(const std::optional<SysS>& t) {
    return t ? json::value(format_utc(*t)) : json::value(nullptr);
}

}  // namespace

http::Response Api::status(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    const SysMs now = clock_.utc_now();
    GatewayLive live = live_ ? live_() : GatewayLive{now};
    json::object o{{"version", version_},
                   {"gateway_id", config_.gateway.id},
                   {"interval_s", config_.gateway.interval_s},
                   {"now", format_utc_ms(now)}};
    o["started_at"] = format_utc_ms(live.started_at);
    o["uptime_s"] = duration_cast<seconds>(now - live.started_at).count();
    o["clock"] = json::object{{"trusted", live.clock_trusted}, {"status", live.clock_status}};

    // A reader sees only the meters of customers whose consent it holds.
    auto visible = [&](const std::string& meter_ean) -> Result<bool> {
        if (ctx.who->role == Role::admin) return true;
        auto ean = Ean18::parse(meter_ean);
        const MeterConfig* m = ean ? config_.find_meter(*ean) : nullptr;
        if (m == nullptr) return false;
        return store_.consent_active(m->klant_ean);
    };
    json::array meters;
    for (const auto& m : live.meters) {
        auto ok = visible(m.meter_ean);
        if (!ok)
            return error(ctx, 503, "storage_unavailable",
                         "storage unavailable: " + ok.error().message);
        if (!*ok) continue;
        json::object mo{
            {"meter_ean", m.meter_ean},
            {"link_state", !m.link_up   ? "unknown"
                           : *m.link_up ? "up"
                                        : "down"},
            {"last_success",
             m.last_success ? json::value(format_utc_ms(*m.last_success)) : json::value(nullptr)},
            {"last_error", m.last_error ? json::value(*m.last_error) : json::value(nullptr)}};
        json::object c;
        for (const auto& [k, v] : m.counters) c[k] = v;
        mo["counters"] = c;
        meters.push_back(mo);
    }
    o["meters"] = meters;

    // Storage: the store's figures when it can be read; why intervals are held when it cannot
    // be written. The status answers either way.
    auto st = store_.stats();
    std::string state = live.storage_state, why = live.storage_error;
    if (state == "ok" && !st) {
        state = "unavailable";
        why = st.error().message;
    }
    json::object storage{{"state", state},
                         {"error", why.empty() ? json::value(nullptr) : json::value(why)},
                         {"uncommitted_in_memory", live.pending_commits},
                         {"uncommitted_limit", live.pending_limit},
                         {"uncommitted_dropped", live.pending_dropped}};
    if (st) {
        storage["bytes"] = st->file_bytes;
        storage["wal_bytes"] = st->wal_bytes;
        storage["schema_version"] = st->schema_version;
        storage["intervals"] = st->intervals;
        storage["oldest_interval"] = opt_time(st->oldest_interval);
        storage["newest_interval"] = opt_time(st->newest_interval);
    }
    o["mqtt"] =
        json::object{{"enabled", config_.mqtt.enabled},
                     {"state", live.mqtt_state},
                     {"backlog", st ? json::value(st->pending_forward) : json::value(nullptr)},
                     {"oldest_unsent", st ? opt_time(st->oldest_pending) : json::value(nullptr)}};
    o["storage"] = storage;

    if (live.tls_not_after) {
        const auto days_left = duration_cast<hours>(*live.tls_not_after - now).count() / 24;
        json::object tls{{"certificate", live.tls_certificate},
                         {"not_after", format_utc(*live.tls_not_after)},
                         {"days_left", days_left}};
        tls["warning"] =
            *live.tls_not_after <= now
                ? json::value(
                      "the certificate has expired: clients that check it refuse to connect")
            : days_left <= 30
                ? json::value("the certificate expires within 30 days: install a new one")
                : json::value(nullptr);
        o["tls"] = tls;
    }
    http::Response r;
    r.no_store = true;
    r.body = json::serialize(o);
    return r;
}

}  // namespace gw
