// Inside the API module: the routing table's row, each endpoint's entry in the OpenAPI document,
// the parameter tables (validation and the document both come from them), query helpers, the
// validated window of the data endpoints, and page closing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gw/api/api.hpp"

namespace gw {

/// One request's state.
struct Api::Ctx {
    const http::Request& req;
    std::string corr;
    http::Query query;
    std::optional<Principal> who;
    AuditRecord audit;
    bool audited = false;
    std::optional<Verification> pending;  ///< a password check to run before answering
    std::string path_arg;                 ///< the {name} segment of the route's path, if any
};

/// The validated common parameters of the window endpoints.
struct Api::Window {
    Ean18 klant, meter;
    SysMs start, end;
    std::int64_t offset = 0, max_rows = Api::k_default_page;
    bool csv = false;
    const MeterConfig* meter_cfg = nullptr;
};

namespace api {

/// Who may call an endpoint.
enum class Access {
    open,   ///< anyone, without credentials; no data behind it
    login,  ///< any client with valid credentials (the token, the gateway's status)
    data,   ///< a reader: measurement and master data, per customer consent
};

struct Param {
    const char* name;
    bool required;
    bool repeatable;
    const char* type;  ///< "ean", "time", "integer", "enum"
    const char* description;
    std::vector<const char*> values;  ///< for enums
};

/// A JSON Schema under components/schemas, as JSON text, written next to the handler whose
/// responses it describes.
struct Schema {
    const char* name;
    const char* json;
};

/// An endpoint's operation in the OpenAPI document, defined next to its handler.
struct OperationDoc {
    const char* operation_id;
    const char* summary;
    const std::vector<Param>* query;  ///< nullptr: the endpoint takes no query parameters
    const std::vector<Param>* path;   ///< the {name} segments of the route's path
    const char* body;                 ///< the schema of the 200 body (a name in `schemas`)
    bool csv;                         ///< also answers text/csv (formaat=csv)
    std::vector<Schema> schemas;      ///< the schemas this endpoint's responses use
};

extern const OperationDoc k_healthz_doc, k_openapi_doc, k_token_doc, k_status_doc, k_meters_doc,
    k_meter_doc, k_metingen_doc, k_meterstanden_doc;
/// The error body every endpoint answers with (api.cpp, next to Api::error).
extern const Schema k_error_schema;

/// The parameters of the window endpoints (metingen, meterstanden).
const std::vector<Param>& window_params();

/// Checks names, repetition and presence against a table. Returns the 400 message, if any.
std::optional<std::string> check_params(const http::Query& q, const std::vector<Param>& table);
/// Values of a repeatable parameter, also split at commas.
std::vector<std::string> list_values(const http::Query& q, const char* name);
/// The first value of a parameter.
std::optional<std::string> one(const http::Query& q, const char* name);
/// Validates the window parameters (EANs, times, paging, format) into `w`; the 400 message on
/// failure.
std::optional<std::string> parse_window(const http::Query& q, const Config& cfg, const Clock& clock,
                                        Api::Window& w);

/// The next page's URL up to its endpoint-specific parameters: the same window, with the
/// resolved eind_tijd when the caller left it to "now", so that pages stay consistent.
std::string next_page_base(const char* endpoint, const Api::Window& w, const http::Query& q);
/// Closes a page: JSON gets its "next" member, CSV a Link header.
http::Response finish_page(const Api::Window& w, std::string body, bool more,
                           const std::string& next);

/// A meter's link state as the daemon sees it (status and meter details).
const char* link_state_name(const MeterLive& m);

/// "null" or the time as a JSON string.
std::string opt_time_json(const std::optional<SysS>& t);

/// The OpenAPI document of the routing table.
std::string openapi_document(const std::string& version,
                             const std::vector<Api::Endpoint>& endpoints);

}  // namespace api

/// A row of the routing table (router.cpp): the path, the method, who may call it, the handler
/// and its entry in the OpenAPI document.
struct Api::Endpoint {
    const char* path;  ///< a {name} segment matches one non-empty segment, in Ctx::path_arg
    const char* method;
    api::Access access;
    http::Response (Api::*handler)(Ctx&);
    const api::OperationDoc* doc;
};
}  // namespace gw
