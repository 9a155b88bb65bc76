// Authentication and limits.
#include "gw/api/auth.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cmath>

#include "gw/api/secret.hpp"

namespace gw {

using namespace std::chrono;

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
    static const char* hexd = "0123456789abcdef";
    std::string out;
    out.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        out += hexd[p[i] >> 4];
        out += hexd[p[i] & 15];
    }
    return out;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
    return hex(md, sizeof md);
}

std::optional<std::string> base64_decode(std::string_view in) {
    if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
    std::string out((in.size() / 4) * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    if (n < 0) return std::nullopt;
    std::size_t len = static_cast<std::size_t>(n);
    if (in.back() == '=') --len;
    if (in.size() >= 2 && in[in.size() - 2] == '=') --len;
    out.resize(len);
    return out;
}

int run_verification(Verification& job) {
    // A decoy of today's strength stands in for missing candidates: an unknown name, or a
    // client with one valid secret, costs what a client in a rotation overlap costs.
    const int strength = job.iterations > 0 ? job.iterations : k_hash_iterations;
    static const std::string decoy_salt = hash_secret("not-a-real-secret", 1);
    const std::string decoy =
        "pbkdf2-sha256$" + std::to_string(strength) + decoy_salt.substr(decoy_salt.find('$', 14));
    int checks = 0;
    for (const auto& s : job.candidates) {
        ++checks;
        if (verify_secret(job.password, s.hash) && !job.matched) {
            job.matched = s.id;
            if (hash_iterations(s.hash) < strength)
                job.rehash = hash_secret(job.password, strength);
        }
    }
    for (; checks < Authenticator::k_min_hash_checks; ++checks)
        (void)verify_secret(job.password, decoy);
    job.password.assign(job.password.size(), '\0');
    job.password.clear();
    return checks;
}

Authenticator::Authenticator(ApiStore& store, const Clock& clock, Limits limits)
    : store_(store), clock_(clock), limits_(limits) {
    if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
}

std::string Authenticator::keyed_hash(std::string_view data) const {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
    return std::string(reinterpret_cast<const char*>(md), len);
}

std::optional<seconds> Authenticator::throttled(const std::string& key, int limit) const {
    auto it = failures_.find(key);
    if (it == failures_.end() || it->second.count < limit) return std::nullopt;
    const auto until = it->second.window_start + limits_.failure_window;
    const auto now = clock_.steady_now();
    if (now >= until) return std::nullopt;
    return std::max(seconds{1}, duration_cast<seconds>(until - now + milliseconds{999}));
}

void Authenticator::record_failure(const std::string& key) {
    if (failures_.size() > 10'000) {  // bounded memory under a flood of addresses
        const auto now = clock_.steady_now();
        std::erase_if(failures_, [&](const auto& kv) {
            return now - kv.second.window_start >= limits_.failure_window;
        });
        if (failures_.size() > 10'000) failures_.clear();
    }
    Failures& f = failures_[key];
    const auto now = clock_.steady_now();
    if (f.count == 0 || now - f.window_start >= limits_.failure_window) {
        f.count = 0;
        f.window_start = now;
    }
    ++f.count;
}

AuthResult Authenticator::fail(AuthFailure f, std::string message, std::string audit_client,
                               std::string reason) {
    AuthResult r;
    r.failure = f;
    r.message = std::move(message);
    r.audit_client = std::move(audit_client);
    r.reason = std::move(reason);
    return r;
}

AuthResult Authenticator::authenticate(const std::string& authorization,
                                       const std::string& remote) {
    if (authorization.empty())
        return fail(AuthFailure::missing,
                    "credentials required: HTTP Basic or a Bearer token from POST /api/v1/token",
                    "", "");
    const auto space = authorization.find(' ');
    const std::string scheme = lower(authorization.substr(0, space));
    std::string rest = space == std::string::npos ? "" : authorization.substr(space + 1);
    rest.erase(0, rest.find_first_not_of(' '));
    if (scheme == "basic") {
        if (auto wait = throttled("a:" + remote, limits_.max_failures_per_address)) {
            AuthResult r = fail(AuthFailure::throttled,
                                "too many failed logins from this address; try again in " +
                                    std::to_string(wait->count()) + " s",
                                "", "throttled: too many failed logins from this address");
            r.retry_after = *wait;
            return r;
        }
        return basic(rest, remote);
    }
    if (scheme == "bearer") return bearer(rest);
    return fail(AuthFailure::malformed, "unsupported Authorization scheme; use Basic or Bearer", "",
                "unsupported Authorization scheme");
}

AuthResult Authenticator::basic(const std::string& b64, const std::string& remote) {
    const auto decoded = base64_decode(b64);
    if (!decoded)
        return fail(AuthFailure::malformed, "malformed Basic credentials: not base64", "",
                    "malformed Basic credentials");
    const auto colon = decoded->find(':');
    if (colon == std::string::npos)
        return fail(AuthFailure::malformed,
                    "malformed Basic credentials: expected username:password", "",
                    "malformed Basic credentials");
    const std::string user = decoded->substr(0, colon);
    const std::string name_key = "n:" + remote + "\n" + user;
    if (auto wait = throttled(name_key, limits_.max_failures_per_name)) {
        AuthResult r =
            fail(AuthFailure::throttled,
                 "too many failed logins for this user from this address; try again in " +
                     std::to_string(wait->count()) + " s",
                 "", "throttled: too many failed logins for one name from this address");
        r.retry_after = *wait;
        return r;
    }
    const SysS now = time_point_cast<seconds>(clock_.utc_now());
    auto client = store_.client(user);
    auto secrets = store_.valid_secrets(user, now);
    if (!client || !secrets)
        return fail(AuthFailure::no_clients, "credential store unavailable", "", "");
    const bool known = client->has_value();
    const std::string audit_name = known ? user : "";
    const std::string key = keyed_hash(*decoded);

    auto accept = [&](std::int64_t secret_id) -> std::optional<AuthResult> {
        for (const auto& s : *secrets) {
            if (s.id != secret_id) continue;
            AuthResult ok;
            ok.principal = Principal{user, (**client).role};
            ok.audit_client = user;
            return ok;
        }
        return std::nullopt;  // that secret expired or was replaced meanwhile
    };
    // A login verified a moment ago (the slow check is behind us).
    if (auto it = verified_.find(key); it != verified_.end()) {
        if (clock_.steady_now() < it->second.until)
            if (auto ok = accept(it->second.secret_id)) return *ok;
        verified_.erase(it);
    }
    // The outcome of a check that just ran for exactly these credentials.
    if (auto it = verdicts_.find(key); it != verdicts_.end()) {
        const std::optional<std::int64_t> matched = it->second;
        verdicts_.erase(it);
        if (matched) {
            if (auto ok = accept(*matched)) {
                if (verified_.size() > 1000) verified_.clear();
                verified_[key] = {*matched, clock_.steady_now() + limits_.verified_ttl};
                return *ok;
            }
        }
        record_failure("a:" + remote);
        record_failure(name_key);
        const std::string reason =
            !known ? "unknown client name (" + std::to_string(user.size()) + " characters)"
            : secrets->empty() ? "the client is revoked or has no valid secret"
                               : "wrong secret";
        return fail(AuthFailure::wrong, "wrong username or password, or the client is revoked",
                    audit_name, reason);
    }
    // Needs the slow check: hand it out.
    AuthResult pending = fail(AuthFailure::pending, "", audit_name, "");
    Verification job;
    job.key = key;
    job.user = user;
    job.password = decoded->substr(colon + 1);
    job.iterations = limits_.hash_iterations;
    if (known) job.candidates = *secrets;
    pending.verification = std::move(job);
    return pending;
}

void Authenticator::finish(Verification&& job) {
    if (job.matched && !job.rehash.empty())
        (void)store_.update_secret_hash(*job.matched, job.rehash);
    if (verdicts_.size() > 1000) verdicts_.clear();
    verdicts_[job.key] = job.matched;
}

AuthResult Authenticator::bearer(const std::string& token) {
    auto it = tokens_.find(sha256_hex(token));
    if (it == tokens_.end())
        return fail(AuthFailure::wrong, "unknown bearer token; get one from POST /api/v1/token", "",
                    "unknown bearer token");
    if (clock_.utc_now() >= it->second.expires) {
        const std::string who = it->second.client;
        tokens_.erase(it);
        return fail(AuthFailure::expired_token,
                    "the bearer token has expired; get a new one from POST /api/v1/token", who,
                    "expired bearer token");
    }
    auto client = store_.client(it->second.client);
    if (!client) return fail(AuthFailure::no_clients, "credential store unavailable", "", "");
    if (!*client || (*client)->revoked_at) {
        const std::string who = it->second.client;
        tokens_.erase(it);
        return fail(AuthFailure::wrong, "the client of this token is revoked", who,
                    "bearer token of a revoked client");
    }
    AuthResult ok;
    ok.principal = Principal{(*client)->name, (*client)->role};
    ok.audit_client = (*client)->name;
    return ok;
}

std::string Authenticator::issue_token(const Principal& p) {
    std::string token = generate_secret();
    const SysMs now = clock_.utc_now();
    // Forget expired tokens now and then; bounded by clients x lifetime x rate limit anyway.
    if (tokens_.size() > 1000)
        std::erase_if(tokens_, [&](const auto& kv) { return kv.second.expires <= now; });
    tokens_[sha256_hex(token)] = {p.client, now + limits_.token_lifetime};
    return token;
}

std::optional<seconds> Authenticator::rate_limited(const std::string& client) {
    const double per_ms = limits_.rate_limit_per_minute / 60'000.0;
    const double capacity = limits_.rate_limit_per_minute;
    const SteadyMs now = clock_.steady_now();
    auto [it, fresh] = buckets_.try_emplace(client, Bucket{capacity, now});
    Bucket& b = it->second;
    if (!fresh)
        b.tokens =
            std::min(capacity, b.tokens + per_ms * static_cast<double>((now - b.updated).count()));
    b.updated = now;
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return std::nullopt;
    }
    return seconds{static_cast<long long>(std::ceil((1.0 - b.tokens) / per_ms / 1000.0))};
}

}  // namespace gw
