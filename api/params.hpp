// Inside the API module: the parameter tables (validation and the OpenAPI document both come
// from them), query helpers, the validated window of the data endpoints, and page closing.
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

struct Param {
    const char* name;
    bool required;
    bool repeatable;
    const char* type;  ///< "ean", "time", "integer", "enum"
    const char* description;
    std::vector<const char*> values;  ///< for enums
};

extern const std::vector<Param> k_meters_params;
extern const std::vector<Param> k_metingen_params;
extern const std::vector<Param> k_meterstanden_params;

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

/// The OpenAPI document of the API.
std::string openapi_document(const std::string& version);

}  // namespace api
}  // namespace gw
