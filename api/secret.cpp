// PBKDF2 secret hashing on OpenSSL.
#include "gw/api/secret.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace gw {
namespace {

constexpr char k_b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url(const unsigned char* p, std::size_t n) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += k_b64url[(acc >> bits) & 0x3F];
        }
    }
    if (bits > 0) out += k_b64url[(acc << (6 - bits)) & 0x3F];
    return out;
}

bool unb64url(std::string_view s, std::vector<unsigned char>& out) {
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : s) {
        const char* pos = std::char_traits<char>::find(k_b64url, 64, c);
        if (pos == nullptr) return false;
        acc = (acc << 6) | static_cast<std::uint32_t>(pos - k_b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<unsigned char>((acc >> bits) & 0xFF));
        }
    }
    return true;
}

void random_bytes(unsigned char* p, int n) {
    if (RAND_bytes(p, n) != 1) throw std::runtime_error("OpenSSL RAND_bytes failed");
}

bool pbkdf2(std::string_view secret, const std::vector<unsigned char>& salt, int iterations,
            unsigned char* out, int out_len) {
    return PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), salt.data(),
                             static_cast<int>(salt.size()), iterations, EVP_sha256(), out_len,
                             out) == 1;
}

}  // namespace

std::string generate_secret() {
    unsigned char raw[32];
    random_bytes(raw, sizeof raw);
    return b64url(raw, sizeof raw);
}

std::string hash_secret(std::string_view secret, int iterations) {
    std::vector<unsigned char> salt(16);
    random_bytes(salt.data(), static_cast<int>(salt.size()));
    unsigned char dk[32];
    if (!pbkdf2(secret, salt, iterations, dk, sizeof dk))
        throw std::runtime_error("OpenSSL PBKDF2 failed");
    return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + b64url(salt.data(), salt.size()) +
           "$" + b64url(dk, sizeof dk);
}

int hash_iterations(std::string_view stored) {
    constexpr std::string_view scheme = "pbkdf2-sha256$";
    if (stored.substr(0, scheme.size()) != scheme) return 0;
    stored.remove_prefix(scheme.size());
    const auto d1 = stored.find('$');
    if (d1 == std::string_view::npos) return 0;
    int iterations = 0;
    for (char c : stored.substr(0, d1)) {
        if (c < '0' || c > '9' || iterations > 10'000'000) return 0;
        iterations = iterations * 10 + (c - '0');
    }
    return iterations;
}

bool verify_secret(std::string_view secret, std::string_view stored) {
    const int iterations = hash_iterations(stored);
    if (iterations < 1) return false;
    stored.remove_prefix(std::string_view("pbkdf2-sha256$").size());
    const auto d1 = stored.find('$');
    const auto d2 = stored.find('$', d1 + 1);
    if (d2 == std::string_view::npos) return false;
    std::vector<unsigned char> salt, expected;
    if (!unb64url(stored.substr(d1 + 1, d2 - d1 - 1), salt) ||
        !unb64url(stored.substr(d2 + 1), expected))
        return false;
    if (expected.empty() || expected.size() > 64) return false;
    std::vector<unsigned char> got(expected.size());
    if (!pbkdf2(secret, salt, iterations, got.data(), static_cast<int>(got.size()))) return false;
    return CRYPTO_memcmp(got.data(), expected.data(), got.size()) == 0;
}

}  // namespace gw
