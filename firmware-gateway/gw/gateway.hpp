// The daemon: bus threads feed samples to the main io_context, which aggregates, commits
// closed intervals to the store, prunes, and tells systemd it is alive.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "gw/aggregator.hpp"
#include "gw/api.hpp"
#include "gw/bus_poller.hpp"
#include "gw/clock.hpp"
#include "gw/config.hpp"
#include "gw/store.hpp"

namespace gw {
class HttpsServer;
class MqttForwarder;
}

namespace gw {

/// What the gateway knows about one meter right now (for status and the API).
struct MeterStatus {
    const MeterConfig* config = nullptr;
    std::optional<bool> link_up;  ///< unknown until the first poll
    std::optional<SysMs> last_success;
    std::optional<std::string> last_error;
    MeterCounters counters;
    std::uint64_t dropped_samples = 0;      ///< stamped in an already closed interval
    std::uint64_t untrusted_samples = 0;    ///< taken before the clock was trusted
    std::uint64_t cross_check_failures = 0;
};

/// The running gateway.
///
/// Threads: one io_context thread (the caller of run()) owns the store, the aggregators and
/// the timers; each Modbus link has its own bus thread, which only posts poll results here.
/// Shutdown (SIGTERM/SIGINT or stop()): stop polling, join the bus threads, close the open
/// intervals and commit them, then return.
class Gateway {
public:
    Gateway(const Config& config, std::unique_ptr<Store> store, const Clock& clock);
    ~Gateway();

    /// Runs until a signal or stop(); returns the process exit code.
    int run();
    /// Thread-safe.
    void stop();

    boost::asio::io_context& io() { return io_; }
    const std::vector<MeterStatus>& meters() const { return status_; }
    bool clock_trusted() const { return clock_trusted_; }
    /// The API's port once listening (0 when the API is disabled): "127.0.0.1:0" picks one.
    std::uint16_t api_port() const;
    /// The live state for /api/v1/status.
    GatewayLive live() const;
    std::size_t pending_commits() const { return pending_.size(); }

private:
    void on_poll(std::size_t meter, PollResult&& r);
    void schedule_close();
    void close_due();
    void commit(ClosedInterval&& c);
    void flush_pending();
    void schedule_prune(std::chrono::milliseconds after);
    void prune_step(SysS cutoff);
    void schedule_watchdog();
    bool check_clock();
    void shutdown();

    const Config& config_;
    std::unique_ptr<Store> store_;
    const Clock& clock_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer close_timer_, retry_timer_, prune_timer_, watchdog_timer_;
    std::vector<std::unique_ptr<BusPoller>> pollers_;
    std::vector<std::vector<std::size_t>> poller_meters_;  ///< poller -> global meter indexes
    std::vector<IntervalAggregator> aggregators_;
    std::vector<MeterStatus> status_;
    std::vector<std::uint64_t> errors_at_last_close_;
    std::deque<ClosedInterval> pending_;  ///< closed but not yet committed (store failing)
    bool clock_trusted_ = false;
    SteadyMs clock_checked_{};
    bool stopping_ = false;
    SysMs started_at_;
    std::unique_ptr<Api> api_;
    std::unique_ptr<HttpsServer> https_;
    std::unique_ptr<MqttForwarder> mqtt_;
};

}  // namespace gw
