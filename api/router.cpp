// The routes: which path takes which method, which need a login, and who handles them.
#include "params.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

http::Response Api::route(Ctx& ctx) {
    const std::string_view path = http::path_of(ctx.req.target);
    std::string why;
    auto q = http::parse_query(http::query_of(ctx.req.target), why);
    const std::string& m = ctx.req.method;
    auto only = [&](const char* allowed) -> std::optional<http::Response> {
        if (m == allowed || (std::string_view(allowed) == "GET" && m == "HEAD"))
            return std::nullopt;
        auto r = error(ctx, 405, "method_not_allowed",
                       "use " + std::string(allowed) + " on " + std::string(path));
        r.set("Allow", allowed);
        return r;
    };
    struct Route {
        std::string_view path;
        const char* method;
    };
    static const Route routes[] = {{"/healthz", "GET"},         {"/api/v1/openapi.json", "GET"},
                                   {"/api/v1/token", "POST"},   {"/api/v1/meters", "GET"},
                                   {"/api/v1/metingen", "GET"}, {"/api/v1/meterstanden", "GET"},
                                   {"/api/v1/status", "GET"}};
    const Route* found = nullptr;
    for (const auto& r : routes)
        if (path == r.path) found = &r;
    const bool meter_path = path.rfind("/api/v1/meters/", 0) == 0 && path.size() > 15;
    if (found == nullptr && !meter_path)
        return error(ctx, 404, "not_found",
                     "no such endpoint: " + std::string(path.substr(0, 100)) +
                         " (see /api/v1/openapi.json)");
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
    const bool data = path == "/api/v1/meters" || path == "/api/v1/metingen" ||
                      path == "/api/v1/meterstanden" || meter_path;
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

}  // namespace gw
