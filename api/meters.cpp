// Call 1 (available measurements per customer) and the master data of one meter.
#include "params.hpp"

#include <algorithm>

#include "gw/core/json.hpp"
#include "gw/core/text.hpp"
#include "gw/drivers/profile.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

namespace {

const std::vector<Param> k_meters_params{
    {"klant_ean",
     false,
     true,
     "ean",
     "Expected customer EANs (repeat the parameter or separate with commas). Without it: every "
     "customer you may see.",
     {}},
};

const std::vector<Param> k_meter_path{
    {"meter_ean", true, false, "ean", "The meter's EAN-18.", {}},
};

}  // namespace

const OperationDoc api::k_meters_doc{
    "getMeters",
    "Call 1: available measurements per customer",
    "The meters of the expected customers, each with the end of its newest stored interval; "
    "customers that are not on this gateway or have no active consent are listed under "
    "niet_beschikbaar with the reason. Pass datum_laatste_meting as the next start_tijd of "
    "call 2 to get exactly what is new.",
    &k_meters_params,
    nullptr,
    "Meters",
    false,
    {400, 401, 403, 429, 500, 503},
    {{"Meters",
      std::string(R"({"type":"object","required":["meters","niet_beschikbaar"],)"
                  R"("additionalProperties":false,"properties":{"meters":{"type":"array",)"
                  R"("items":{"type":"object","required":["klant_ean","meter_ean","meter_type",)"
                  R"("datum_laatste_meting"],"additionalProperties":false,"properties":{)"
                  R"("klant_ean":)") +
          schema::ean + R"(,"meter_ean":)" + schema::ean + R"(,"meter_type":)" +
          schema::meter_type + R"(,"datum_laatste_meting":)" + schema::utc_or_null +
          R"(}}},"niet_beschikbaar":{"type":"array","items":{"type":"object",)"
          R"("required":["klant_ean","reden"],"additionalProperties":false,"properties":{)"
          R"("klant_ean":)" +
          schema::ean +
          R"(,"reden":{"type":"string","enum":["onbekend","geen_toestemming"]}}}}}})"}}};

http::Response Api::meters(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, k_meters_params))
        return error(ctx, 400, "invalid_parameter", *bad);
    std::vector<Ean18> wanted;
    for (const auto& v : list_values(ctx.query, "klant_ean")) {
        auto e = Ean18::parse(v);
        if (!e)
            return error(ctx, 400, "invalid_parameter",
                         "klant_ean \"" + v.substr(0, 32) + "\": " + e.error().message);
        if (std::find(wanted.begin(), wanted.end(), *e) == wanted.end()) wanted.push_back(*e);
    }
    const bool all = wanted.empty();
    if (all)
        for (const auto& c : config_.customers) wanted.push_back(c.klant_ean);
    JsonWriter found, missing;
    found.array();
    missing.array();
    std::int64_t rows = 0;
    for (const auto& klant : wanted) {
        const char* reason = nullptr;
        if (config_.find_customer(klant) == nullptr) {
            reason = "onbekend";
        } else {
            auto ok = store_.consent_active(klant);
            if (!ok)
                return error(ctx, 503, "storage_unavailable",
                             "storage unavailable: " + ok.error().message);
            if (!*ok) reason = "geen_toestemming";
        }
        if (reason) {
            missing.object().field("klant_ean", klant.str()).field("reden", reason).end();
            continue;
        }
        for (const auto& m : config_.meters) {
            if (m.klant_ean != klant) continue;
            auto last = store_.latest_end(m.meter_ean);
            if (!last)
                return error(ctx, 503, "storage_unavailable",
                             "storage unavailable: " + last.error().message);
            found.object().field("klant_ean", klant.str()).field("meter_ean", m.meter_ean.str());
            found.field("meter_type", meter_type_name(m.type)).key("datum_laatste_meting");
            (*last ? found.string(format_utc(**last)) : found.null()).end();
            ++rows;
        }
    }
    ctx.audit.rows = rows;
    if (wanted.size() == 1) ctx.audit.klant_ean = wanted.front().to_string();
    http::Response r;
    r.no_store = true;
    JsonWriter body;
    body.object().key("meters").raw(std::move(found.end()).take()).key("niet_beschikbaar");
    r.body = std::move(body.raw(std::move(missing.end()).take()).end()).take();
    return r;
}

const OperationDoc api::k_meter_doc{
    "getMeter",
    "Master data and state of one meter",
    "What the gateway knows of one meter: its customer and type, the profile and its make and "
    "model, how values are taken (voltage mode, averaging method, sign convention, "
    "transformer ratios, poll period), its Modbus link, and from the running gateway its link "
    "state, last successful read, last error and poll counters.",
    nullptr,
    &k_meter_path,
    "Meter",
    false,
    {400, 401, 403, 404, 429, 500, 503},
    {{"Meter",
      std::string(
          R"({"type":"object","additionalProperties":false,"required":["meter_ean","klant_ean",)"
          R"("meter_type","make","model","serial_number","profile","voltage_mode","method",)"
          R"("sign","ct_ratio","vt_ratio","poll_ms","interval_s","datum_laatste_meting",)"
          R"("modbus","link_state","last_success","last_error","counters"],"properties":{)"
          R"("meter_ean":)") +
          schema::ean + R"(,"klant_ean":)" + schema::ean + R"(,"meter_type":)" +
          schema::meter_type +
          R"(,"make":{"type":"string","nullable":true,"description":"From the profile; )"
          R"(null for a custom register map."},"model":{"type":"string","nullable":true},)"
          R"("serial_number":{"type":"string","nullable":true,"description":"Not read from )"
          R"(meters yet: null."},"profile":{"type":"string"},)"
          R"("voltage_mode":{"type":"string","enum":["phase_to_neutral","phase_to_phase"]},)"
          R"("method":{"type":"string","enum":["samples","energy"]},)"
          R"("sign":{"type":"string","enum":["import_positive","export_positive"],)"
          R"("description":"The meter's own sign convention; values served are always )"
          R"(+ import, - export."},"ct_ratio":{"type":"number","exclusiveMinimum":true,)"
          R"("minimum":0},"vt_ratio":{"type":"number","exclusiveMinimum":true,"minimum":0},)"
          R"("poll_ms":{"type":"integer","minimum":1},"interval_s":{"type":"integer",)"
          R"("minimum":1},"datum_laatste_meting":)" +
          schema::utc_or_null +
          R"(,"modbus":{"type":"object","additionalProperties":false,)"
          R"("required":["id","type","unit_id"],"properties":{"id":{"type":"string"},)"
          R"("type":{"type":"string","enum":["tcp","rtu","rtu_over_tcp"]},"unit_id":{"type":"integer",)"
          R"("minimum":0,"maximum":255},"host":{"type":"string"},"port":{"type":"integer",)"
          R"("minimum":1,"maximum":65535},"device":{"type":"string"},"baud":{"type":"integer"}}},)"
          R"("link_state":)" +
          schema::link_state + R"(,"last_success":)" + schema::utc_or_null +
          R"(,"last_error":{"type":"string","nullable":true},"counters":)" + schema::counters +
          "}}"}}};

http::Response Api::meter_details(Ctx& ctx) {
    const std::string& ean_text = ctx.path_arg;
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    auto ean = Ean18::parse(ean_text);
    if (!ean)
        return error(ctx, 400, "invalid_parameter",
                     "meter_ean \"" + ean_text.substr(0, 32) + "\": " + ean.error().message);
    ctx.audit.meter_ean = ean->to_string();
    const MeterConfig* m = config_.find_meter(*ean);
    if (m == nullptr)
        return error(ctx, 404, "not_found",
                     "meter_ean " + ean->to_string() + " is not on this gateway");
    ctx.audit.klant_ean = m->klant_ean.to_string();
    auto consent = store_.consent_active(m->klant_ean);
    if (!consent)
        return error(ctx, 503, "storage_unavailable",
                     "storage unavailable: " + consent.error().message);
    if (!*consent)
        return error(ctx, 403, "no_consent",
                     "no active consent for klant_ean " + m->klant_ean.to_string());
    auto last = store_.latest_end(m->meter_ean);
    if (!last)
        return error(ctx, 503, "storage_unavailable",
                     "storage unavailable: " + last.error().message);
    const LinkConfig* link = config_.find_link(m->link);
    const MeterProfile* profile = find_profile(m->profile);
    auto maybe = [](const MeterProfile* p, std::string_view MeterProfile::*member) {
        return p ? std::optional<std::string>(p->*member) : std::nullopt;
    };
    JsonWriter o;
    o.object().field("meter_ean", m->meter_ean.str()).field("klant_ean", m->klant_ean.str());
    o.field("meter_type", meter_type_name(m->type));
    o.field("make", maybe(profile, &MeterProfile::make));
    o.field("model", maybe(profile, &MeterProfile::model));
    o.key("serial_number").null().field("profile", m->profile);
    o.field("voltage_mode", voltage_mode_name(m->voltage));
    o.field("method", m->method == AveragingMethod::samples ? "samples" : "energy");
    o.field("sign",
            m->sign == SignConvention::import_positive ? "import_positive" : "export_positive");
    o.key("ct_ratio").number(m->ct_ratio).key("vt_ratio").number(m->vt_ratio);
    o.key("poll_ms").integer(m->poll_ms).key("interval_s").integer(config_.gateway.interval_s);
    o.key("datum_laatste_meting");
    *last ? o.string(format_utc(**last)) : o.null();
    if (link) {
        o.key("modbus").object().field("id", link->id);
        o.field("type", link_type_name(link->type)).key("unit_id").integer(m->unit_id);
        if (link->type != LinkType::rtu)
            o.field("host", link->host).key("port").integer(static_cast<int>(link->port));
        else
            o.field("device", link->device);
        if (link->rtu_framing()) o.key("baud").integer(link->baud);
        o.end();
    }
    // From the running gateway; without it (a tool), nothing is known of the link.
    MeterLive ml;
    if (live_)
        for (auto& l : live_().meters)
            if (l.meter_ean == m->meter_ean.str()) ml = std::move(l);
    o.field("link_state", link_state_name(ml.link_state)).key("last_success");
    ml.last_success ? o.string(format_utc(time_point_cast<seconds>(*ml.last_success))) : o.null();
    o.field("last_error", ml.last_error).key("counters").object();
    for (const auto& [k, v] : ml.counters) o.key(k).integer(v);
    o.end();
    ctx.audit.rows = 1;
    http::Response r;
    r.no_store = true;
    r.body = std::move(o.end()).take();
    return r;
}

}  // namespace gw
