// A bus thread: polls every meter of one link at its period, taking turns on the bus.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gw/core/clock.hpp"
#include "gw/core/config.hpp"
#include "gw/drivers/latency.hpp"
#include "gw/drivers/read_plan.hpp"
#include "gw/drivers/register_cache.hpp"
#include "gw/drivers/register_reader.hpp"
#include "gw/drivers/sample.hpp"

namespace gw {

/// Per-meter error counters; every sample error is counted by its kind.
struct MeterCounters {
    std::uint64_t polls = 0;
    std::uint64_t samples = 0;  ///< valid samples
    std::uint64_t timeouts = 0;
    std::uint64_t exceptions = 0;
    std::uint64_t crc_errors = 0;
    std::uint64_t bad_replies = 0;
    std::uint64_t link_errors = 0;
    std::uint64_t not_available = 0;
    std::uint64_t not_finite = 0;
    std::uint64_t implausible = 0;
    LatencyHistogram latency;  ///< of this meter's requests
    std::uint64_t errors() const {
        return timeouts + exceptions + crc_errors + bad_replies + link_errors + not_available +
               not_finite + implausible;
    }
};

/// The outcome of one poll of one meter.
struct PollResult {
    std::size_t meter = 0;  ///< index into the poller's meters
    Ean18 meter_ean;
    SysMs at;
    std::optional<Sample> sample;  ///< set when the read gave a valid sample
    std::optional<Error> error;    ///< set otherwise
    MeterCounters counters;        ///< after this poll
    bool link_up = false;
    std::size_t transactions = 0;  ///< Modbus requests this poll needed
};

/// A read (or an allowed write) for someone else, the Modbus TCP server's pass-through: done
/// once, between polls.
struct PassRead {
    int unit = 1;
    RegFunction function = RegFunction::holding;
    std::uint16_t start = 0;
    std::uint16_t count = 1;
    std::vector<std::uint16_t> values;  ///< non-empty: write these (FC16) instead of reading
    SteadyMs expires{};                 ///< not sent after this: done() gets modbus_timeout
    /// Called on the bus thread with the outcome and the registers; must not block.
    std::function<void(const Status&, std::vector<std::uint16_t>)> done;
};

/// Owns one link (a RegisterReader) and a thread that polls the link's meters, each at its
/// `poll_ms`, one request at a time. Links run in parallel, each on its own BusPoller.
///
/// Scheduling: each meter has a due time on the steady clock; the earliest due meter is read
/// next. A meter that keeps timing out on a shared bus is polled less often (doubling up to
/// 8 periods) so it cannot starve the others; any answer restores its period.
///
/// Thread-safety: start/stop from the owning thread. The sink runs on the bus thread and must
/// not block (post to your executor). Stamps come from `clock` (utc for samples, steady for
/// pacing).
class BusPoller {
  public:
    using Sink = std::function<void(PollResult&&)>;

    /// Polls over the link's own transport (make_register_reader).
    BusPoller(const LinkConfig& link, std::vector<MeterConfig> meters, const Clock& clock,
              Sink sink);
    /// Polls over `reader` (another transport, or a scripted one in tests).
    BusPoller(std::unique_ptr<RegisterReader> reader, std::vector<MeterConfig> meters,
              const Clock& clock, Sink sink);
    ~BusPoller();
    BusPoller(const BusPoller&) = delete;
    BusPoller& operator=(const BusPoller&) = delete;

    void start();
    /// Stops polling and joins the thread; an in-flight request finishes first (bounded by
    /// timeouts).
    void stop();

    const LinkConfig& link() const { return link_->config(); }
    const std::vector<MeterConfig>& meters() const { return meters_; }
    const ReadPlan& plan(std::size_t meter) const { return plans_[meter]; }
    /// While set, polls also read the per-phase powers (detail_registers), for the
    /// commissioning page; off by default, so that the bus carries only what intervals need.
    /// Thread-safe.
    void set_detail(bool on) { detail_ = on; }
    /// The registers of each meter's last complete poll (by meter index). Thread-safe.
    const RegisterCache& cache() const { return cache_; }

    /// Queues a read for the bus thread, which sends it only while no meter of its own is due:
    /// the gateway's polling keeps priority. False when `max_queued` reads wait already.
    /// Thread-safe.
    bool submit(PassRead read, std::size_t max_queued);
    /// Reads sent for others so far. Thread-safe.
    std::uint64_t pass_reads() const { return pass_reads_; }

    /// Requests and wire bytes so far (read after stop(), or accept a racy figure).
    std::uint64_t requests() const { return link_->requests(); }
    std::uint64_t wire_bytes() const { return link_->wire_bytes(); }

    /// When the bus thread last finished a poll (steady clock); for the watchdog. Thread-safe.
    SteadyMs last_progress() const {
        return SteadyMs{std::chrono::milliseconds{progress_ms_.load()}};
    }
    /// The longest a healthy bus thread may go without progress: the slowest meter's period
    /// with its backoff, a reconnect backoff, and every request of a poll timing out.
    std::chrono::milliseconds progress_deadline() const;

    /// One poll of meter `i`, on the calling thread (the bus thread uses it; tests and benchmarks
    /// may too).
    PollResult poll_once(std::size_t i);

  private:
    void run();
    void pass_through(PassRead& read);

    std::unique_ptr<RegisterReader> link_;
    std::vector<MeterConfig> meters_;
    std::vector<ReadPlan> plans_;
    std::vector<ReadPlan> detail_plans_;  ///< with the per-phase powers
    std::atomic<bool> detail_{false};
    std::vector<MeterCounters> counters_;
    std::vector<SteadyMs> due_;
    std::vector<int> consecutive_timeouts_;
    std::vector<std::vector<std::uint16_t>> buffers_;
    RegisterCache cache_;
    std::deque<PassRead> pass_queue_;  ///< guarded by mutex_
    std::atomic<std::uint64_t> pass_reads_{0};
    const Clock& clock_;
    Sink sink_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::atomic<long long> progress_ms_{0};
    bool link_was_up_ = false;
};

}  // namespace gw
