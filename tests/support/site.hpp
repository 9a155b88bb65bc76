// Process-test fixtures: a site configuration built in one place, the simulator, a real
// mosquitto broker and a persistent subscriber, all on 127.0.0.1 and stopped by PID.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"
#include "site_config.hpp"
#include "temp_dir.hpp"

namespace gw::test {

/// meter-sim on 127.0.0.1 (a free port) or on a serial device; `port` is set for TCP.
struct SimProcess {
    std::unique_ptr<Process> proc;
    int port = 0;
    SimProcess(TempDir& dir, std::vector<std::string> args,
               const std::string& log_name = "sim.log");
};

/// The gateway daemon with `config`, its stderr in `log`.
std::unique_ptr<Process> start_gateway(
    const std::string& config, const std::string& log,
    const std::vector<std::pair<std::string, std::string>>& env = {});
/// The API port the gateway logs at start ("HTTPS pull API listening on 127.0.0.1:PORT"), waiting
/// at most `timeout`.
int wait_api_port(const std::string& log, std::chrono::milliseconds timeout);

/// Polls `pred` every 50 ms until it holds or `timeout` has passed; says which.
template <class P>
bool wait_until(P pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    return true;
}

/// One stored interval as the store holds it (unrounded).
struct StoredInterval {
    double p = 0, q = 0, u1 = 0, u2 = 0, u3 = 0, coverage = 0;
    std::string quality;
    long samples = 0;
    bool pending = false;  ///< still in the MQTT outbox
    friend bool operator==(const StoredInterval& a, const StoredInterval& b) {
        return a.p == b.p && a.q == b.q && a.u1 == b.u1 && a.u2 == b.u2 && a.u3 == b.u3 &&
               a.coverage == b.coverage && a.quality == b.quality && a.samples == b.samples;
    }
};

/// Every stored interval by its MQTT id ("meter/2026-11-23T11:55:00Z"), read through a
/// read-only connection (which never checkpoints or writes); empty when there is no store yet.
std::map<std::string, StoredInterval> stored_intervals(const std::string& db);
/// How many stored intervals the meter has.
long stored_count(const std::string& db, const std::string& meter);
/// `PRAGMA integrity_check` of the file, read-only.
std::string integrity(const std::string& db);

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
    Subscriber(const Broker& b, TempDir& dir, const std::string& topic = "meters/#",
               const std::string& id = "test-sub");
    void collect(std::chrono::milliseconds for_at_most);
    /// Collects until `pred()` holds or `timeout` has passed; says which.
    template <class P>
    bool collect_until(P pred, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            collect(std::chrono::milliseconds{50});
        }
        return true;
    }
    /// The `id` of every interval message seen.
    std::set<std::string> ids() const;
    bool saw(const std::string& line) const;
};

}  // namespace gw::test
