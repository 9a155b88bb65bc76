// GET /api/v1/live: what the commissioning page shows, for an installer: per meter the latest
// sample, link state and counters, the open interval as it builds up and (on request) the last
// 24 hours of stored net active power; for the site clock trust, MQTT, storage, the
// certificate, and the link and sign checks.
#include "gw/core/json.hpp"
#include "gw/core/quantity.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/drivers/site_check.hpp"
#include "params.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

namespace {

const std::vector<Param> k_live_params{
    {"history",
     false,
     false,
     "enum",
     "24h: also each meter's stored 5-minute net active power of the last 24 hours (the page "
     "asks for it once and then every few minutes). Default: none.",
     {"none", "24h"}},
};

const std::string k_kw_or_null = R"({"type":"number","nullable":true})";

}  // namespace

const OperationDoc api::k_live_doc{
    "getLive",
    "Live values for commissioning",
    "For the installer (roles installer and admin; a reader gets 403): each meter's latest "
    "sample with P, Q and U per phase where the meter has them, the net P and Q with their "
    "direction in words, the energy registers, the link state and counters, the open interval "
    "as it builds up, and the site's clock, MQTT, storage, certificate and the link and sign "
    "checks. Power in kW and kVAr with three decimals, + import and - export; refreshed with "
    "every poll.",
    &k_live_params,
    nullptr,
    "Live",
    false,
    {401, 403, 429, 500, 503},
    {{"Live",
      std::string(R"({"type":"object","additionalProperties":false,"required":["now","gateway_id",)"
                  R"("interval_s","clock","mqtt","storage","tls","checks","meters"],"properties":{)"
                  R"("now":)") +
          schema::utc + R"(,"gateway_id":{"type":"string"},"interval_s":{"type":"integer"},)" +
          R"("clock":{"type":"object","additionalProperties":false,"required":["trusted",)"
          R"("status"],"properties":{"trusted":{"type":"boolean"},"status":{"type":"string"}}},)"
          R"("mqtt":{"type":"object","additionalProperties":false,"required":["enabled","state",)"
          R"("backlog"],"properties":{"enabled":{"type":"boolean"},"state":{"type":"string",)"
          R"("enum":["disabled","connecting","connected","disconnected"]},)"
          R"("backlog":{"type":"integer","nullable":true}}},)"
          R"("storage":{"type":"object","additionalProperties":false,"required":["state",)"
          R"("bytes","oldest_interval","newest_interval"],"properties":{"state":{"type":)"
          R"("string","enum":["ok","failing","unavailable"]},"bytes":{"type":"integer",)"
          R"("nullable":true},"oldest_interval":)" +
          schema::utc_or_null + R"(,"newest_interval":)" + schema::utc_or_null +
          R"(}},"tls":{"type":"object","additionalProperties":false,"required":["not_after",)"
          R"("days_left"],"properties":{"not_after":)" +
          schema::utc_or_null + R"(,"days_left":{"type":"integer","nullable":true}}},)" +
          R"("checks":{"type":"object","additionalProperties":false,"required":["ok",)"
          R"("problems"],"properties":{"ok":{"type":"boolean","description":"Every meter )"
          R"(answers and every sign setting agrees with what the site does."},"problems":)"
          R"({"type":"array","items":{"type":"object","additionalProperties":false,)"
          R"("required":["meter_ean","kind","message"],"properties":{"meter_ean":)" +
          schema::ean + R"(,"kind":{"type":"string","enum":["link","sign"]},)" +
          R"("message":{"type":"string"}}}}}},"meters":{"type":"array","items":)"
          R"({"$ref":"#/components/schemas/LiveMeter"}}}})"},
     {"LiveMeter",
      std::string(R"({"type":"object","additionalProperties":false,"required":["meter_ean",)"
                  R"("meter_type","profile","link","link_state","last_success","age_s",)"
                  R"("last_error","counters","sample","interval","history"],"properties":{)"
                  R"("meter_ean":)") +
          schema::ean + R"(,"meter_type":)" + schema::meter_type +
          R"(,"profile":{"type":"string"},"link":{"type":"object","additionalProperties":false,)"
          R"("required":["id","type","unit_id"],"properties":{"id":{"type":"string"},)"
          R"("type":{"type":"string","enum":["tcp","rtu","rtu_over_tcp"]},"unit_id":{"type":"integer"}}},)"
          R"("link_state":)" +
          schema::link_state + R"(,"last_success":)" + schema::utc_or_null +
          R"(,"age_s":{"type":"integer","nullable":true,"description":"Seconds since the )"
          R"(last good read."},"last_error":{"type":"string","nullable":true},"counters":)" +
          schema::counters +
          R"(,"sample":{"type":"object","nullable":true,"additionalProperties":false,)"
          R"("required":["at","p_kw","q_kvar","direction","phases","energy"],"properties":{)"
          R"("at":)" +
          schema::utc + R"(,"p_kw":{"type":"number"},"q_kvar":{"type":"number"},)" +
          R"("direction":{"type":"string","enum":["import","export","none"],"description":)"
          R"("Of the net active power: import from the grid, export to it, or none (under )"
          R"(1 W)."},"phases":{"type":"array","items":{"type":"object",)"
          R"("additionalProperties":false,"required":["phase","p_kw","q_kvar","u_v"],)"
          R"("properties":{"phase":{"type":"string","enum":["L1","L2","L3"]},"p_kw":)" +
          k_kw_or_null + R"(,"q_kvar":)" + k_kw_or_null +
          R"(,"u_v":{"type":"number"}}}},"energy":{"type":"object","additionalProperties":)"
          R"(false,"required":["import_kwh","export_kwh","q_import_kvarh","q_export_kvarh"],)"
          R"("properties":{"import_kwh":)" +
          k_kw_or_null + R"(,"export_kwh":)" + k_kw_or_null + R"(,"q_import_kvarh":)" +
          k_kw_or_null + R"(,"q_export_kvarh":)" + k_kw_or_null +
          R"(}}}},"interval":{"type":"object","additionalProperties":false,"required":["end",)"
          R"("samples","p_kw_mean","points"],"properties":{"end":)" +
          schema::utc_or_null + R"(,"samples":{"type":"integer"},"p_kw_mean":)" + k_kw_or_null +
          R"(,"points":{"type":"array","description":"Each sample of the open interval: )"
          R"(seconds since its start, and net active power.","items":{"type":"object",)"
          R"("additionalProperties":false,"required":["t_s","p_kw"],"properties":{"t_s":)"
          R"({"type":"number"},"p_kw":{"type":"number"}}}}}},"history":{"type":"array",)"
          R"("description":"With history=24h: the stored intervals of the last 24 hours.",)"
          R"("items":{"type":"object","additionalProperties":false,"required":["end","p_kw",)"
          R"("kwaliteit"],"properties":{"end":)" +
          schema::utc + R"(,"p_kw":{"type":"integer"},"kwaliteit":)" +
          R"({"$ref":"#/components/schemas/Kwaliteit"}}}}}})"}}};

namespace {

void kw_or_null(JsonWriter& o, std::string_view key, const std::optional<double>& w) {
    o.key(key);
    w ? o.fixed(*w / 1000.0, 3) : o.null();
}

}  // namespace

http::Response Api::live(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, k_live_params))
        return error(ctx, 400, "invalid_parameter", *bad);
    const auto history = one(ctx.query, "history");
    if (history && *history != "none" && *history != "24h")
        return error(ctx, 400, "invalid_parameter",
                     "history \"" + history->substr(0, 32) + "\": expected none or 24h");
    const bool with_history = history && *history == "24h";
    if (on_watch_) on_watch_();
    const SysMs now = clock_.utc_now();
    const SysS now_s = time_point_cast<seconds>(now);
    GatewayLive live = live_ ? live_() : GatewayLive{now};

    JsonWriter o;
    o.object().field("now", format_utc(now_s)).field("gateway_id", config_.gateway.id);
    o.key("interval_s").integer(config_.gateway.interval_s);
    o.key("clock").object().key("trusted").boolean(live.clock_trusted);
    o.field("status", live.clock_status).end();
    auto st = store_.stats();
    o.key("mqtt").object().key("enabled").boolean(config_.mqtt.enabled);
    o.field("state", live.mqtt_state).key("backlog");
    st ? o.integer(static_cast<std::int64_t>(st->pending_forward)) : o.null();
    o.end();
    std::string storage_state = live.storage_state;
    if (storage_state == "ok" && !st) storage_state = "unavailable";
    o.key("storage").object().field("state", storage_state).key("bytes");
    st ? o.integer(static_cast<std::int64_t>(st->file_bytes)) : o.null();
    o.field("oldest_interval", st && st->oldest_interval
                                   ? std::optional(format_utc(*st->oldest_interval))
                                   : std::nullopt);
    o.field("newest_interval", st && st->newest_interval
                                   ? std::optional(format_utc(*st->newest_interval))
                                   : std::nullopt);
    o.end();
    o.key("tls").object();
    o.field("not_after",
            live.tls_not_after ? std::optional(format_utc(*live.tls_not_after)) : std::nullopt);
    o.key("days_left");
    live.tls_not_after ? o.integer(static_cast<std::int64_t>(
                             duration_cast<hours>(*live.tls_not_after - now).count() / 24))
                       : o.null();
    o.end();

    // The checks, over the meters as the daemon sees them now.
    std::vector<MeterReading> readings;
    for (const auto& m : config_.meters) {
        MeterReading r{&m};
        for (const auto& l : live.meters)
            if (l.meter_ean == m.meter_ean.str()) {
                r.link = l.link_state;
                r.last_error = l.last_error;
                r.sample = l.sample;
            }
        readings.push_back(std::move(r));
    }
    const auto problems = check_site(readings);
    o.key("checks").object().key("ok").boolean(problems.empty()).key("problems").array();
    for (const auto& p : problems)
        o.object()
            .field("meter_ean", p.meter_ean)
            .field("kind", p.kind)
            .field("message", p.message)
            .end();
    o.end().end();

    o.key("meters").array();
    for (const auto& m : config_.meters) {
        MeterLive ml;
        for (const auto& l : live.meters)
            if (l.meter_ean == m.meter_ean.str()) ml = l;
        const LinkConfig* link = config_.find_link(m.link);
        o.object()
            .field("meter_ean", m.meter_ean.str())
            .field("meter_type", meter_type_name(m.type));
        o.field("profile", m.profile).key("link").object().field("id", m.link);
        o.field("type", link ? link_type_name(link->type) : "tcp");
        o.key("unit_id").integer(m.unit_id).end();
        o.field("link_state", link_state_name(ml.link_state));
        o.field("last_success",
                ml.last_success
                    ? std::optional(format_utc(time_point_cast<seconds>(*ml.last_success)))
                    : std::nullopt);
        o.key("age_s");
        ml.last_success ? o.integer(static_cast<std::int64_t>(
                              duration_cast<seconds>(now - *ml.last_success).count()))
                        : o.null();
        o.field("last_error", ml.last_error).key("counters").object();
        for (const auto& [k, v] : ml.counters) o.key(k).integer(v);
        o.end();

        o.key("sample");
        if (ml.sample) {
            const Sample& s = *ml.sample;
            o.object().field("at", format_utc(time_point_cast<seconds>(s.at)));
            o.key("p_kw").fixed(s.p_w / 1000.0, 3).key("q_kvar").fixed(s.q_var / 1000.0, 3);
            o.field("direction", s.p_w >= 1.0 ? "import" : s.p_w <= -1.0 ? "export" : "none");
            o.key("phases").array();
            for (std::size_t i = 0; i < 3; ++i) {
                o.object().field("phase", "L" + std::to_string(i + 1));
                kw_or_null(o, "p_kw", s.p_phase_w[i]);
                kw_or_null(o, "q_kvar", s.q_phase_var[i]);
                o.key("u_v").fixed(s.u_v[i], 1).end();
            }
            o.end().key("energy").object();
            kw_or_null(o, "import_kwh", s.e_import_wh);
            kw_or_null(o, "export_kwh", s.e_export_wh);
            kw_or_null(o, "q_import_kvarh", s.eq_import_varh);
            kw_or_null(o, "q_export_kvarh", s.eq_export_varh);
            o.end().end();
        } else {
            o.null();
        }

        o.key("interval").object();
        o.field("end", ml.open_end ? std::optional(format_utc(*ml.open_end)) : std::nullopt);
        o.key("samples").integer(static_cast<std::int64_t>(ml.open_points.size()));
        std::optional<double> mean;
        if (!ml.open_points.empty()) {
            double sum = 0;
            for (const auto& [t, p] : ml.open_points) sum += p;
            mean = sum / static_cast<double>(ml.open_points.size());
        }
        kw_or_null(o, "p_kw_mean", mean);
        o.key("points").array();
        if (ml.open_end) {
            const SysMs start = SysMs{*ml.open_end - seconds{config_.gateway.interval_s}};
            for (const auto& [t, p] : ml.open_points)
                o.object()
                    .key("t_s")
                    .fixed(static_cast<double>((t - start).count()) / 1000.0, 1)
                    .key("p_kw")
                    .fixed(p / 1000.0, 3)
                    .end();
        }
        o.end().end();

        o.key("history").array();
        if (with_history) {
            auto rows = store_.intervals(m.meter_ean, now_s - hours{24}, now_s, 0,
                                         std::int64_t{86'400} / config_.gateway.interval_s + 1);
            if (!rows)
                return error(ctx, 503, "storage_unavailable",
                             "storage unavailable: " + rows.error().message);
            for (const auto& r : *rows) {
                if (!r.p_w) continue;
                o.object().field("end", format_utc(r.end));
                o.key("p_kw").integer(served_scaled(Quantity::active_power, *r.p_w));
                o.field("kwaliteit", quality_name(r.quality)).end();
            }
        }
        o.end().end();
    }
    o.end();
    http::Response r;
    r.no_store = true;
    r.body = std::move(o.end()).take();
    return r;
}

}  // namespace gw
