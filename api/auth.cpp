// Authentication and limits.
#include "gw/auth.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cmath>

#include "gw/log.hpp"
#include "gw/secret.hpp"

namespace gw {

using namespace std::chrono;

std::string sha256_hex(std::string_view data) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
    static const char* hexd = "0123456789abcdef";
    std::string out;
    for (unsigned char c : md) {
        out += hexd[c >> 4];
        out += hexd[c & 15];
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
    if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
    std::string out((in.size() / 4) * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    if (n < 0) return std::nullopt;
    std::size_t len = static_cast<std::size_t>(n);
    if (in.back() == '=') --len;
    if (in.size() >= 2 && in[in.size() - 2] == '=') --len;
    out.resize(len);
    return out;
}

Authenticator::Authenticator(Store& store, const Clock& clock, Limits limits)
    : store_(store), clock_(clock), limits_(limits) {}

std::optional<seconds> Authenticator::throttled(const std::string& key) const {
    auto it = failures_.find(key);
    if (it == failures_.end() || it->second.count < limits_.max_failures) return std::nullopt;
    const auto until = it->second.window_start + limits_.failure_window;
    const auto now = clock_.steady_now();
    if (now >= until) return std::nullopt;
    return std::max(seconds{1}, duration_cast<seconds>(until - now + milliseconds{999}));
}

void Authenticator::record_failure(const std::string& key) {
    Failures& f = failures_[key];
    const auto now = clock_.steady_now();
    if (f.count == 0 || now - f.window_start >= limits_.failure_window) {
        f.count = 0;
        f.window_start = now;
    }
    ++f.count;
    if (failures_.size() > 10'000) failures_.clear();  // bounded memory under a flood of addresses
}

AuthResult Authenticator::authenticate(const std::string& authorization, const std::string& remote) {
    AuthResult r;
    if (authorization.empty()) {
        r.message = "credentials required: HTTP Basic or a Bearer token from POST /api/v1/token";
        return r;
    }
    const auto space = authorization.find(' ');
    const std::string scheme = authorization.substr(0, space);
    std::string rest = space == std::string::npos ? "" : authorization.substr(space + 1);
    rest.erase(0, rest.find_first_not_of(' '));
    std::string lower = scheme;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "basic") {
        if (auto wait = throttled("ip:" + remote)) {
            r.failure = AuthFailure::throttled;
            r.retry_after = *wait;
            r.message = "too many failed logins from this address; try again in " + std::to_string(wait->count()) + " s";
            return r;
        }
        return basic(rest, remote);
    }
    if (lower == "bearer") return bearer(rest);
    r.failure = AuthFailure::malformed;
    r.message = "unsupported Authorization scheme \"" + scheme + "\"; use Basic or Bearer";
    return r;
}

AuthResult Authenticator::basic(const std::string& b64, const std::string& remote) {
    AuthResult r;
    r.failure = AuthFailure::malformed;
    const auto decoded = base64_decode(b64);
    if (!decoded) {
        r.message = "malformed Basic credentials: not base64";
        return r;
    }
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) {
        r.message = "malformed Basic credentials: expected username:password";
        return r;
    }
    const std::string user = decoded->substr(0, colon);
    const std::string pass = decoded->substr(colon + 1);
    if (auto wait = throttled("user:" + user)) {
        r.failure = AuthFailure::throttled;
        r.retry_after = *wait;
        r.message = "too many failed logins for this user; try again in " + std::to_string(wait->count()) + " s";
        return r;
    }
    const SysS now = time_point_cast<seconds>(clock_.utc_now());
    auto client = store_.client(user);
    auto secrets = store_.valid_secrets(user, now);
    if (!client || !secrets) {
        r.failure = AuthFailure::no_clients;
        r.message = "credential store unavailable";
        return r;
    }
    r.failure = AuthFailure::wrong;
    r.message = "wrong username or password, or the client is revoked";
    if (*client && !secrets->empty()) {
        const std::string key = sha256_hex(*decoded);
        auto it = verified_.find(key);
        if (it != verified_.end()) {
            for (const auto& s : *secrets)
                if (s.id == it->second.secret_id) return {Principal{user, (*client)->role}, {}, {}, {}};
            verified_.erase(it);  // that secret expired or was replaced
        }
        for (const auto& s : *secrets) {
            if (verify_secret(pass, s.hash)) {
                if (verified_.size() > 1000) verified_.clear();
                verified_[key] = {s.id, (*client)->role};
                return {Principal{user, (*client)->role}, {}, {}, {}};
            }
        }
    } else {
        // Same cost whether or not the user exists, so timing does not reveal client names.
        static const std::string decoy = hash_secret("not-a-real-secret");
        (void)verify_secret(pass, decoy);
    }
    record_failure("ip:" + remote);
    record_failure("user:" + user);
    log::warn("api", "failed login for \"", user, "\" from ", remote);
    return r;
}

AuthResult Authenticator::bearer(const std::string& token) {
    AuthResult r;
    r.failure = AuthFailure::wrong;
    auto it = tokens_.find(sha256_hex(token));
    if (it == tokens_.end()) {
        r.message = "unknown bearer token; get one from POST /api/v1/token";
        return r;
    }
    if (clock_.utc_now() >= it->second.expires) {
        tokens_.erase(it);
        r.failure = AuthFailure::expired_token;
        r.message = "the bearer token has expired; get a new one from POST /api/v1/token";
        return r;
    }
    auto client = store_.client(it->second.client);
    if (!client || !*client || (*client)->revoked_at) {
        tokens_.erase(it);
        r.message = "the client of this token is revoked";
        return r;
    }
    return {Principal{(*client)->name, (*client)->role}, {}, {}, {}};
}

std::string Authenticator::issue_token(const Principal& p) {
    const std::string token = generate_secret();
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
    if (!fresh) b.tokens = std::min(capacity, b.tokens + per_ms * static_cast<double>((now - b.updated).count()));
    b.updated = now;
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return std::nullopt;
    }
    return seconds{static_cast<long long>(std::ceil((1.0 - b.tokens) / per_ms / 1000.0))};
}

}  // namespace gw
