// The pull API's request logic.
#include "gw/api.hpp"

#include <openssl/rand.h>

#include <boost/json.hpp>
#include <cmath>
#include <set>
#include <sstream>

#include "gw/log.hpp"
#include "gw/profile.hpp"
#include "gw/quantity.hpp"

namespace gw {

using namespace std::chrono;
namespace json = boost::json;

std::string make_uuid() {
    unsigned char b[16];
    RAND_bytes(b, sizeof b);
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    static const char* h = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += h[b[i] >> 4];
        s += h[b[i] & 15];
    }
    return s;
}

namespace {

// ---- the parameter tables: validation and the OpenAPI document both come from these ------

struct Param {
    const char* name;
    bool required;
    bool repeatable;
    const char* type;  ///< "ean", "time", "integer", "enum"
    const char* description;
    std::vector<const char*> values;  ///< for enums
};

const std::vector<Param> k_meters_params{
    {"klant_ean", false, true, "ean",
     "Expected customer EANs (repeat the parameter or separate with commas). Without it: every customer you may see.", {}},
};
const std::vector<Param> k_window_params{
    {"klant_ean", true, false, "ean", "Customer (connection) EAN, 18 digits with a valid GS1 check digit.", {}},
    {"meter_ean", true, false, "ean", "Meter EAN; must belong to klant_ean.", {}},
    {"start_tijd", true, false, "time",
     "Window start, ISO 8601 with Z or an offset. An interval is returned when start_tijd <= tijd - interval; "
     "pass the previous datum_laatste_meting to get exactly what is new.", {}},
    {"eind_tijd", false, false, "time", "Window end (inclusive for tijd), ISO 8601 with Z or an offset. Default: now.", {}},
    {"offset", false, false, "integer", "Rows to skip (paging). Default 0.", {}},
    {"max_rows", false, false, "integer", "Page size, 1..10000. Default 10000.", {}},
    {"formaat", false, false, "enum", "json (default) or csv. CSV pages carry the next page in a Link header.",
     {"json", "csv"}},
};

std::vector<Param> metingen_params() {
    auto p = k_window_params;
    p.push_back({"meting_type", false, true, "enum", "Only these quantities (repeatable or comma-separated).",
                 {"actief_vermogen", "blind_vermogen", "spanning_L1", "spanning_L2", "spanning_L3"}});
    p.push_back({"resolutie", false, false, "enum",
                 "5min, 15min or 60min: means of the stored interval values, quality the worst of its parts "
                 "(a missing part makes it onvolledig). Default: the gateway's interval (5 minutes in production).",
                 {"5min", "15min", "60min"}});
    return p;
}
const std::vector<Param> k_metingen_params = metingen_params();
const std::vector<Param> k_meterstanden_params = k_window_params;

std::string json_str(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

std::string opt_time_json(const std::optional<SysS>& t) { return t ? json_str(format_utc(*t)) : "null"; }

/// kWh with three decimals from Wh, exactly as text.
std::string kwh(double wh) {
    const auto milli = static_cast<long long>(std::llround(wh));  // Wh = milli-kWh
    const long long mag = milli < 0 ? -milli : milli;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%lld.%03lld", milli < 0 ? "-" : "", mag / 1000, mag % 1000);
    return buf;
}

}  // namespace

/// Per-request state.
struct Api::Ctx {
    const http::Request& req;
    std::string corr;
    http::Query query;
    std::optional<Principal> who;
    AuditRecord audit;
    bool audited = false;
};

Api::Api(const Config& config, Store& store, const Clock& clock, std::string version, LiveFn live)
    : config_(config),
      store_(store),
      clock_(clock),
      version_(std::move(version)),
      live_(std::move(live)),
      auth_(store, clock,
            Authenticator::Limits{5, seconds{60}, config.api.rate_limit_per_minute, seconds{config.api.token_lifetime_s}}) {
    // The OpenAPI document, from the tables above.
    json::object paths;
    auto params_json = [](const std::vector<Param>& ps) {
        json::array arr;
        for (const auto& p : ps) {
            json::object schema;
            if (std::string_view(p.type) == "integer") {
                schema["type"] = "integer";
                schema["minimum"] = std::string_view(p.name) == "max_rows" ? 1 : 0;
                if (std::string_view(p.name) == "max_rows") schema["maximum"] = k_max_page;
            } else if (std::string_view(p.type) == "enum") {
                schema["type"] = "string";
                json::array e;
                for (const char* v : p.values) e.emplace_back(v);
                schema["enum"] = e;
            } else if (std::string_view(p.type) == "ean") {
                schema["type"] = "string";
                schema["pattern"] = "^[0-9]{18}$";
            } else {
                schema["type"] = "string";
                schema["format"] = "date-time";
            }
            if (p.repeatable) schema = json::object{{"type", "array"}, {"items", schema}};
            json::object o{{"name", p.name}, {"in", "query"}, {"required", p.required},
                           {"description", p.description}, {"schema", schema}};
            if (p.repeatable) {
                o["style"] = "form";
                o["explode"] = true;
            }
            arr.push_back(o);
        }
        return arr;
    };
    auto errors = [](json::object responses) {
        for (const char* code : {"400", "401", "403", "404", "405", "413", "414", "429", "431", "503"})
            if (!responses.contains(code))
                responses[code] = json::object{{"description", "error"},
                                               {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
        return responses;
    };
    auto op = [&](const char* summary, const std::vector<Param>& ps, const char* schema, bool secured,
                  const char* extra_type = nullptr) {
        json::object content{{"application/json", {{"schema", {{"$ref", std::string("#/components/schemas/") + schema}}}}}};
        if (extra_type) content[extra_type] = json::object{{"schema", {{"type", "string"}}}};
        json::object o{{"summary", summary},
                       {"parameters", params_json(ps)},
                       {"responses", errors({{"200", {{"description", "OK"}, {"content", content}}}})}};
        if (!secured) o["security"] = json::array{};
        return o;
    };
    paths["/healthz"] = {{"get", op("Liveness, without authentication and without data", {}, "Health", false)}};
    paths["/api/v1/openapi.json"] = {{"get", op("This document", {}, "Any", false)}};
    paths["/api/v1/token"] = {{"post", op("A bearer token for Basic credentials", {}, "Token", true)}};
    paths["/api/v1/meters"] = {{"get", op("Call 1: available measurements per customer", k_meters_params, "Meters", true)}};
    paths["/api/v1/meters/{meter_ean}"] = {
        {"get", op("Master data and state of one meter", {}, "Meter", true)},
        {"parameters", json::array{{{"name", "meter_ean"}, {"in", "path"}, {"required", true},
                                    {"schema", {{"type", "string"}, {"pattern", "^[0-9]{18}$"}}}}}}};
    paths["/api/v1/metingen"] = {{"get", op("Call 2: 5-minute measurements of one meter in a window", k_metingen_params,
                                            "Metingen", true, "text/csv")}};
    paths["/api/v1/meterstanden"] = {{"get", op("Energy register readings at interval ends", k_meterstanden_params,
                                                "Meterstanden", true, "text/csv")}};
    paths["/api/v1/status"] = {{"get", op("Gateway health", {}, "Status", true)}};
    json::object schemas{
        {"Any", {{"type", "object"}}},
        {"Health", {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}}},
        {"Token", {{"type", "object"}, {"properties", {{"access_token", {{"type", "string"}}}, {"token_type", {{"type", "string"}}}, {"expires_in", {{"type", "integer"}}}}}}},
        {"Error", {{"type", "object"}, {"properties", {{"error", {{"type", "object"}, {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}, {"correlation_id", {{"type", "string"}}}}}}}}}}},
        {"Meters", {{"type", "object"}, {"properties", {{"meters", {{"type", "array"}, {"items", {{"type", "object"}, {"properties", {{"klant_ean", {{"type", "string"}}}, {"meter_ean", {{"type", "string"}}}, {"meter_type", {{"type", "string"}, {"enum", {"bruto_productie", "overdrachtspunt"}}}}, {"datum_laatste_meting", {{"type", "string"}, {"format", "date-time"}, {"nullable", true}}}}}}}}}, {"niet_beschikbaar", {{"type", "array"}, {"items", {{"type", "object"}, {"properties", {{"klant_ean", {{"type", "string"}}}, {"reden", {{"type", "string"}, {"enum", {"onbekend", "geen_toestemming"}}}}}}}}}}}}}},
        {"Metingen", {{"type", "object"}, {"properties", {{"metingen", {{"type", "array"}, {"items", {{"type", "object"}, {"properties", {{"datum", {{"type", "string"}, {"format", "date"}}}, {"tijd", {{"type", "string"}}}, {"klant_ean", {{"type", "string"}}}, {"meter_ean", {{"type", "string"}}}, {"waarde", {{"type", "number"}}}, {"meting_type", {{"type", "string"}}}, {"waarde_type", {{"type", "string"}, {"enum", {"kW", "kVAr", "V"}}}}, {"kwaliteit", {{"type", "string"}, {"enum", {"gemeten", "onvolledig"}}}}}}}}}}, {"next", {{"type", "string"}, {"nullable", true}}}}}}},
        {"Meterstanden", {{"type", "object"}, {"properties", {{"meterstanden", {{"type", "array"}, {"items", {{"type", "object"}, {"properties", {{"datum", {{"type", "string"}}}, {"tijd", {{"type", "string"}}}, {"klant_ean", {{"type", "string"}}}, {"meter_ean", {{"type", "string"}}}, {"register", {{"type", "string"}, {"enum", {"actief_levering", "actief_teruglevering", "blind_levering", "blind_teruglevering"}}}}, {"waarde", {{"type", "number"}}}, {"eenheid", {{"type", "string"}, {"enum", {"kWh", "kVArh"}}}}}}}}}}, {"next", {{"type", "string"}, {"nullable", true}}}}}}},
        {"Meter", {{"type", "object"}}},
        {"Status", {{"type", "object"}}},
    };
    json::object doc{
        {"openapi", "3.0.3"},
        {"info", {{"title", "meter-gateway pull API"}, {"version", version_},
                  {"description", "Liander Dynamisch Terugleveren: 5-minute net active/reactive power (kW, kVAr, whole "
                                  "numbers, + import / - export) and voltage per phase (V, one decimal), UTC."}}},
        {"servers", json::array{{{"url", "/"}}}},
        {"security", json::array{{{"basic", json::array{}}}, {{"bearer", json::array{}}}}},
        {"paths", paths},
        {"components", {{"securitySchemes", {{"basic", {{"type", "http"}, {"scheme", "basic"}}},
                                             {"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
                        {"schemas", schemas}}},
    };
    openapi_ = json::serialize(doc);
}

http::Response Api::error(Ctx& ctx, int status, std::string code, std::string message) {
    http::Response r;
    r.status = status;
    r.no_store = true;
    r.body = "{\"error\":{\"code\":" + json_str(code) + ",\"message\":" + json_str(message) +
             ",\"correlation_id\":" + json_str(ctx.corr) + "}}";
    if (status >= 500) log::error("api", ctx.req.method, " ", ctx.req.target.substr(0, 200), " -> ", status, " ", message, " [", ctx.corr, "]");
    return r;
}

void Api::audit(Ctx& ctx, int status) {
    if (!ctx.who || ctx.audited) return;
    ctx.audited = true;
    ctx.audit.at = clock_.utc_now();
    ctx.audit.client = ctx.who->client;
    ctx.audit.correlation_id = ctx.corr;
    ctx.audit.method = ctx.req.method;
    ctx.audit.path = ctx.req.target.substr(0, 1024);
    ctx.audit.status = status;
    if (audit_pending_.empty()) audit_oldest_ = clock_.steady_now();
    audit_pending_.push_back(std::move(ctx.audit));
    if (audit_pending_.size() >= 256 || clock_.steady_now() - audit_oldest_ >= seconds{1}) flush_audit();
}

void Api::flush_audit() {
    if (audit_pending_.empty()) return;
    if (Status st = store_.append_audit(audit_pending_); !st) {
        log::error("api", audit_pending_.size(), " audit row(s) not written yet: ", st.error().message);
        if (audit_pending_.size() < 100'000) return;  // keep them and retry; bounded
    }
    audit_pending_.clear();
}

http::Response Api::handle(const http::Request& request) {
    Ctx ctx{request, {}, {}, {}, {}, false};
    // Echo a sane correlation id; otherwise make one, so every answer and log line has one.
    const auto& given = request.correlation_id;
    const bool sane = !given.empty() && given.size() <= 64 &&
                      std::all_of(given.begin(), given.end(), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                      });
    ctx.corr = sane ? given : make_uuid();
    http::Response r;
    try {
        r = route(ctx);
    } catch (const std::exception& e) {
        r = error(ctx, 500, "internal", std::string("internal error: ") + e.what());
    }
    audit(ctx, r.status);
    r.set("X-Correlation-ID", ctx.corr);
    if (r.status >= 400 && r.status != 500)
        log::info("api", request.method, " ", request.target.substr(0, 200), " -> ", r.status, " [", ctx.corr, "]");
    else
        log::debug("api", request.method, " ", request.target.substr(0, 200), " -> ", r.status, " [", ctx.corr, "]");
    return r;
}

std::optional<http::Response> Api::authorize(Ctx& ctx, bool data_call) {
    AuthResult a = auth_.authenticate(ctx.req.authorization, ctx.req.remote);
    if (!a.principal) {
        if (a.failure == AuthFailure::throttled) {
            auto r = error(ctx, 429, "too_many_requests", a.message);
            r.set("Retry-After", std::to_string(a.retry_after.count()));
            return r;
        }
        if (a.failure == AuthFailure::no_clients) return error(ctx, 503, "storage_unavailable", a.message);
        auto clients = store_.clients();
        if (clients && clients->empty()) {
            if (!warned_no_clients_) log::warn("api", "no API client is configured: refusing API calls; create one with gatewayctl client add");
            warned_no_clients_ = true;
            a.message = "no API client is configured on this gateway: " + a.message;
        }
        auto r = error(ctx, 401, "unauthorized", a.message);
        r.set("WWW-Authenticate", a.failure == AuthFailure::expired_token
                                      ? "Bearer realm=\"meter-gateway\", error=\"invalid_token\", error_description=\"expired\""
                                      : "Basic realm=\"meter-gateway\", charset=\"UTF-8\"");
        return r;
    }
    ctx.who = a.principal;
    if (auto wait = auth_.rate_limited(ctx.who->client)) {
        auto r = error(ctx, 429, "too_many_requests",
                       "rate limit of " + std::to_string(config_.api.rate_limit_per_minute) + " requests per minute reached");
        r.set("Retry-After", std::to_string(wait->count()));
        return r;
    }
    if (data_call && ctx.who->role != Role::reader)
        return error(ctx, 403, "forbidden", "role " + std::string(role_name(ctx.who->role)) + " may not read measurement data");
    return std::nullopt;
}

namespace {

/// Checks names, repetition and presence against a table. Returns the 400 message, if any.
std::optional<std::string> check_params(const http::Query& q, const std::vector<Param>& table) {
    std::set<std::string> seen;
    for (const auto& item : q.items) {
        const std::string& k = item.first;
        const std::string& v = item.second;
        auto it = std::find_if(table.begin(), table.end(), [&](const Param& p) { return k == p.name; });
        if (it == table.end()) {
            std::string names;
            for (const auto& p : table) names += (names.empty() ? "" : ", ") + std::string(p.name);
            return "unknown parameter \"" + k.substr(0, 64) + "\"" +
                   (names.empty() ? std::string("; this endpoint takes none") : "; expected " + names);
        }
        if (!it->repeatable && !seen.insert(k).second) return "parameter " + k + " given more than once";
        if (v.empty()) return "parameter " + k + " is empty";
        if (v.size() > 512) return "parameter " + k + " is too long";
    }
    for (const auto& p : table)
        if (p.required && q.count(p.name) == 0) return "missing required parameter " + std::string(p.name);
    return std::nullopt;
}

/// Values of a repeatable parameter, also split at commas.
std::vector<std::string> list_values(const http::Query& q, const char* name) {
    std::vector<std::string> out;
    for (const auto& v : q.all(name)) {
        std::stringstream ss(v);
        for (std::string part; std::getline(ss, part, ',');)
            if (!part.empty()) out.push_back(part);
    }
    return out;
}

std::optional<std::string> one(const http::Query& q, const char* name) {
    auto all = q.all(name);
    if (all.empty()) return std::nullopt;
    return all.front();
}

}  // namespace

http::Response Api::route(Ctx& ctx) {
    const std::string_view path = http::path_of(ctx.req.target);
    std::string why;
    auto q = http::parse_query(http::query_of(ctx.req.target), why);
    const std::string& m = ctx.req.method;
    auto only = [&](const char* allowed) -> std::optional<http::Response> {
        if (m == allowed || (std::string_view(allowed) == "GET" && m == "HEAD")) return std::nullopt;
        auto r = error(ctx, 405, "method_not_allowed", "use " + std::string(allowed) + " on " + std::string(path));
        r.set("Allow", allowed);
        return r;
    };
    struct Route {
        std::string_view path;
        const char* method;
    };
    static const Route routes[] = {{"/healthz", "GET"},          {"/api/v1/openapi.json", "GET"}, {"/api/v1/token", "POST"},
                                   {"/api/v1/meters", "GET"},    {"/api/v1/metingen", "GET"},     {"/api/v1/meterstanden", "GET"},
                                   {"/api/v1/status", "GET"}};
    const Route* found = nullptr;
    for (const auto& r : routes)
        if (path == r.path) found = &r;
    const bool meter_path = path.rfind("/api/v1/meters/", 0) == 0 && path.size() > 15;
    if (found == nullptr && !meter_path)
        return error(ctx, 404, "not_found", "no such endpoint: " + std::string(path.substr(0, 100)) + " (see /api/v1/openapi.json)");
    if (auto bad = only(found ? found->method : "GET")) return *bad;

    if (path == "/healthz") {
        http::Response r;
        r.body = "{\"status\":\"ok\"}";
        return r;
    }
    if (path == "/api/v1/openapi.json") {
        http::Response r;
        r.body = openapi_;
        return r;
    }
    const bool data = path == "/api/v1/meters" || path == "/api/v1/metingen" || path == "/api/v1/meterstanden" || meter_path;
    if (auto denied = authorize(ctx, data)) return *denied;
    if (!q) return error(ctx, 400, "invalid_parameter", why);
    ctx.query = std::move(*q);
    if (path == "/api/v1/token") return token(ctx);
    if (path == "/api/v1/status") return status(ctx);
    if (path == "/api/v1/meters") return meters(ctx);
    if (path == "/api/v1/metingen") return metingen(ctx);
    if (path == "/api/v1/meterstanden") return meterstanden(ctx);
    return meter_details(ctx, path.substr(15));
}

http::Response Api::token(Ctx& ctx) {
    if (ctx.req.authorization.rfind("Basic ", 0) != 0 && ctx.req.authorization.rfind("basic ", 0) != 0)
        return error(ctx, 401, "unauthorized", "POST /api/v1/token takes Basic credentials");
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    http::Response r;
    r.no_store = true;
    r.body = "{\"access_token\":" + json_str(auth_.issue_token(*ctx.who)) +
             ",\"token_type\":\"Bearer\",\"expires_in\":" + std::to_string(config_.api.token_lifetime_s) + "}";
    return r;
}

http::Response Api::meters(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, k_meters_params)) return error(ctx, 400, "invalid_parameter", *bad);
    std::vector<Ean18> wanted;
    for (const auto& v : list_values(ctx.query, "klant_ean")) {
        auto e = Ean18::parse(v);
        if (!e) return error(ctx, 400, "invalid_parameter", "klant_ean \"" + v.substr(0, 32) + "\": " + e.error().message);
        if (std::find(wanted.begin(), wanted.end(), *e) == wanted.end()) wanted.push_back(*e);
    }
    const bool all = wanted.empty();
    if (all)
        for (const auto& c : config_.customers) wanted.push_back(c.klant_ean);
    std::string meters_json, missing_json;
    std::int64_t rows = 0;
    for (const auto& klant : wanted) {
        const char* reason = nullptr;
        if (config_.find_customer(klant) == nullptr) {
            reason = "onbekend";
        } else {
            auto ok = store_.consent_active(klant);
            if (!ok) return error(ctx, 503, "storage_unavailable", "storage unavailable: " + ok.error().message);
            if (!*ok) reason = "geen_toestemming";
        }
        if (reason) {
            if (!missing_json.empty()) missing_json += ',';
            missing_json += "{\"klant_ean\":" + json_str(klant.str()) + ",\"reden\":\"" + reason + "\"}";
            continue;
        }
        for (const auto& m : config_.meters) {
            if (m.klant_ean != klant) continue;
            auto last = store_.latest_end(m.meter_ean);
            if (!last) return error(ctx, 503, "storage_unavailable", "storage unavailable: " + last.error().message);
            if (!meters_json.empty()) meters_json += ',';
            meters_json += "{\"klant_ean\":" + json_str(klant.str()) + ",\"meter_ean\":" + json_str(m.meter_ean.str()) +
                           ",\"meter_type\":\"" + std::string(meter_type_name(m.type)) +
                           "\",\"datum_laatste_meting\":" + opt_time_json(*last) + "}";
            ++rows;
        }
    }
    ctx.audit.rows = rows;
    if (wanted.size() == 1) ctx.audit.klant_ean = wanted.front().to_string();
    http::Response r;
    r.no_store = true;
    r.body = "{\"meters\":[" + meters_json + "],\"niet_beschikbaar\":[" + missing_json + "]}";
    return r;
}

/// The validated common parameters of the window endpoints.
struct Api::Window {
    Ean18 klant, meter;
    SysMs start, end;
    std::int64_t offset = 0, max_rows = Api::k_default_page;
    bool csv = false;
    const MeterConfig* meter_cfg = nullptr;
};

namespace {

std::optional<std::string> parse_window(const http::Query& q, const Config& cfg, const Clock& clock, Api::Window& w) {
    auto ean = [&](const char* name, Ean18& out) -> std::optional<std::string> {
        const auto v = *one(q, name);
        auto e = Ean18::parse(v);
        if (!e) return std::string(name) + " \"" + v.substr(0, 32) + "\": " + e.error().message;
        out = *e;
        return std::nullopt;
    };
    if (auto bad = ean("klant_ean", w.klant)) return bad;
    if (auto bad = ean("meter_ean", w.meter)) return bad;
    auto time = [&](const char* name, SysMs& out) -> std::optional<std::string> {
        const auto v = *one(q, name);
        auto t = parse_utc(v);
        if (!t) return std::string(name) + " \"" + v.substr(0, 40) + "\": " + t.error().message;
        out = *t;
        return std::nullopt;
    };
    if (auto bad = time("start_tijd", w.start)) return bad;
    w.end = clock.utc_now();
    if (one(q, "eind_tijd"))
        if (auto bad = time("eind_tijd", w.end)) return bad;
    if (w.start >= w.end) return "start_tijd must be before eind_tijd";
    if (w.end - w.start > days{Api::k_max_window_days})
        return "the window may span at most " + std::to_string(Api::k_max_window_days) + " days; page through longer periods";
    auto integer = [&](const char* name, std::int64_t& out, std::int64_t lo, std::int64_t hi) -> std::optional<std::string> {
        const auto v = one(q, name);
        if (!v) return std::nullopt;
        const bool digits = !v->empty() && v->size() <= 10 && std::all_of(v->begin(), v->end(), ::isdigit);
        const long long n = digits ? std::stoll(*v) : -1;
        if (!digits || n < lo || n > hi)
            return std::string(name) + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                   ", got \"" + v->substr(0, 20) + "\"";
        out = n;
        return std::nullopt;
    };
    if (auto bad = integer("offset", w.offset, 0, 1'000'000'000)) return bad;
    if (auto bad = integer("max_rows", w.max_rows, 1, Api::k_max_page)) return bad;
    if (auto f = one(q, "formaat")) {
        if (*f != "json" && *f != "csv") return "formaat must be json or csv, got \"" + f->substr(0, 20) + "\"";
        w.csv = *f == "csv";
    }
    w.meter_cfg = cfg.find_meter(w.meter);
    return std::nullopt;
}

}  // namespace

std::optional<http::Response> Api::check_access(Ctx& ctx, const Window& w) {
    ctx.audit.klant_ean = w.klant.to_string();
    ctx.audit.meter_ean = w.meter.to_string();
    ctx.audit.window_start = time_point_cast<seconds>(w.start);
    ctx.audit.window_end = time_point_cast<seconds>(w.end);
    if (config_.find_customer(w.klant) == nullptr)
        return error(ctx, 404, "not_found", "klant_ean " + w.klant.to_string() + " is not on this gateway");
    auto consent = store_.consent_active(w.klant);
    if (!consent) return error(ctx, 503, "storage_unavailable", "storage unavailable: " + consent.error().message);
    if (!*consent) return error(ctx, 403, "geen_toestemming", "no active consent for klant_ean " + w.klant.to_string());
    if (w.meter_cfg == nullptr || w.meter_cfg->klant_ean != w.klant)
        return error(ctx, 404, "not_found",
                     "meter_ean " + w.meter.to_string() + " does not belong to klant_ean " + w.klant.to_string());
    return std::nullopt;
}

namespace {
constexpr std::size_t k_cache_entries = 32;
constexpr std::size_t k_cache_bytes = 16 * 1024 * 1024;
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
    while (!cache_.empty() && (cache_.size() >= k_cache_entries || cache_bytes_ + r.body.size() > k_cache_bytes)) {
        auto oldest = std::min_element(cache_.begin(), cache_.end(),
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

namespace {

/// The next page's URL up to its endpoint-specific parameters: the same window, with the
/// resolved eind_tijd when the caller left it to "now", so that pages stay consistent.
std::string next_page_base(const char* endpoint, const Api::Window& w, const http::Query& q) {
    return std::string(endpoint) + "?klant_ean=" + w.klant.to_string() + "&meter_ean=" + w.meter.to_string() +
           "&start_tijd=" + http::url_encode(*one(q, "start_tijd")) +
           "&eind_tijd=" + http::url_encode(one(q, "eind_tijd") ? *one(q, "eind_tijd") : format_utc_ms(w.end));
}

/// Closes a page: JSON gets its "next" member, CSV a Link header.
http::Response finish_page(const Api::Window& w, std::string body, bool more, const std::string& next) {
    http::Response r;
    r.no_store = true;
    if (w.csv) {
        r.content_type = "text/csv; charset=utf-8";
        if (more) r.set("Link", "<" + next + ">; rel=\"next\"");
    } else {
        body += "],\"next\":" + (more ? json_str(next) : std::string("null")) + "}";
    }
    r.body = std::move(body);
    return r;
}

}  // namespace

http::Response Api::metingen(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, k_metingen_params)) return error(ctx, 400, "invalid_parameter", *bad);
    Window w;
    if (auto bad = parse_window(ctx.query, config_, clock_, w)) return error(ctx, 400, "invalid_parameter", *bad);
    std::vector<Quantity> types;
    for (const auto& v : list_values(ctx.query, "meting_type")) {
        auto qt = quantity_from_api_name(v);
        if (!qt)
            return error(ctx, 400, "invalid_parameter",
                         "meting_type \"" + v.substr(0, 32) +
                             "\" is unknown; expected actief_vermogen, blind_vermogen, spanning_L1, spanning_L2 or spanning_L3");
        if (std::find(types.begin(), types.end(), *qt) == types.end()) types.push_back(*qt);
    }
    if (types.empty()) types.assign(k_all_quantities.begin(), k_all_quantities.end());
    std::sort(types.begin(), types.end());
    // Without resolutie: the stored intervals themselves (5 minutes in production; shorter in demos and tests).
    int bucket_s = config_.gateway.interval_s;
    if (auto res = one(ctx.query, "resolutie")) {
        if (*res == "5min") bucket_s = 300;
        else if (*res == "15min") bucket_s = 900;
        else if (*res == "60min") bucket_s = 3600;
        else return error(ctx, 400, "invalid_parameter", "resolutie must be 5min, 15min or 60min, got \"" + res->substr(0, 20) + "\"");
    }
    const int interval_s = config_.gateway.interval_s;
    if (bucket_s < interval_s)
        return error(ctx, 400, "invalid_parameter", "resolutie is finer than this gateway's interval of " + std::to_string(interval_s) + " s");
    if (auto denied = check_access(ctx, w)) return *denied;
    if (auto hit = cached(ctx)) return *hit;

    // Rows are (bucket, type) positions: offset and max_rows count positions, so pages are
    // stable and their union is the whole result.
    const auto ntypes = static_cast<std::int64_t>(types.size());
    struct Bucket {
        SysS end;
        std::array<std::optional<double>, 5> v;
        Quality q;
    };
    std::vector<Bucket> buckets;
    bool more = false;
    // The store's "end > from": an interval (end - len >= start) <=> end >= start + len.
    auto from_for = [&](int len_s) {
        const SysMs first_end = w.start + seconds{len_s};
        return time_point_cast<seconds>(first_end + milliseconds{999}) - seconds{1};
    };
    const SysS to = time_point_cast<seconds>(w.end);
    auto values_of = [](const IntervalRecord& r) {
        return std::array<std::optional<double>, 5>{r.p_w, r.q_var, r.u1_v, r.u2_v, r.u3_v};
    };
    const std::int64_t first_bucket = w.offset / ntypes;
    const std::int64_t want_buckets = (w.offset % ntypes + w.max_rows + ntypes - 1) / ntypes;
    if (bucket_s == interval_s) {
        auto rows = store_.intervals(w.meter, from_for(interval_s), to, first_bucket, want_buckets + 1);
        if (!rows) return error(ctx, 503, "storage_unavailable", "storage unavailable: " + rows.error().message);
        for (const auto& r : *rows) buckets.push_back({r.end, values_of(r), r.quality});
    } else {
        // Means of the parts; the window must hold the whole bucket.
        const SysMs bucket_start_min = w.start;
        auto rows = store_.intervals(w.meter, time_point_cast<seconds>(w.start) - seconds{1}, to, 0, 1'000'000);
        if (!rows) return error(ctx, 503, "storage_unavailable", "storage unavailable: " + rows.error().message);
        const int parts = bucket_s / interval_s;
        std::vector<Bucket> all;
        std::vector<std::array<double, 5>> sums;
        std::vector<std::array<int, 5>> counts;
        std::vector<int> present;
        for (const auto& r : *rows) {
            const auto e = r.end.time_since_epoch().count();
            const SysS bend{seconds{((e + bucket_s - 1) / bucket_s) * bucket_s}};
            if (SysMs{(bend - seconds{bucket_s}).time_since_epoch()} < bucket_start_min || bend > to) continue;
            if (all.empty() || all.back().end != bend) {
                all.push_back({bend, {}, Quality::gemeten});
                sums.push_back({});
                counts.push_back({});
                present.push_back(0);
            }
            const auto vals = values_of(r);
            for (std::size_t i = 0; i < 5; ++i)
                if (vals[i]) {
                    sums.back()[i] += *vals[i];
                    counts.back()[i] += 1;
                }
            if (r.quality == Quality::onvolledig) all.back().q = Quality::onvolledig;
            present.back() += 1;
        }
        for (std::size_t b = 0; b < all.size(); ++b) {
            if (present[b] < parts) all[b].q = Quality::onvolledig;
            for (std::size_t i = 0; i < 5; ++i)
                if (counts[b][i] > 0) all[b].v[i] = sums[b][i] / counts[b][i];
        }
        for (std::int64_t b = first_bucket; b < static_cast<std::int64_t>(all.size()) && b < first_bucket + want_buckets + 1; ++b)
            buckets.push_back(all[static_cast<std::size_t>(b)]);
    }
    std::int64_t pos = first_bucket * ntypes;
    const std::int64_t end_pos = w.offset + w.max_rows;
    std::string body;
    body.reserve(static_cast<std::size_t>(std::min<std::int64_t>(w.max_rows, 1500)) * 200);
    if (w.csv) body = "datum,tijd,klant_ean,meter_ean,waarde,meting_type,waarde_type,kwaliteit\n";
    else body = "{\"metingen\":[";
    bool first = true;
    std::int64_t rows_out = 0;
    const std::string klant(w.klant.str()), meter(w.meter.str());
    // Appended piece by piece: this loop builds a day's 300 KB without temporaries.
    std::array<std::string, 5> type_tail;  // ",\"meting_type\":...,\"kwaliteit\":\"" per type
    for (Quantity qt : types)
        type_tail[static_cast<std::size_t>(qt)] = w.csv ? "," + std::string(api_name(qt)) + "," + std::string(unit(qt)) + ","
                                                        : ",\"meting_type\":\"" + std::string(api_name(qt)) +
                                                              "\",\"waarde_type\":\"" + std::string(unit(qt)) + "\",\"kwaliteit\":\"";
    const std::string ids = w.csv ? "," + klant + "," + meter + "," : "\",\"klant_ean\":\"" + klant + "\",\"meter_ean\":\"" + meter + "\",\"waarde\":";
    for (const auto& b : buckets) {
        const std::string when = w.csv ? format_date(b.end) + "," + format_time_of_day(b.end)
                                       : "{\"datum\":\"" + format_date(b.end) + "\",\"tijd\":\"" + format_time_of_day(b.end);
        const std::string_view quality = quality_name(b.q);
        for (Quantity qt : types) {
            if (pos >= end_pos) {
                more = true;
                break;
            }
            if (pos++ < w.offset) continue;
            const auto& v = b.v[static_cast<std::size_t>(qt)];
            if (!v) continue;
            if (!w.csv && !first) body += ',';
            first = false;
            body += when;
            body += ids;
            body += format_served(qt, *v);
            body += type_tail[static_cast<std::size_t>(qt)];
            body += quality;
            body += w.csv ? "\n" : "\"}";
            ++rows_out;
        }
        if (more) break;
    }
    ctx.audit.rows = rows_out;
    std::string next;
    if (more) {
        next = next_page_base("/api/v1/metingen", w, ctx.query);
        for (Quantity qt : types)
            if (types.size() < 5) next += "&meting_type=" + std::string(api_name(qt));
        if (auto res = one(ctx.query, "resolutie")) next += "&resolutie=" + *res;
        if (one(ctx.query, "max_rows")) next += "&max_rows=" + std::to_string(w.max_rows);
        if (w.csv) next += "&formaat=csv";
        next += "&offset=" + std::to_string(w.offset + w.max_rows);
    }
    return remember(ctx, finish_page(w, std::move(body), more, next));
}

http::Response Api::meterstanden(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, k_meterstanden_params)) return error(ctx, 400, "invalid_parameter", *bad);
    Window w;
    if (auto bad = parse_window(ctx.query, config_, clock_, w)) return error(ctx, 400, "invalid_parameter", *bad);
    if (auto denied = check_access(ctx, w)) return *denied;
    const int len = config_.gateway.interval_s;
    const SysS from = time_point_cast<seconds>(w.start + seconds{len} + milliseconds{999}) - seconds{1};
    constexpr std::int64_t nregs = 4;
    const std::int64_t first = w.offset / nregs;
    const std::int64_t want = (w.offset % nregs + w.max_rows + nregs - 1) / nregs;
    auto rows = store_.energy_readings(w.meter, from, time_point_cast<seconds>(w.end), first, want + 1);
    if (!rows) return error(ctx, 503, "storage_unavailable", "storage unavailable: " + rows.error().message);
    static const char* names[nregs] = {"actief_levering", "actief_teruglevering", "blind_levering", "blind_teruglevering"};
    static const char* units[nregs] = {"kWh", "kWh", "kVArh", "kVArh"};
    std::string body = w.csv ? "datum,tijd,klant_ean,meter_ean,register,waarde,eenheid\n" : "{\"meterstanden\":[";
    std::int64_t pos = first * nregs, rows_out = 0;
    bool more = false, first_row = true;
    for (const auto& e : *rows) {
        const std::array<std::optional<double>, nregs> vals{e.e_import_wh, e.e_export_wh, e.eq_import_varh, e.eq_export_varh};
        for (std::size_t i = 0; i < nregs; ++i) {
            if (pos >= w.offset + w.max_rows) {
                more = true;
                break;
            }
            if (pos++ < w.offset || !vals[i]) continue;
            const std::string d = format_date(e.at), t = format_time_of_day(e.at), v = kwh(*vals[i]);
            if (w.csv) {
                body += d + ',' + t + ',' + std::string(w.klant.str()) + ',' + std::string(w.meter.str()) + ',' + names[i] +
                        ',' + v + ',' + units[i] + '\n';
            } else {
                if (!first_row) body += ',';
                first_row = false;
                body += "{\"datum\":\"" + d + "\",\"tijd\":\"" + t + "\",\"klant_ean\":\"" + std::string(w.klant.str()) +
                        "\",\"meter_ean\":\"" + std::string(w.meter.str()) + "\",\"register\":\"" + names[i] +
                        "\",\"waarde\":" + v + ",\"eenheid\":\"" + units[i] + "\"}";
            }
            ++rows_out;
        }
        if (more) break;
    }
    ctx.audit.rows = rows_out;
    std::string next;
    if (more)
        next = next_page_base("/api/v1/meterstanden", w, ctx.query) +
               (one(ctx.query, "max_rows") ? "&max_rows=" + std::to_string(w.max_rows) : "") + (w.csv ? "&formaat=csv" : "") +
               "&offset=" + std::to_string(w.offset + w.max_rows);
    return finish_page(w, std::move(body), more, next);
}

http::Response Api::meter_details(Ctx& ctx, std::string_view ean_text) {
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    auto ean = Ean18::parse(ean_text);
    if (!ean) return error(ctx, 400, "invalid_parameter", "meter_ean \"" + std::string(ean_text.substr(0, 32)) + "\": " + ean.error().message);
    ctx.audit.meter_ean = ean->to_string();
    const MeterConfig* m = config_.find_meter(*ean);
    if (m == nullptr) return error(ctx, 404, "not_found", "meter_ean " + ean->to_string() + " is not on this gateway");
    ctx.audit.klant_ean = m->klant_ean.to_string();
    auto consent = store_.consent_active(m->klant_ean);
    if (!consent) return error(ctx, 503, "storage_unavailable", "storage unavailable: " + consent.error().message);
    if (!*consent) return error(ctx, 403, "geen_toestemming", "no active consent for klant_ean " + m->klant_ean.to_string());
    auto last = store_.latest_end(m->meter_ean);
    if (!last) return error(ctx, 503, "storage_unavailable", "storage unavailable: " + last.error().message);
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
        {"teken", m->sign == SignConvention::import_positive ? "import_positive" : "export_positive"},
        {"ct_ratio", m->ct_ratio},
        {"vt_ratio", m->vt_ratio},
        {"poll_ms", m->poll_ms},
        {"interval_s", config_.gateway.interval_s},
        {"datum_laatste_meting", *last ? json::value(format_utc(**last)) : json::value(nullptr)},
    };
    if (link) {
        json::object l{{"id", link->id}, {"type", link->type == LinkType::tcp ? "tcp" : "rtu"}, {"unit_id", m->unit_id}};
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
            o["laatste_succesvolle_lezing"] = ml.last_success ? json::value(format_utc_ms(*ml.last_success)) : json::value(nullptr);
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

http::Response Api::status(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    auto st = store_.stats();
    if (!st) return error(ctx, 503, "storage_unavailable", "storage unavailable: " + st.error().message);
    const SysMs now = clock_.utc_now();
    json::object o{{"version", version_}, {"gateway_id", config_.gateway.id}, {"interval_s", config_.gateway.interval_s}, {"now", format_utc_ms(now)}};
    GatewayLive live = live_ ? live_() : GatewayLive{now};
    o["started_at"] = format_utc_ms(live.started_at);
    o["uptime_s"] = duration_cast<seconds>(now - live.started_at).count();
    o["clock"] = json::object{{"trusted", live.clock_trusted}, {"status", live.clock_status}};
    json::array meters;
    for (const auto& m : live.meters) {
        json::object mo{{"meter_ean", m.meter_ean},
                        {"link_state", !m.link_up ? "unknown" : *m.link_up ? "up" : "down"},
                        {"last_success", m.last_success ? json::value(format_utc_ms(*m.last_success)) : json::value(nullptr)},
                        {"last_error", m.last_error ? json::value(*m.last_error) : json::value(nullptr)}};
        json::object c;
        for (const auto& [k, v] : m.counters) c[k] = v;
        mo["counters"] = c;
        meters.push_back(mo);
    }
    o["meters"] = meters;
    o["mqtt"] = json::object{{"enabled", config_.mqtt.enabled}, {"state", live.mqtt_state},
                             {"backlog", st->pending_forward},
                             {"oldest_unsent", st->oldest_pending ? json::value(format_utc(*st->oldest_pending)) : json::value(nullptr)}};
    o["storage"] = json::object{{"bytes", st->file_bytes}, {"schema_version", st->schema_version}, {"intervals", st->intervals},
                                {"oldest_interval", st->oldest_interval ? json::value(format_utc(*st->oldest_interval)) : json::value(nullptr)},
                                {"newest_interval", st->newest_interval ? json::value(format_utc(*st->newest_interval)) : json::value(nullptr)},
                                {"uncommitted_in_memory", live.pending_commits}};
    http::Response r;
    r.no_store = true;
    r.body = json::serialize(o);
    return r;
}

}  // namespace gw
