// Call 1 (available measurements per customer) and the master data of one meter.
#include "params.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "gw/core/json.hpp"
#include "gw/core/text.hpp"
#include "gw/drivers/profile.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;
namespace json = boost::json;

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

http::Response Api::meter_details(Ctx& ctx, std::string_view ean_text) {
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    auto ean = Ean18::parse(ean_text);
    if (!ean)
        return error(
            ctx, 400, "invalid_parameter",
            "meter_ean \"" + std::string(ean_text.substr(0, 32)) + "\": " + ean.error().message);
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
        return error(ctx, 403, "geen_toestemming",
                     "no active consent for klant_ean " + m->klant_ean.to_string());
    auto last = store_.latest_end(m->meter_ean);
    if (!last)
        return error(ctx, 503, "storage_unavailable",
                     "storage unavailable: " + last.error().message);
    const LinkConfig* link = config_.find_link(m->link);
    const MeterProfile* profile = find_profile(m->profile);
    json::object o{
        {"meter_ean", m->meter_ean.str()},
        {"klant_ean", m->klant_ean.str()},
        {"meter_type", meter_type_name(m->type)},
        {"merk", profile ? json::value(profile->make) : json::value(nullptr)},
        {"model", profile ? json::value(profile->model) : json::value(nullptr)},
        {"serienummer", nullptr},
        {"profiel", m->profile},
        {"spanning_modus", voltage_mode_name(m->voltage)},
        {"methode", m->method == AveragingMethod::samples ? "samples" : "energy"},
        {"teken",
         m->sign == SignConvention::import_positive ? "import_positive" : "export_positive"},
        {"ct_ratio", m->ct_ratio},
        {"vt_ratio", m->vt_ratio},
        {"poll_ms", m->poll_ms},
        {"interval_s", config_.gateway.interval_s},
        {"datum_laatste_meting", *last ? json::value(format_utc(**last)) : json::value(nullptr)},
    };
    if (link) {
        json::object l{{"id", link->id},
                       {"type", link->type == LinkType::tcp ? "tcp" : "rtu"},
                       {"unit_id", m->unit_id}};
        if (link->type == LinkType::tcp) {
            l["host"] = link->host;
            l["port"] = link->port;
        } else {
            l["device"] = link->device;
            l["baud"] = link->baud;
        }
        o["modbus"] = l;
    }
    if (live_) {
        for (const auto& ml : live_().meters) {
            if (ml.meter_ean != m->meter_ean.str()) continue;
            o["link_state"] = !ml.link_up ? "unknown" : *ml.link_up ? "up" : "down";
            o["laatste_succesvolle_lezing"] = ml.last_success
                                                  ? json::value(format_utc_ms(*ml.last_success))
                                                  : json::value(nullptr);
            o["laatste_fout"] = ml.last_error ? json::value(*ml.last_error) : json::value(nullptr);
            json::object c;
            for (const auto& [k, v] : ml.counters) c[k] = v;
            o["fouttellers"] = c;
        }
    }
    ctx.audit.rows = 1;
    http::Response r;
    r.no_store = true;
    r.body = json::serialize(o);
    return r;
}

}  // namespace gw
