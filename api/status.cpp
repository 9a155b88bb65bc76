// Gateway health: version, uptime, clock, meters, MQTT, storage and the TLS certificate.
#include "params.hpp"

#include "gw/core/json.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

const OperationDoc api::k_status_doc{
    "getStatus",
    "Gateway health",
    "Version, uptime, the clock, each meter's link state and counters (a reader sees only the "
    "meters of customers with consent), MQTT, storage and the TLS certificate. It answers "
    "also while storage is unavailable.",
    nullptr,
    nullptr,
    "Status",
    false,
    {400, 401, 429, 500, 503},
    {{"Status",
      std::string(
          R"({"type":"object","additionalProperties":false,"required":["version","gateway_id",)"
          R"("interval_s","now","started_at","uptime_s","clock","meters","mqtt","storage"],)"
          R"("properties":{"version":{"type":"string"},"gateway_id":{"type":"string"},)"
          R"("interval_s":{"type":"integer","minimum":1},"now":)") +
          schema::utc + R"(,"started_at":)" + schema::utc +
          R"(,"uptime_s":{"type":"integer","minimum":0},"clock":{"type":"object",)"
          R"("additionalProperties":false,"required":["trusted","status"],"properties":{)"
          R"("trusted":{"type":"boolean","description":"Intervals are stamped only while )"
          R"(the clock is trusted."},"status":{"type":"string"}}},"meters":{"type":"array",)"
          R"("items":{"type":"object","additionalProperties":false,"required":["meter_ean",)"
          R"("link_state","last_success","last_error","counters"],"properties":{"meter_ean":)" +
          schema::ean + R"(,"link_state":)" + schema::link_state + R"(,"last_success":)" +
          schema::utc_or_null + R"(,"last_error":{"type":"string","nullable":true},"counters":)" +
          schema::counters +
          R"(}}},"mqtt":{"type":"object","additionalProperties":false,"required":["enabled",)"
          R"("state","error","backlog","oldest_unsent"],"properties":{"enabled":{"type":)"
          R"("boolean"},"state":{"type":"string","enum":["disabled","connecting","connected",)"
          R"("disconnected"]},"error":{"type":"string","nullable":true},"backlog":{"type":)"
          R"("integer","minimum":0,"nullable":true,"description":"Committed intervals not )"
          R"(yet acknowledged by the broker; null when storage cannot be read."},)"
          R"("oldest_unsent":)" +
          schema::utc_or_null +
          R"(}},"storage":{"type":"object","additionalProperties":false,"required":["state",)"
          R"("error","uncommitted_in_memory","uncommitted_limit","uncommitted_dropped"],)"
          R"("properties":{"state":{"type":"string","enum":["ok","failing","unavailable"],)"
          R"("description":"failing: commits fail and closed intervals are held in memory; )"
          R"(unavailable: the data file cannot be opened or read."},"error":{"type":"string",)"
          R"("nullable":true},"uncommitted_in_memory":{"type":"integer","minimum":0},)"
          R"("uncommitted_limit":{"type":"integer","minimum":0},"uncommitted_dropped":)"
          R"({"type":"integer","minimum":0},"bytes":{"type":"integer","minimum":0},)"
          R"("wal_bytes":{"type":"integer","minimum":0},"schema_version":{"type":"integer"},)"
          R"("intervals":{"type":"integer","minimum":0},"oldest_interval":)" +
          schema::utc_or_null + R"(,"newest_interval":)" + schema::utc_or_null +
          R"(}},"tls":{"type":"object","additionalProperties":false,"required":[)"
          R"("certificate","not_after","days_left","warning"],"properties":{"certificate":)"
          R"({"type":"string"},"not_after":)" +
          schema::utc +
          R"(,"days_left":{"type":"integer"},"warning":{"type":"string","nullable":true}}}}})"}}};

namespace {

SysS secs(SysMs t) {
    return time_point_cast<seconds>(t);
}

void opt_time(JsonWriter& w, std::string_view key, const std::optional<SysS>& t) {
    w.key(key);
    t ? w.string(format_utc(*t)) : w.null();
}

}  // namespace

http::Response Api::status(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    const SysMs now = clock_.utc_now();
    GatewayLive live = live_ ? live_() : GatewayLive{now};
    JsonWriter o;
    o.object().field("version", version_).field("gateway_id", config_.gateway.id);
    o.key("interval_s").integer(config_.gateway.interval_s).field("now", format_utc(secs(now)));
    o.field("started_at", format_utc(secs(live.started_at)));
    o.key("uptime_s")
        .integer(static_cast<std::int64_t>(duration_cast<seconds>(now - live.started_at).count()));
    o.key("clock").object().key("trusted").boolean(live.clock_trusted);
    o.field("status", live.clock_status).end();

    // A reader sees only the meters of customers whose consent it holds.
    auto visible = [&](const std::string& meter_ean) -> Result<bool> {
        if (ctx.who->role != Role::reader) return true;
        auto ean = Ean18::parse(meter_ean);
        const MeterConfig* m = ean ? config_.find_meter(*ean) : nullptr;
        if (m == nullptr) return false;
        return store_.consent_active(m->klant_ean);
    };
    o.key("meters").array();
    for (const auto& m : live.meters) {
        auto ok = visible(m.meter_ean);
        if (!ok)
            return error(ctx, 503, "storage_unavailable",
                         "storage unavailable: " + ok.error().message);
        if (!*ok) continue;
        o.object()
            .field("meter_ean", m.meter_ean)
            .field("link_state", link_state_name(m.link_state));
        o.key("last_success");
        m.last_success ? o.string(format_utc(secs(*m.last_success))) : o.null();
        o.field("last_error", m.last_error).key("counters").object();
        for (const auto& [k, v] : m.counters) o.key(k).integer(v);
        o.end().end();
    }
    o.end();

    // Storage: the store's figures when it can be read; why intervals are held when it cannot
    // be written. The status answers either way.
    auto st = store_.stats();
    std::string state = live.storage_state, why = live.storage_error;
    if (state == "ok" && !st) {
        state = "unavailable";
        why = st.error().message;
    }
    o.key("mqtt").object().key("enabled").boolean(config_.mqtt.enabled);
    o.field("state", live.mqtt_state);
    o.field("error",
            live.mqtt_error.empty() ? std::nullopt : std::optional<std::string>(live.mqtt_error));
    o.key("backlog");
    st ? o.integer(static_cast<std::int64_t>(st->pending_forward)) : o.null();
    if (st)
        opt_time(o, "oldest_unsent", st->oldest_pending);
    else
        o.key("oldest_unsent").null();
    o.end();
    o.key("storage").object().field("state", state);
    o.field("error", why.empty() ? std::nullopt : std::optional<std::string>(why));
    o.key("uncommitted_in_memory").integer(static_cast<std::uint64_t>(live.pending_commits));
    o.key("uncommitted_limit").integer(static_cast<std::uint64_t>(live.pending_limit));
    o.key("uncommitted_dropped").integer(live.pending_dropped);
    if (st) {
        o.key("bytes").integer(static_cast<std::int64_t>(st->file_bytes));
        o.key("wal_bytes").integer(static_cast<std::int64_t>(st->wal_bytes));
        o.key("schema_version").integer(static_cast<std::int64_t>(st->schema_version));
        o.key("intervals").integer(static_cast<std::int64_t>(st->intervals));
        opt_time(o, "oldest_interval", st->oldest_interval);
        opt_time(o, "newest_interval", st->newest_interval);
    }
    o.end();

    if (live.tls_not_after) {
        const auto days_left = duration_cast<hours>(*live.tls_not_after - now).count() / 24;
        o.key("tls").object().field("certificate", live.tls_certificate);
        o.field("not_after", format_utc(*live.tls_not_after))
            .key("days_left")
            .integer(static_cast<std::int64_t>(days_left));
        o.key("warning");
        if (*live.tls_not_after <= now)
            o.string("the certificate has expired: clients that check it refuse to connect");
        else if (days_left <= 30)
            o.string("the certificate expires within 30 days: install a new one");
        else
            o.null();
        o.end();
    }
    http::Response r;
    r.no_store = true;
    r.body = std::move(o.end()).take();
    return r;
}

}  // namespace gw
