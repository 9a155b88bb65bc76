// Process-test fixtures: a site configuration built in one place, the simulator, a real
// mosquitto broker and a persistent subscriber, all on 127.0.0.1 and stopped by PID.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "process.hpp"
#include "temp_dir.hpp"

namespace gw::test {

inline constexpr const char* k_klant = "871685900000000011";
inline constexpr const char* k_meter_a = "871685900000000028";  ///< bruto_productie
inline constexpr const char* k_meter_b = "871685900000000035";  ///< overdrachtspunt

struct LinkSpec {
    std::string id = "lan";
    std::string type = "tcp";  ///< tcp | rtu
    int port = 0;              ///< tcp
    std::string device;        ///< rtu
    int response_timeout_ms = 200;
    int reconnect_max_ms = 1000;
    std::string extra;  ///< more `key = value` lines
};

struct MeterSpec {
    std::string meter_ean = k_meter_b;
    std::string meter_type = "overdrachtspunt";
    std::string link = "lan";
    int unit_id = 1;
    std::string profile = "eastron-sdm630";
    int poll_ms = 200;
    std::string extra;
};

/// A gateway configuration as TOML; every process test builds its site here.
struct SiteConfig {
    std::string id = "test-site";
    int interval_s = 5;
    std::string log_level = "debug";
    bool trust_clock = true;
    std::string db;
    bool api = false;  ///< on 127.0.0.1:0 with the test certificate
    std::string api_extra;
    std::string mqtt_uri;  ///< empty: [mqtt] enabled = false
    std::string mqtt_extra;
    std::vector<std::string> customers{k_klant};
    std::vector<LinkSpec> links;
    std::vector<MeterSpec> meters;

    std::string toml() const;
    /// Writes toml() to `path` and returns it.
    std::string write(const std::string& path) const;
};

/// meter-sim on 127.0.0.1 (a free port) or on a serial device; `port` is set for TCP.
struct SimProcess {
    std::unique_ptr<Process> proc;
    int port = 0;
    SimProcess(TempDir& dir, std::vector<std::string> args, const std::string& log_name = "sim.log");
};

/// The gateway daemon with `config`, its stderr in `log`.
std::unique_ptr<Process> start_gateway(const std::string& config, const std::string& log,
                                       const std::vector<std::pair<std::string, std::string>>& env = {});
/// The API port the gateway logs at start ("HTTPS pull API listening on 127.0.0.1:PORT"), waiting at most `timeout`.
int wait_api_port(const std::string& log, std::chrono::milliseconds timeout);

int free_port();
bool wait_port(int port, std::chrono::milliseconds timeout);

/// A mosquitto on 127.0.0.1 with persistence in `dir` (plain, or TLS with the test CA).
struct Broker {
    TempDir& dir;
    int port;
    bool tls;
    std::unique_ptr<Process> proc;
    explicit Broker(TempDir& d, bool with_tls = false, const std::string& passwd = "");
    void start();
    void stop();
    std::string uri() const;
};

/// A persistent-session subscriber (QoS 1, fixed id) to `topic`: it collects what the broker
/// delivers, across broker restarts.
struct Subscriber {
    std::unique_ptr<Process> proc;
    std::vector<std::string> lines;
    Subscriber(const Broker& b, TempDir& dir, const std::string& topic = "meters/#", const std::string& id = "test-sub");
    void collect(std::chrono::milliseconds for_at_most);
    /// The `id` of every interval message seen.
    std::set<std::string> ids() const;
    bool saw(const std::string& line) const;
};

}  // namespace gw::test
