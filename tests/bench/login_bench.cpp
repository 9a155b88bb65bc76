// The cost of one login (run on demand): a Basic check against PBKDF2-HMAC-SHA256 at today's
// strength (two hash checks: a client's secrets or decoys), and a login the keyed cache of
// verified logins answers. Usage: login_bench [ROUNDS=5]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>

#include "gw/api/auth.hpp"
#include "gw/api/secret.hpp"
#include "gw/store/store.hpp"

using namespace std::chrono;

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
    const std::string secret = gw::generate_secret();
    const std::string hash = gw::hash_secret(secret);

    double hash_ms = 0, login_ms = 0;
    for (int i = 0; i < rounds; ++i) {
        auto t0 = steady_clock::now();
        (void)gw::verify_secret(secret, hash);
        hash_ms += duration<double, std::milli>(steady_clock::now() - t0).count();

        gw::Verification job;
        job.candidates = {{1, "liander", hash, {}, {}}};
        job.password = secret;
        t0 = steady_clock::now();
        const int checks = gw::run_verification(job);
        login_ms += duration<double, std::milli>(steady_clock::now() - t0).count();
        if (!job.matched || checks != gw::Authenticator::k_min_hash_checks) return 1;
    }
    std::printf("login_bench: PBKDF2-HMAC-SHA256 at %d iterations\n", gw::k_hash_iterations);
    std::printf("  one hash check: %.1f ms\n", hash_ms / rounds);
    std::printf(
        "  one Basic login with a cache miss (%d checks, on the API's worker thread): %.1f ms\n",
        gw::Authenticator::k_min_hash_checks, login_ms / rounds);

    // A login the cache of verified logins answers: the keyed hash, the client and its secrets
    // read from the access file (as on every request), no PBKDF2.
    const std::string path = "/tmp/login-bench-" + std::to_string(::getpid()) + ".db";
    {
        auto store = gw::Store::open(path);
        if (!store) return 1;
        if (!(*store)->add_client("liander", gw::Role::reader, hash, gw::SysS{}).ok()) return 1;
        gw::SystemClock clock;
        gw::Authenticator auth(**store, clock, {});
        std::string raw = "liander:" + secret, b64(4 * ((raw.size() + 2) / 3), '\0');
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                        reinterpret_cast<const unsigned char*>(raw.data()),
                        static_cast<int>(raw.size()));
        const std::string header = "Basic " + b64;
        auto first = auth.authenticate(header, "127.0.0.1");
        if (!first.verification) return 1;
        gw::run_verification(*first.verification);
        auth.finish(std::move(*first.verification));
        if (!auth.authenticate(header, "127.0.0.1").principal) return 1;
        const int n = 20'000;
        const auto t0 = steady_clock::now();
        for (int i = 0; i < n; ++i)
            if (!auth.authenticate(header, "127.0.0.1").principal) return 1;
        std::printf("  a login the cache of verified logins answers: %.1f us\n",
                    duration<double, std::micro>(steady_clock::now() - t0).count() / n);
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    std::filesystem::remove(gw::Store::access_path_for(path));
    return 0;
}
