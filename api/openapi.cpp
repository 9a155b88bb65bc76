// The OpenAPI document, assembled from the routing table: each endpoint's OperationDoc (next to
// its handler), the parameter tables the handlers validate with, and the error codes.
#include <cctype>
#include <map>
#include <set>

#include "gw/core/json.hpp"
#include "params.hpp"

namespace gw::api {

namespace {

/// The server refuses these before routing, on any path.
const std::vector<int> k_server_errors{400, 413, 414, 431};

/// Error responses under components/responses: the name, and the headers each carries.
struct ErrorResponse {
    int status;
    const char* name;
    std::vector<const char*> headers;  ///< beyond X-Correlation-ID and Cache-Control
};
const std::vector<ErrorResponse> k_error_responses{
    {400, "BadRequest", {}},
    {401, "Unauthorized", {"WWW-Authenticate"}},
    {403, "Forbidden", {}},
    {404, "NotFound", {}},
    {413, "PayloadTooLarge", {}},
    {414, "UriTooLong", {}},
    {429, "TooManyRequests", {"Retry-After"}},
    {431, "HeadersTooLarge", {}},
    {500, "Internal", {}},
    {503, "StorageUnavailable", {}},
};

const ErrorResponse& error_response(int status) {
    for (const auto& e : k_error_responses)
        if (e.status == status) return e;
    throw std::logic_error("no error response for status " + std::to_string(status));
}

/// A pattern that takes one value or several separated by commas.
std::string comma_list(const std::string& one) {
    return "^" + one + "(," + one + ")*$";
}

void parameter_schema(JsonWriter& w, const Param& p) {
    const std::string_view type = p.type;
    std::string alternatives;
    for (const char* v : p.values)
        alternatives += (alternatives.empty() ? "" : "|") + std::string(v);
    if (p.repeatable) {
        // Each value may itself be a comma-separated list: a validator that splits repeated
        // parameters into an array then sees "a,b" as one item, which the pattern admits.
        w.object().field("type", "array").key("items").object().field("type", "string");
        w.field("pattern",
                type == "ean" ? comma_list("[0-9]{18}") : comma_list("(" + alternatives + ")"));
        w.end().end();
        return;
    }
    w.object();
    if (type == "integer") {
        w.field("type", "integer").key("minimum").integer(p.minimum);
        w.key("maximum").integer(p.maximum);
    } else if (type == "enum") {
        w.field("type", "string").key("enum").array();
        for (const char* v : p.values) w.string(v);
        w.end();
    } else if (type == "ean") {
        w.field("type", "string").field("pattern", "^[0-9]{18}$");
    } else {
        w.field("type", "string").field("format", "date-time");
    }
    w.end();
}

void parameters(JsonWriter& w, const std::vector<Param>* ps, const char* in) {
    if (ps == nullptr) return;
    for (const auto& p : *ps) {
        w.object().field("name", p.name).field("in", in);
        w.key("required").boolean(p.required).field("description", p.description).key("schema");
        parameter_schema(w, p);
        if (p.repeatable) w.field("style", "form").key("explode").boolean(true);
        w.end();
    }
}

void ref(JsonWriter& w, const std::string& to) {
    w.object().field("$ref", to).end();
}

void operation(JsonWriter& w, const Api::Endpoint& e) {
    const OperationDoc& d = *e.doc;
    w.object().field("operationId", d.operation_id).field("summary", d.summary);
    w.field("description", d.description);
    w.key("parameters").array();
    parameters(w, d.path, "path");
    parameters(w, d.query, "query");
    w.end();

    w.key("responses").object();
    w.key("200").object().field("description", "OK").key("headers").object();
    w.key("X-Correlation-ID");
    ref(w, "#/components/headers/X-Correlation-ID");
    if (e.access != Access::open) {
        w.key("Cache-Control");
        ref(w, "#/components/headers/Cache-Control");
    }
    if (d.csv) {
        w.key("Link");
        ref(w, "#/components/headers/Link");
    }
    w.end().key("content").object();
    if (d.media != nullptr) {
        w.key(d.media).object().key("schema").object().field("type", "string").end().end();
    } else {
        w.key("application/json").object().key("schema");
        ref(w, std::string("#/components/schemas/") + d.body);
        w.end();
    }
    if (d.csv)
        w.key("text/csv").object().key("schema").object().field("type", "string").end().end();
    w.end().end();

    std::set<int> statuses(k_server_errors.begin(), k_server_errors.end());
    statuses.insert(d.errors.begin(), d.errors.end());
    for (int status : statuses) {
        w.key(std::to_string(status));
        ref(w, std::string("#/components/responses/") + error_response(status).name);
    }
    w.end();

    if (e.access == Access::open) w.key("security").array().end();
    if (e.access == Access::basic)
        w.key("security").array().object().key("basic").array().end().end().end();
    w.end();
}

void header(JsonWriter& w, const char* name, const char* description, bool required,
            const char* schema) {
    w.key(name).object().field("description", description).key("required").boolean(required);
    w.key("schema").raw(schema).end();
}

void components(JsonWriter& w, const std::vector<Api::Endpoint>& endpoints) {
    w.key("components").object();
    w.key("securitySchemes").object();
    w.key("basic").object().field("type", "http").field("scheme", "basic");
    w.field("description", "The client's name and secret (gatewayctl client add).").end();
    w.key("bearer").object().field("type", "http").field("scheme", "bearer");
    w.field("description", "A token from POST /api/v1/token.").end();
    w.end();

    w.key("headers").object();
    header(w, "X-Correlation-ID",
           "The request's correlation id, as sent (letters, digits, '.', '_', '-', up to 64) or "
           "made by the gateway; it is in the gateway's log line and audit row of the request.",
           true, R"({"type":"string","pattern":"^[A-Za-z0-9._-]{1,64}$"})");
    header(w, "Cache-Control", "Answers are not to be stored by caches.", true,
           R"({"type":"string","enum":["no-store"]})");
    header(w, "WWW-Authenticate",
           "The challenge: Basic, or Bearer with error=\"invalid_token\" when a token was sent "
           "and is not valid.",
           true, R"({"type":"string","pattern":"^(Basic|Bearer) realm=\"meter-gateway\""})");
    header(w, "Retry-After", "Seconds to wait before trying again.", true,
           R"({"type":"integer","minimum":0})");
    header(w, "Link", "With formaat=csv, when there is a next page: its URL, rel=\"next\".", false,
           R"({"type":"string","pattern":"^<[^>]+>; rel=\"next\"$"})");
    w.end();

    w.key("responses").object();
    for (const auto& r : k_error_responses) {
        std::string description;
        for (const auto& c : k_error_codes)
            if (c.status == r.status)
                description +=
                    (description.empty() ? "" : "; ") + std::string(c.code) + ": " + c.when;
        w.key(r.name).object().field("description", description).key("headers").object();
        w.key("X-Correlation-ID");
        ref(w, "#/components/headers/X-Correlation-ID");
        w.key("Cache-Control");
        ref(w, "#/components/headers/Cache-Control");
        for (const char* h : r.headers) {
            w.key(h);
            ref(w, std::string("#/components/headers/") + h);
        }
        w.end().key("content").object().key("application/json").object().key("schema");
        ref(w, "#/components/schemas/Error");
        w.end().end().end();
    }
    w.end();

    w.key("schemas").object();
    w.key("Ean").raw(
        R"({"type":"string","pattern":"^[0-9]{18}$","description":"An EAN-18 with its GS1 )"
        R"(check digit.","example":"871685900000000011"})");
    w.key("UtcTime").raw(
        R"({"type":"string","format":"date-time","description":"UTC, to the second, with Z.",)"
        R"("pattern":"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",)"
        R"("example":"2026-11-23T11:55:00Z"})");
    w.key("Error").object().field("type", "object").key("required").array().string("error").end();
    w.key("additionalProperties").boolean(false).key("properties").object();
    w.key("error").object().field("type", "object").key("required").array();
    w.string("code").string("message").string("correlation_id").end();
    w.key("additionalProperties").boolean(false).key("properties").object();
    w.key("code").object().field("type", "string").key("enum").array();
    std::set<std::string> codes;
    for (const auto& c : k_error_codes)
        if (codes.insert(c.code).second) w.string(c.code);
    w.end().end();
    w.key("message").object().field("type", "string");
    w.field("description", "For people: which parameter, what was expected.").end();
    w.key("correlation_id").object().field("type", "string").end();
    w.end().end().end().end();
    std::set<std::string> named;
    for (const auto& e : endpoints)
        for (const auto& s : e.doc->schemas)
            if (named.insert(s.name).second) w.key(s.name).raw(s.json);
    w.end();
    w.end();
}

}  // namespace

const Param& param(const std::vector<Param>& table, std::string_view name) {
    for (const auto& p : table)
        if (name == p.name) return p;
    throw std::logic_error("no parameter " + std::string(name));
}

std::string openapi_document(const std::string& version,
                             const std::vector<Api::Endpoint>& endpoints) {
    JsonWriter w;
    w.object().field("openapi", "3.0.3");
    w.key("info").object().field("title", "meter-gateway pull API").field("version", version);
    w.field("description",
            "The grid operator's pull API of a meter-gateway (Liander Dynamisch Terugleveren): per "
            "5-minute UTC interval the net active and reactive power of a generation site's meters "
            "(kW and kVAr, whole numbers, + import / - export) and the voltage per phase (V, one "
            "decimal). Field names that come from the grid operator's specification are Dutch and "
            "kept exactly; every other name, value and error code is English snake_case. Times in "
            "responses are UTC with Z, to the second (datum and tijd are the operator's date and "
            "time of day). HEAD is answered wherever GET is, without a body.");
    w.key("license")
        .object()
        .field("name", "Proprietary: licensed with the gateway")
        .field("url", "file:///usr/share/doc/meter-gateway/copyright")
        .end();
    w.end();
    w.key("servers").array().object().field("url", "/");
    w.field("description", "The gateway itself, at the address of [api] listen.").end().end();
    w.key("security").array();
    w.object().key("basic").array().end().end();
    w.object().key("bearer").array().end().end();
    w.end();

    // Operations grouped by path, in the table's order.
    w.key("paths").object();
    std::set<std::string> done;
    for (const auto& e : endpoints) {
        if (!done.insert(e.path).second) continue;
        w.key(e.path).object();
        for (const auto& same : endpoints) {
            if (std::string_view(same.path) != e.path) continue;
            std::string method = same.method;
            for (auto& c : method)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            w.key(method);
            operation(w, same);
        }
        w.end();
    }
    w.end();
    components(w, endpoints);
    w.end();
    return std::move(w).take();
}

}  // namespace gw::api
