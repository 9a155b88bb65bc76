// The OpenAPI document, assembled from the routing table: each endpoint's OperationDoc (next to
// its handler) and the parameter tables the handlers validate with.
#include <cctype>
#include <set>

#include "gw/core/json.hpp"
#include "params.hpp"

namespace gw::api {

namespace {

void parameter_schema(JsonWriter& w, const Param& p) {
    const std::string_view type = p.type;
    if (p.repeatable) w.object().field("type", "array").key("items");
    w.object();
    if (type == "integer") {
        const bool page = std::string_view(p.name) == "max_rows";
        w.field("type", "integer").key("minimum").integer(page ? 1 : 0);
        if (page) w.key("maximum").integer(Api::k_max_page);
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
    if (p.repeatable) w.end();
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

void json_content(JsonWriter& w, const char* schema) {
    w.key("application/json").object().key("schema").object();
    w.field("$ref", std::string("#/components/schemas/") + schema).end().end();
}

void operation(JsonWriter& w, const Api::Endpoint& e) {
    const OperationDoc& d = *e.doc;
    w.object().field("operationId", d.operation_id).field("summary", d.summary);
    w.key("parameters").array();
    parameters(w, d.path, "path");
    parameters(w, d.query, "query");
    w.end();
    w.key("responses").object();
    w.key("200").object().field("description", "OK").key("content").object();
    json_content(w, d.body);
    if (d.csv)
        w.key("text/csv").object().key("schema").object().field("type", "string").end().end();
    w.end().end();
    for (const char* code :
         {"400", "401", "403", "404", "405", "413", "414", "429", "431", "503"}) {
        w.key(code).object().field("description", "error").key("content").object();
        json_content(w, k_error_schema.name);
        w.end().end();
    }
    w.end();
    if (e.access == Access::open) w.key("security").array().end();
    w.end();
}

}  // namespace

std::string openapi_document(const std::string& version,
                             const std::vector<Api::Endpoint>& endpoints) {
    JsonWriter w;
    w.object().field("openapi", "3.0.3");
    w.key("info").object().field("title", "meter-gateway pull API").field("version", version);
    w.field("description",
            "Liander Dynamisch Terugleveren: 5-minute net active/reactive power (kW, kVAr, whole "
            "numbers, + import / - export) and voltage per phase (V, one decimal), UTC.");
    w.end();
    w.key("servers").array().object().field("url", "/").end().end();
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

    w.key("components").object();
    w.key("securitySchemes").object();
    w.key("basic").object().field("type", "http").field("scheme", "basic").end();
    w.key("bearer").object().field("type", "http").field("scheme", "bearer").end();
    w.end();
    w.key("schemas").object();
    std::set<std::string> named;
    auto schema = [&](const Schema& s) {
        if (named.insert(s.name).second) w.key(s.name).raw(s.json);
    };
    schema(k_error_schema);
    for (const auto& e : endpoints)
        for (const auto& s : e.doc->schemas) schema(s);
    w.end().end();
    w.end();
    return std::move(w).take();
}

}  // namespace gw::api
