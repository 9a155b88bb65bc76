// API authentication: Basic and Bearer, login throttling per source address, per-client rate
// limits, and the slow hash checks that must not run on the io thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gw/api/secret.hpp"
#include "gw/core/clock.hpp"
#include "gw/core/store_api.hpp"

namespace gw {

/// Who a request is from, once authenticated.
struct Principal {
    std::string client;
    Role role = Role::reader;
};

enum class AuthFailure { missing, malformed, wrong, expired_token, throttled, no_clients, pending };

/// The slow part of a Basic login: the presented secret checked against every candidate hash.
/// Built on the io thread, run anywhere (run_verification), finished on the io thread.
struct Verification {
    std::string key;  ///< keyed hash of the presented credentials
    std::string user;
    std::string password;  ///< in memory only while the job runs
    std::vector<ApiSecret> candidates;
    int iterations = 0;  ///< today's strength: of the decoys, and of a re-hash
    // Results, filled in by run_verification():
    std::optional<std::int64_t> matched;  ///< the id of the secret that matched
    std::string rehash;  ///< a stronger hash of the matched secret, when it was weak
};

struct AuthResult {
    std::optional<Principal> principal;
    AuthFailure failure = AuthFailure::missing;
    std::string message;                  ///< for the error body
    std::chrono::seconds retry_after{0};  ///< throttled: when to try again
    /// For the audit log and the log line: the client's name when it is a known client (never a
    /// string that failed as a credential), and why the login failed.
    std::string audit_client;
    std::string reason;
    std::optional<Verification>
        verification;  ///< failure == pending: run it, then authenticate again
};

/// Runs a Verification: PBKDF2 against every candidate, and against decoys up to
/// Authenticator::k_min_hash_checks, whichever matches, so that the time taken does not tell
/// which secret (or whether any) matched. Thread-safe; returns the number of hash checks.
int run_verification(Verification& job);

/// Checks credentials against the store on every request, so a revoked client or an expired
/// secret fails at once. The slow hash check runs once per (client, secret): a verified login
/// is remembered for `verified_ttl`, keyed by an HMAC of the presented credentials under a key
/// that lives only in this process, and re-validated against the store's current secrets each
/// time. Bearer tokens live in memory only (a restart asks clients to log in again) and are
/// looked up by their SHA-256.
///
/// Throttling: failed logins are counted per source address, and per (address, client name);
/// past either limit that address gets 429 for the rest of the window. Failures from one
/// address never lock a client out from another.
///
/// Thread-safety: none; used on the io thread (run_verification may run elsewhere).
class Authenticator {
  public:
    /// Every Basic check costs at least this many hash computations (a client has at most two
    /// valid secrets during a rotation).
    static constexpr int k_min_hash_checks = 2;

    struct Limits {
        int max_failures_per_address = 20;        ///< failed logins from one address ...
        int max_failures_per_name = 5;            ///< ... or for one name from one address ...
        std::chrono::seconds failure_window{60};  ///< ... within this window, then 429
        int rate_limit_per_minute = 60;           ///< per client, token bucket
        std::chrono::seconds token_lifetime{3600};
        std::chrono::seconds verified_ttl{900};  ///< how long a verified Basic login is remembered
        int hash_iterations =
            k_hash_iterations;  ///< PBKDF2 strength of decoys and re-hashes (tests lower it)
    };

    Authenticator(ApiStore& store, const Clock& clock, Limits limits);

    /// Authenticates an Authorization header value ("Basic ...", "Bearer ..."). A Basic login
    /// that needs a hash check comes back with failure == pending and a Verification to run;
    /// after finish(), call authenticate() again for the answer.
    AuthResult authenticate(const std::string& authorization, const std::string& remote);
    /// Takes a run Verification's outcome (on the io thread).
    void finish(Verification&& job);
    /// Issues a bearer token for an authenticated client.
    std::string issue_token(const Principal& p);
    /// Takes one request from the client's bucket; the wait when empty.
    std::optional<std::chrono::seconds> rate_limited(const std::string& client);

  private:
    AuthResult basic(const std::string& b64, const std::string& remote);
    AuthResult bearer(const std::string& token);
    AuthResult fail(AuthFailure f, std::string message, std::string audit_client,
                    std::string reason);
    std::optional<std::chrono::seconds> throttled(const std::string& key, int limit) const;
    void record_failure(const std::string& key);
    std::string keyed_hash(std::string_view data) const;

    struct Remembered {
        std::int64_t secret_id;
        SteadyMs until;
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

    ApiStore& store_;
    const Clock& clock_;
    Limits limits_;
    std::array<unsigned char, 32> key_{};                   ///< this process's HMAC key
    std::unordered_map<std::string, Remembered> verified_;  ///< HMAC(user:pass) -> secret
    std::unordered_map<std::string, std::optional<std::int64_t>>
        verdicts_;                                        ///< finished, not yet used
    std::unordered_map<std::string, Token> tokens_;       ///< sha256(token) -> client
    std::unordered_map<std::string, Failures> failures_;  ///< "a:<ip>" / "n:<ip>\n<name>"
    std::unordered_map<std::string, Bucket> buckets_;
};

/// Hex SHA-256 (used to key caches without keeping secrets in memory).
std::string sha256_hex(std::string_view data);
/// Decodes standard base64; nullopt on malformed input.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace gw
