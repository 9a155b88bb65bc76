// libFuzzer target: request parsing and parameter handling of the pull API, end to end through
// Api::handle on a real SQLite store. Input: byte 0 picks the credentials (none, a valid bearer
// token, or the rest of line 1 as the Authorization header); then "METHOD TARGET" on one line.
#include <unistd.h>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gw/api/api.hpp"
#include "gw/api/secret.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/store/store.hpp"

namespace {

struct World {
    gw::Config cfg;
    gw::ManualClock clock{gw::SysMs{std::chrono::seconds{1'795'435'200}}};
    std::unique_ptr<gw::Store> store;
    std::unique_ptr<gw::Api> api;
    std::string token;

    World() {
        const std::string path = "/tmp/gw-fuzz-" + std::to_string(::getpid()) + ".db";
        std::ifstream in(GW_TEST_DATA "/site.toml.in");
        std::string text((std::istreambuf_iterator<char>(in)), {});
        for (auto [key, value] : {std::pair{"@STORE@", path},
                                  {"@PORT@", std::string("1")},
                                  {"@DATA@", std::string(GW_TEST_DATA)},
                                  {"@INTERVAL@", std::string("300")}})
            for (auto at = text.find(key); at != std::string::npos; at = text.find(key))
                text.replace(at, std::string_view(key).size(), value);
        auto res = gw::parse_config(text, "fuzz.toml", [](std::string_view n) {
            const auto* p = gw::find_profile(n);
            return p ? &p->map : nullptr;
        });
        if (!res.config) std::abort();
        cfg = *res.config;
        std::filesystem::remove(path);
        store = std::move(gw::Store::open(path).value());
        const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock.utc_now());
        (void)store->add_client("op", gw::Role::reader, gw::hash_secret("pw", 1), now);
        (void)store->record_consent(cfg.customers[0].klant_ean, true, now, "fuzz");
        for (int i = 0; i < 50; ++i) {
            gw::IntervalRecord r{cfg.meters[0].meter_ean, now - std::chrono::minutes{5 * i}};
            r.p_w = -1000.5 * i;
            r.q_var = 3;
            r.u1_v = r.u2_v = r.u3_v = 230.05;
            r.samples = 1;
            r.coverage = i % 2 ? 1.0 : 0.5;
            r.quality = i % 2 ? gw::Quality::gemeten : gw::Quality::onvolledig;
            gw::EnergyReading e{r.meter_ean, r.end, 1.0 * i, 2.0, 3.0, 4.0};
            (void)store->commit_interval(r, &e, false, {}, gw::SysMs{});
        }
        // Decoy hash checks at one iteration: the fuzzer is after parsing, not PBKDF2 time.
        api = std::make_unique<gw::Api>(cfg, *store, clock, "fuzz", nullptr, gw::ApiOptions{1});
        gw::http::Request login{"POST", "/api/v1/token", "Basic b3A6cHc=", "", "fuzz"};
        const auto reply = api->handle(login);
        const auto at = reply.body.find("\"access_token\":\"");
        if (at == std::string::npos) std::abort();
        token = reply.body.substr(at + 16, 43);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World world;
    if (size < 1) return 0;
    const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
    gw::http::Request req;
    req.remote = "fuzz";
    std::string line = input;
    switch (data[0] % 3) {
        case 0:
            break;
        case 1:
            req.authorization = "Bearer " + world.token;
            break;
        default: {
            const auto nl = input.find('\n');
            req.authorization = input.substr(0, nl);
            line = nl == std::string::npos ? "" : input.substr(nl + 1);
        }
    }
    const auto sp = line.find(' ');
    req.method = line.substr(0, sp);
    req.target = sp == std::string::npos ? "/" : line.substr(sp + 1);
    req.correlation_id = req.target.size() > 3 ? req.target.substr(0, 3) : "";
    const auto r = world.api->handle(req);
    // Invariants: a known status, and every error body names its correlation id.
    if (r.status < 200 || r.status > 599) std::abort();
    if (r.status >= 400 && r.body.find("\"correlation_id\"") == std::string::npos) std::abort();
    return 0;
}
