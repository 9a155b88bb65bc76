// API authentication: Basic and Bearer, login throttling, per-client rate limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "gw/clock.hpp"
#include "gw/store.hpp"

namespace gw {

/// Who a request is from, once authenticated.
struct Principal {
    std::string client;
    Role role = Role::reader;
};

enum class AuthFailure { missing, malformed, wrong, expired_token, throttled, no_clients };

struct AuthResult {
    std::optional<Principal> principal;
    AuthFailure failure = AuthFailure::missing;
    std::string message;            ///< for the error body
    std::chrono::seconds retry_after{0};  ///< throttled: when to try again
};

/// Checks credentials against the store on every request, so a revoked client or an expired
/// secret fails at once. PBKDF2 runs once per (client, secret) pair: a successful check is
/// remembered by a SHA-256 of the presented credentials and re-validated against the store's
/// current secrets each time. Bearer tokens live in memory only (a restart asks clients to log
/// in again) and are looked up by their SHA-256.
///
/// Thread-safety: none; used on the io thread.
class Authenticator {
public:
    struct Limits {
        int max_failures = 5;                          ///< per remote address or user name ...
        std::chrono::seconds failure_window{60};       ///< ... within this window, then 429
        int rate_limit_per_minute = 60;                ///< per client, token bucket
        std::chrono::seconds token_lifetime{3600};
    };

    Authenticator(Store& store, const Clock& clock, Limits limits);

    /// Authenticates an Authorization header value ("Basic ...", "Bearer ...").
    AuthResult authenticate(const std::string& authorization, const std::string& remote);
    /// Issues a bearer token for an authenticated client.
    std::string issue_token(const Principal& p);
    /// Takes one request from the client's bucket; the wait when empty.
    std::optional<std::chrono::seconds> rate_limited(const std::string& client);

private:
    AuthResult basic(const std::string& b64, const std::string& remote);
    AuthResult bearer(const std::string& token);
    std::optional<std::chrono::seconds> throttled(const std::string& key) const;
    void record_failure(const std::string& key);

    struct Remembered {
        std::int64_t secret_id;
        Role role;
    };
    struct Token {
        std::string client;
        SysMs expires;
    };
    struct Failures {
        int count = 0;
        SteadyMs window_start{};
    };
    struct Bucket {
        double tokens = 0;
        SteadyMs updated{};
    };

    Store& store_;
    const Clock& clock_;
    Limits limits_;
    std::unordered_map<std::string, Remembered> verified_;  ///< sha256(user:pass) -> secret
    std::unordered_map<std::string, Token> tokens_;         ///< sha256(token) -> client
    std::unordered_map<std::string, Failures> failures_;    ///< "ip:..." / "user:..."
    std::unordered_map<std::string, Bucket> buckets_;
};

/// Hex SHA-256 (used to key caches without keeping secrets in memory).
std::string sha256_hex(std::string_view data);
/// Decodes standard base64; nullopt on malformed input.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace gw
