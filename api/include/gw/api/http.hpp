// Plain HTTP request/response values for the API's handlers: no sockets, no Beast types, so the
// request logic is a function from request to response and is tested as one.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::http {

struct Request {
    std::string method;  ///< "GET", "POST", ...
    std::string target;  ///< path and query, as received
    std::string authorization;
    std::string correlation_id;  ///< X-Correlation-ID as received (may be empty)
    std::string remote;          ///< peer address, for login throttling
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    /// Set instead of `body` for a cached body shared between responses (no copy per request).
    std::shared_ptr<const std::string> shared_body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool no_store = false;  ///< Cache-Control: no-store (data responses)
    void set(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
    }
    const std::string& text() const { return shared_body ? *shared_body : body; }
};

/// A parsed query string: every key with its values in order; values percent-decoded.
struct Query {
    std::vector<std::pair<std::string, std::string>> items;
    std::vector<std::string> all(std::string_view key) const;
    std::size_t count(std::string_view key) const;
};

/// Splits "path?query" and decodes the query (+ as space, %XX). Returns nullopt for a
/// malformed escape, a NUL byte, or invalid UTF-8, with the reason in `why`.
std::optional<Query> parse_query(std::string_view query, std::string& why);
std::string_view path_of(std::string_view target);
std::string_view query_of(std::string_view target);
/// Percent-encodes a value for a query string.
std::string url_encode(std::string_view value);

/// A random UUID v4, for correlation ids.
std::string make_correlation_id();

/// The JSON error every refusal carries: {"error":{"code","message","correlation_id"}}, valid
/// UTF-8 whatever the message echoes, with Cache-Control: no-store. (The caller adds the
/// X-Correlation-ID header.)
Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view correlation_id);

}  // namespace gw::http
