// API client secrets: generation, slow salted hashing (PBKDF2-HMAC-SHA256) and constant-time checks.
#pragma once

#include <string>
#include <string_view>

namespace gw {

/// A new random secret: 32 bytes from the OpenSSL CSPRNG, base64url without padding (43 characters).
std::string generate_secret();

/// "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>" with a fresh 16-byte salt.
/// Only this string is stored; the secret itself never is.
std::string hash_secret(std::string_view secret, int iterations = 100'000);

/// Recomputes the hash with the stored salt and iterations and compares in constant time.
/// A malformed stored hash never matches.
bool verify_secret(std::string_view secret, std::string_view stored_hash);

}  // namespace gw
