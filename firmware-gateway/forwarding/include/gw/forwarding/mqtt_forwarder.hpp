// Store-and-forward over MQTT (SPEC 4): the store's outbox is the source of truth; the MQTT
// client only carries the messages that are in flight.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <set>
#include <string>

#include "gw/core/backoff.hpp"
#include "gw/core/clock.hpp"
#include "gw/core/config.hpp"
#include "gw/core/log.hpp"
#include "gw/core/store_api.hpp"
#include "gw/forwarding/publisher.hpp"

namespace gw {

/// The JSON payload of one interval (SPEC 4), and its topic.
std::string interval_payload(const Config& config, const MeterConfig& meter,
                             const IntervalRecord& r);
std::string interval_topic(const Config& config, const MeterConfig& meter);
std::string status_topic(const Config& config);
/// `{prefix}/{gateway_id}/manifest`, retained: who this gateway is and which meters it reports.
std::string manifest_topic(const Config& config);
/// The manifest (SPEC 8): gateway_id, interval_s, version, and each meter's meter_ean,
/// klant_ean and meter_type.
std::string manifest_payload(const Config& config, const std::string& version);
/// `{prefix}/{gateway_id}/cmd/backfill`: a head-end asks for stored intervals again.
std::string backfill_topic(const Config& config);

/// A backfill request: {"meter_ean": ..., "from": ..., "to": ...} (ISO 8601 UTC), asking for the
/// intervals of a configured meter with an end in (from, to]. Errors say what is wrong.
struct BackfillRequest {
    Ean18 meter;
    SysS from, to;
};
Result<BackfillRequest> parse_backfill(const Config& config, const std::string& payload);

/// Publishes every committed interval with QoS 1, oldest first, and marks it forwarded only
/// on the broker's PUBACK. A message that was not acknowledged stays pending in the outbox and
/// is sent again after a reconnect or a restart. Memory holds only the in-flight window, however
/// long the outage.
///
/// Acknowledgements are marked in the outbox in batches (one transaction per batch). When the
/// store cannot write them (a full disk), the acknowledged intervals are remembered and never
/// published again in this run; publishing pauses and the marks are retried with a backoff
/// (0.5 s doubling up to mqtt.reconnect_max_s), so a failing store never causes a publish storm.
///
/// Thread-safety: all methods on the io thread that owns the outbox. The publisher's callbacks
/// only post to that io_context.
class MqttForwarder {
  public:
    /// Without a publisher, start() makes the Paho one from the configuration.
    MqttForwarder(const Config& config, Outbox& outbox, boost::asio::io_context& io,
                  const Clock& clock, std::unique_ptr<Publisher> publisher = nullptr);
    ~MqttForwarder();

    /// The software version the manifest names (before start()).
    void set_version(std::string version) { version_ = std::move(version); }

    /// Reads the password file and starts connecting. Errors: the password file is unreadable,
    /// the URI is refused.
    Status start();
    /// New intervals were committed: send them if connected.
    void kick();
    /// Records what was acknowledged, publishes the retained "offline", disconnects (bounded wait).
    void stop();

    /// "connecting", "connected" or "disconnected" (for /api/v1/status).
    std::string state() const { return state_; }
    /// Why the last connection attempt failed or the connection was lost; empty while connected.
    std::string last_error() const { return error_; }
    bool connected() const { return connected_; }
    std::size_t in_flight() const { return in_flight_.size(); }
    /// Messages handed to the broker in this run (each publish, including repeats after a
    /// reconnect).
    std::uint64_t publishes() const { return publishes_; }
    /// Failed attempts in a row to record acknowledgements in the outbox (0: they are recorded).
    int mark_failures() const { return mark_backoff_.failures(); }
    /// Backfill requests taken, and refused (malformed, or an unknown meter), in this run.
    std::uint64_t backfills() const { return backfills_; }
    std::uint64_t backfills_refused() const { return backfills_refused_; }

  private:
    /// Runs `fn` on the io thread, unless this forwarder is gone by then.
    void post(std::function<void()> fn);
    void connect();
    void on_connected();
    void on_connect_failed(int rc, const std::string& why);
    void on_lost(const std::string& cause);
    void drain();
    void on_ack(const IntervalKey& key);
    void on_backfill(const std::string& payload);
    void on_publish_failed(const IntervalKey& key, const std::string& why);
    void schedule_marks(std::chrono::milliseconds after);
    void flush_marks();

    const Config& config_;
    Outbox& outbox_;
    boost::asio::io_context& io_;
    const Clock& clock_;
    std::unique_ptr<Publisher> publisher_;
    boost::asio::steady_timer reconnect_timer_, mark_timer_;
    Backoff reconnect_backoff_, mark_backoff_;
    std::string state_ = "disconnected";
    std::string error_ = "not started";
    bool connected_ = false;
    bool connecting_ = false;
    bool stopping_ = false;
    std::uint64_t epoch_ = 0;  ///< bumped per connection: late callbacks of an old one are ignored
    std::set<IntervalKey> in_flight_;  ///< awaiting PUBACK
    std::set<IntervalKey> acked_;      ///< acknowledged, not yet marked in the outbox
    bool marks_armed_ = false;
    bool marks_failing_ = false;
    std::uint64_t publishes_ = 0;
    std::string version_;
    std::uint64_t backfills_ = 0, backfills_refused_ = 0;
    log::Summary mark_errors_{
        log::Level::error, "mqtt",
        "acknowledged intervals cannot be marked in the store (they are not sent again)"};
    log::Summary outbox_errors_{log::Level::error, "mqtt", "cannot read the outbox"};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gw
