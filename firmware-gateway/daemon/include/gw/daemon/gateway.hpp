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

#include "gw/aggregation/aggregator.hpp"
#include "gw/api/api.hpp"
#include "gw/core/clock.hpp"
#include "gw/core/config.hpp"
#include "gw/core/log.hpp"
#include "gw/drivers/bus_poller.hpp"
#include "gw/drivers/link_state.hpp"
#include "gw/modbus_server/modbus_server.hpp"
#include "gw/store/store.hpp"

namespace gw {
class HttpsServer;
class MetricsServer;
class MqttForwarder;
}  // namespace gw

namespace gw {

/// What the gateway knows about one meter right now (for status and the API).
struct MeterStatus {
    const MeterConfig* config = nullptr;
    std::optional<bool> link_up;  ///< the connection (for the event log); unknown until polled
    PollHistory polls;            ///< the meter's link state
    std::optional<SysMs> last_success;
    std::optional<std::string> last_error;
    MeterCounters counters;
    std::uint64_t dropped_samples = 0;    ///< stamped in an already closed interval
    std::uint64_t untrusted_samples = 0;  ///< taken before the clock was trusted
    std::uint64_t cross_check_failures = 0;
    std::optional<Sample> last_sample;                  ///< for the commissioning page
    std::optional<SysS> open_end;                       ///< the interval the points below belong to
    std::vector<std::pair<SysMs, double>> open_points;  ///< its samples' net active power, W
    std::uint64_t committed_gemeten = 0, committed_onvolledig = 0;
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
    /// How many closed intervals are held in memory at most while the store cannot be written:
    /// 31 days of every configured meter's intervals, at least 1,000 and at most 50,000 (about
    /// 300 bytes each). Beyond it the oldest held interval is dropped, with an error log.
    std::size_t pending_limit() const { return pending_limit_; }

  private:
    void on_poll(std::size_t meter, PollResult&& r);
    void schedule_close();
    /// The commissioning page asked for live values: read the per-phase powers for a while.
    void watch();
    void close_due();
    void commit(ClosedInterval&& c);
    bool commit_now(const ClosedInterval& c);
    void hold(ClosedInterval&& c);
    void schedule_retry();
    void retry_store();
    /// The data file is writable (at start or after it came back): master data, the carried
    /// open interval, where each meter resumes, then the held intervals.
    void on_store_ready();
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
    std::size_t pending_limit_ = 1000;
    std::uint64_t pending_dropped_ = 0;
    bool store_ready_ = false;  ///< on_store_ready() has run
    bool retry_armed_ = false;
    std::chrono::milliseconds retry_delay_{5000};
    std::optional<Error> commit_error_;  ///< the last failure to commit, while intervals are held
    log::Summary commit_failures_{log::Level::error, "gateway",
                                  "COMMIT FAILED, intervals held in memory"};
    log::Summary conflicts_{log::Level::warn, "gateway",
                            "an interval with this key is stored already; the stored one stays"};
    bool clock_trusted_ = false;
    SteadyMs clock_checked_{};
    bool stopping_ = false;
    SysMs started_at_;
    std::unique_ptr<Api> api_;
    std::unique_ptr<HttpsServer> https_;
    std::unique_ptr<MetricsServer> metrics_;
    bool watching_ = false;  ///< the pollers read the per-phase powers (the page is open)
    SteadyMs watched_at_{};
    std::unique_ptr<MqttForwarder> mqtt_;
    std::unique_ptr<ModbusServer> modbus_server_;
};

}  // namespace gw
