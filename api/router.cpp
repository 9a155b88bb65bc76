// The routing table: which path takes which method, who may call it, which member handles it,
// and where its OpenAPI description is (next to the handler). Adding an endpoint is a handler,
// its OperationDoc and a row here.
#include "params.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

const std::vector<Api::Endpoint>& Api::endpoints() {
    static const std::vector<Endpoint> table{
        {"/healthz", "GET", Access::open, &Api::healthz, &k_healthz_doc},
        {"/api/v1/openapi.json", "GET", Access::open, &Api::openapi_json, &k_openapi_doc},
        {"/api/v1/token", "POST", Access::basic, &Api::token, &k_token_doc},
        {"/api/v1/meters", "GET", Access::data, &Api::meters, &k_meters_doc},
        {"/api/v1/meters/{meter_ean}", "GET", Access::data, &Api::meter_details, &k_meter_doc},
        {"/api/v1/metingen", "GET", Access::data, &Api::metingen, &k_metingen_doc},
        {"/api/v1/meterstanden", "GET", Access::data, &Api::meterstanden, &k_meterstanden_doc},
        {"/api/v1/status", "GET", Access::login, &Api::status, &k_status_doc},
        {"/api/v1/live", "GET", Access::installer, &Api::live, &k_live_doc},
        {"/", "GET", Access::installer, &Api::page, &k_page_doc},
        {"/metrics", "GET", Access::monitor, &Api::metrics, &k_metrics_doc},
        {"/api/v1/consent/{klant_ean}", "PUT", Access::admin, &Api::consent_put,
         &k_consent_put_doc},
        {"/api/v1/consent/{klant_ean}", "DELETE", Access::admin, &Api::consent_delete,
         &k_consent_delete_doc},
    };
    return table;
}

bool api::role_may(Access access, Role role) {
    switch (access) {
        case Access::data:
            return role == Role::reader;
        case Access::installer:
            return role == Role::installer || role == Role::admin;
        case Access::admin:
            return role == Role::admin;
        case Access::open:
        case Access::basic:
        case Access::login:
        case Access::monitor:
            break;
    }
    return true;
}

namespace {

/// Whether `path` fits the route's `pattern`, segment by segment; a {name} segment takes any
/// non-empty segment, which goes to `arg`.
bool matches(std::string_view pattern, std::string_view path, std::string& arg) {
    while (!pattern.empty() && !path.empty()) {
        const auto p_end = pattern.find('/', 1), s_end = path.find('/', 1);
        const auto p_seg = pattern.substr(0, p_end), s_seg = path.substr(0, s_end);
        if (p_seg.size() > 2 && p_seg[1] == '{') {
            if (s_seg.size() < 2) return false;
            arg = std::string(s_seg.substr(1));
        } else if (p_seg != s_seg) {
            return false;
        }
        pattern.remove_prefix(p_seg.size());
        path.remove_prefix(s_seg.size());
    }
    return pattern.empty() && path.empty();
}

}  // namespace

http::Response Api::route(Ctx& ctx) {
    const std::string_view path = http::path_of(ctx.req.target);
    const std::string& m = ctx.req.method;
    const Endpoint* found = nullptr;
    std::string allowed;
    for (const auto& e : endpoints()) {
        std::string arg;
        if (!matches(e.path, path, arg)) continue;
        if (m == e.method || (std::string_view(e.method) == "GET" && m == "HEAD")) {
            found = &e;
            ctx.path_arg = std::move(arg);
            break;
        }
        allowed += (allowed.empty() ? "" : ", ") + std::string(e.method);
    }
    if (found == nullptr && allowed.empty())
        return error(ctx, 404, "not_found",
                     "no such endpoint: " + std::string(path.substr(0, 100)) +
                         " (see /api/v1/openapi.json)");
    if (found == nullptr) {
        auto r = error(ctx, 405, "method_not_allowed",
                       "use " + allowed + " on " + std::string(path.substr(0, 100)));
        r.set("Allow", allowed);
        return r;
    }
    ctx.route = found->path;
    if (found->access == Access::open) return (this->*found->handler)(ctx);
    const std::string& given = ctx.req.authorization;
    if (found->access == Access::basic && !given.empty() && given.rfind("Basic ", 0) != 0 &&
        given.rfind("basic ", 0) != 0) {
        auto r = error(ctx, 401, "unauthorized",
                       std::string(found->method) + " " + found->path +
                           " takes Basic credentials (the client's name and secret), not a token");
        r.set("WWW-Authenticate", k_basic_challenge);
        return r;
    }

    std::string why;
    auto q = http::parse_query(http::query_of(ctx.req.target), why);
    if (auto denied = authorize(ctx, found->access == Access::data)) return *denied;
    if (!role_may(found->access, ctx.who->role))
        return error(ctx, 403, "forbidden",
                     "role " + std::string(role_name(ctx.who->role)) + " may not call " +
                         found->method + " " + found->path);
    if (!q) return error(ctx, 400, "invalid_parameter", why);
    ctx.query = std::move(*q);
    return (this->*found->handler)(ctx);
}

// GET /healthz: liveness, without credentials and without data.
const OperationDoc api::k_healthz_doc{
    "getHealth",
    "Liveness",
    "Answers while the process runs; no credentials, no data. For the gateway's health (meters, "
    "storage, MQTT, certificate) see /api/v1/status.",
    nullptr,
    nullptr,
    "Health",
    false,
    {},
    {{"Health", R"({"type":"object","required":["status"],"additionalProperties":false,)"
                R"("properties":{"status":{"type":"string","enum":["ok"]}}})"}}};

http::Response Api::healthz(Ctx&) {
    http::Response r;
    r.body = "{\"status\":\"ok\"}";
    return r;
}

// GET /api/v1/openapi.json: this table as an OpenAPI document.
const OperationDoc api::k_openapi_doc{
    "getOpenApi",
    "This document",
    "Generated from the tables the server routes and validates with; no credentials.",
    nullptr,
    nullptr,
    "OpenApiDocument",
    false,
    {},
    {{"OpenApiDocument",
      R"({"type":"object","required":["openapi","info","paths","components"],)"
      R"("additionalProperties":true,"properties":{"openapi":{"type":"string","enum":["3.0.3"]}}})"}}};

http::Response Api::openapi_json(Ctx&) {
    http::Response r;
    r.body = openapi_;
    return r;
}

}  // namespace gw
