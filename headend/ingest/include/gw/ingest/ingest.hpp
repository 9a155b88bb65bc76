// The head-end's ingest: an MQTT 5 shared subscription to every gateway's intervals (and their
// manifests and status), a bounded queue, and batches stored idempotently in PostgreSQL.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gw/core/clock.hpp"
#include "gw/core/config.hpp"
#include "gw/core/error.hpp"
#include "gw/pgstore/pg_store.hpp"

namespace gw::ingest {

struct Message {
    std::string topic;
    std::string payload;
};

/// A bounded queue between Paho's callback thread and the ingest thread. A full queue makes the
/// callback wait, which is the back-pressure while PostgreSQL is slow.
///
/// Thread-safety: all members may be called from any thread.
class MessageQueue {
  public:
    explicit MessageQueue(std::size_t capacity) : capacity_(capacity) {}
    /// Waits while full; false when closed.
    bool push(Message m);
    /// Up to `max` messages; waits up to `wait` for the first, then `fill` more for the rest.
    std::vector<Message> pop(std::size_t max, std::chrono::milliseconds wait,
                             std::chrono::milliseconds fill);
    void close();
    std::size_t size() const;

  private:
    mutable std::mutex mu_;
    std::condition_variable changed_;
    std::deque<Message> q_;
    std::size_t capacity_;
    bool closed_ = false;
};

/// The MQTT 5 client of one head-end instance.
///
/// - Connects with clean_start = false and the configured session expiry, so that messages
///   published while it is away wait in its session (up to the expiry).
/// - Subscribes, QoS 1, to $share/{group}/{prefix}/+/+/+/interval (instances split the stream)
///   and, unshared, to {prefix}/+/manifest and {prefix}/+/status (every instance sees the
///   retained registry; MQTT 5 sends no retained messages to a shared subscription).
/// - Paho acknowledges a message when it arrives, before it is committed: a message lost
///   between the two (a crash) leaves a gap that the backfill fills (docs/headend.md).
///
/// Thread-safety: start/pause/resume/stop/publish from one thread; `state` from any.
class Subscriber {
  public:
    Subscriber(const HeadendConfig& config, MessageQueue& queue);
    ~Subscriber();
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    /// Connects (reconnecting by itself after a loss) and subscribes on every connect.
    Status start();
    /// Disconnects: the broker keeps the session and queues for it. For a store that fails.
    void pause();
    void resume();
    void stop();
    /// QoS 1, not retained; false when not connected.
    bool publish(const std::string& topic, const std::string& payload);
    /// connecting | connected | disconnected | paused
    std::string state() const;
    std::string last_error() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Counters of this instance since start (also added to the database per batch).
struct IngestStats {
    std::atomic<std::uint64_t> received{0}, inserted{0}, duplicates{0}, conflicts{0}, malformed{0},
        manifests{0}, store_failures{0};
};

/// Turns messages into rows: parses, batches, stores; refused messages are counted and logged
/// with their topic (a budget of lines a minute), never stored.
///
/// Thread-safety: one thread calls `handle`.
class Ingest {
  public:
    Ingest(const HeadendConfig& config, PgStore& store, const Clock& clock, IngestStats& stats);
    /// Stores one batch. On a store failure nothing of it is lost: the caller keeps the batch
    /// and calls again. `registry_changed` is set when a manifest changed the fleet.
    Status handle(const std::vector<Message>& batch, bool& registry_changed);

  private:
    void refuse(const Message& m, const std::string& why);
    const HeadendConfig& config_;
    PgStore& store_;
    const Clock& clock_;
    IngestStats& stats_;
    SteadyMs log_window_{};
    int log_lines_ = 0;
    std::uint64_t log_suppressed_ = 0;
};

}  // namespace gw::ingest
