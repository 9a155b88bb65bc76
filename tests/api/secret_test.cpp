// Client secrets: random, hashed slowly with a salt, verified in constant time.
#include <doctest/doctest.h>

#include <set>

#include "gw/api/secret.hpp"

TEST_CASE("generated secrets are long, URL-safe and distinct") {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        const std::string s = gw::generate_secret();
        CHECK(s.size() == 43);
        CHECK(s.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              std::string::npos);
        seen.insert(s);
    }
    CHECK(seen.size() == 50);
}

TEST_CASE("a hash verifies its secret and nothing else") {
    const std::string secret = gw::generate_secret();
    const std::string hash = gw::hash_secret(secret, 1000);
    CHECK(hash.rfind("pbkdf2-sha256$1000$", 0) == 0);
    CHECK(hash.find(secret) == std::string::npos);
    CHECK(gw::verify_secret(secret, hash));
    CHECK_FALSE(gw::verify_secret(secret + "x", hash));
    CHECK_FALSE(gw::verify_secret("", hash));
    CHECK_FALSE(gw::verify_secret(secret.substr(1), hash));
}

TEST_CASE("the same secret hashes differently each time (salted)") {
    const std::string a = gw::hash_secret("correct horse", 1000);
    const std::string b = gw::hash_secret("correct horse", 1000);
    CHECK(a != b);
    CHECK(gw::verify_secret("correct horse", a));
    CHECK(gw::verify_secret("correct horse", b));
}

TEST_CASE("the default work factor is the slow one") {
    CHECK(gw::hash_secret("x").rfind("pbkdf2-sha256$600000$", 0) == 0);
}

TEST_CASE("malformed stored hashes never verify") {
    for (const char* bad : {"", "plain", "pbkdf2-sha256$", "pbkdf2-sha256$1000$",
                            "pbkdf2-sha256$abc$c2FsdA$aGFzaA", "pbkdf2-sha256$0$c2FsdA$aGFzaA",
                            "pbkdf2-sha256$1000$c2FsdA$", "pbkdf2-sha256$1000$!!$aGFzaA",
                            "md5$1000$c2FsdA$aGFzaA", "pbkdf2-sha256$99999999999$c2FsdA$aGFzaA"}) {
        CAPTURE(bad);
        CHECK_FALSE(gw::verify_secret("x", bad));
    }
}
