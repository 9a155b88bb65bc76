// API client secrets: generation, slow salted hashing (PBKDF2-HMAC-SHA256) and constant-time
// checks.
#pragma once

#include <string>
#include <string_view>

namespace gw {

/// A new random secret: 32 bytes from the OpenSSL CSPRNG, base64url without padding (43
/// characters).
std::string generate_secret();

/// PBKDF2-HMAC-SHA256 iterations of new hashes: OWASP's recommendation (2023).
inline constexpr int k_hash_iterations = 600'000;

/// "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>" with a fresh 16-byte salt.
/// Only this string is stored; the secret itself never is.
std::string hash_secret(std::string_view secret, int iterations = k_hash_iterations);

/// The iterations of a stored hash (0 when it is malformed).
int hash_iterations(std::string_view stored_hash);

/// Recomputes the hash with the stored salt and iterations and compares in constant time.
/// A malformed stored hash never matches.
bool verify_secret(std::string_view secret, std::string_view stored_hash);

}  // namespace gw
