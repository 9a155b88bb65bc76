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
    const char* route = nullptr;          ///< the matched endpoint's path (for the metrics)
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

/// The challenge of a 401 that wants a client's name and secret.
inline constexpr const char* k_basic_challenge = "Basic realm=\"meter-gateway\", charset=\"UTF-8\"";

/// Who may call an endpoint.
enum class Access {
    open,       ///< anyone, without credentials; no data behind it
    basic,      ///< any client, with Basic credentials only (the token endpoint)
    login,      ///< any client with valid credentials (the gateway's status)
    data,       ///< a reader: measurement and master data, per customer consent
    installer,  ///< an installer or admin: the commissioning page and its live values
    monitor,    ///< a reader, installer or admin: metrics
    admin,      ///< an admin only: consent per customer
};
/// Whether a client of `role` may call an endpoint of `access` (once logged in).
bool role_may(Access access, Role role);

/// A query or path parameter: what the handler accepts, and what the document says.
struct Param {
    const char* name;
    bool required;
    bool repeatable;   ///< repeat the parameter, or separate values with commas
    const char* type;  ///< "ean", "time", "integer", "enum"
    const char* description;
    std::vector<const char*> values = {};  ///< for enums
    std::int64_t minimum = 0;              ///< for integers
    std::int64_t maximum = 0;
};
/// The parameter of that name in a table (which must have it).
const Param& param(const std::vector<Param>& table, std::string_view name);

/// A JSON Schema under components/schemas, as JSON text, written next to the handler whose
/// responses it describes.
struct Schema {
    const char* name;
    std::string json;
};

/// Pieces of response schemas that several endpoints share.
namespace schema {
inline constexpr const char* ean = R"({"$ref":"#/components/schemas/Ean"})";
inline constexpr const char* utc = R"({"$ref":"#/components/schemas/UtcTime"})";
/// A UtcTime or null (in OpenAPI 3.0 a $ref cannot be made nullable).
inline constexpr const char* utc_or_null =
    R"({"type":"string","format":"date-time","nullable":true,)"
    R"("pattern":"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"})";
inline constexpr const char* date = R"({"type":"string","format":"date"})";
inline constexpr const char* time_of_day =
    R"({"type":"string","pattern":"^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$"})";
inline constexpr const char* next_page =
    R"({"type":"string","nullable":true,"description":"The next page's URL; null on the last."})";
inline constexpr const char* meter_type =
    R"({"type":"string","enum":["bruto_productie","overdrachtspunt"]})";
inline constexpr const char* link_state = R"({"type":"string","enum":["ok","degraded","down",)"
                                          R"("unknown"],"description":"From the meter's last )"
                                          R"(10 polls: ok, all gave a valid sample; degraded, )"
                                          R"(some did; down, none did; unknown, not polled yet."})";
inline constexpr const char* counters =
    R"({"type":"object","additionalProperties":{"type":"integer","minimum":0},)"
    R"("description":"Poll counters since the gateway started."})";
}  // namespace schema

/// An endpoint's operation in the OpenAPI document, defined next to its handler.
struct OperationDoc {
    const char* operation_id;
    const char* summary;
    const char* description;          ///< what a client may rely on
    const std::vector<Param>* query;  ///< nullptr: the endpoint takes no query parameters
    const std::vector<Param>* path;   ///< the {name} segments of the route's path
    const char* body;                 ///< the schema of the 200 body (a name in `schemas`)
    bool csv;                         ///< also answers text/csv (formaat=csv), with a Link header
    /// The error statuses the handler (and the login and rate checks before it) can answer;
    /// the server's own (400 bad_request, 405, 413, 414, 431) are added for every operation.
    std::vector<int> errors;
    std::vector<Schema> schemas;  ///< the schemas this endpoint's responses use
    /// The 200 body's media type when it is not JSON (the body is then text, `body` unused).
    const char* media = nullptr;
};

extern const OperationDoc k_healthz_doc, k_openapi_doc, k_token_doc, k_status_doc, k_meters_doc,
    k_meter_doc, k_metingen_doc, k_meterstanden_doc, k_live_doc, k_page_doc, k_metrics_doc,
    k_consent_put_doc, k_consent_delete_doc;
/// The error codes, each with the status that carries it.
struct ErrorCode {
    int status;
    const char* code;
    const char* when;
};
extern const std::vector<ErrorCode> k_error_codes;

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
