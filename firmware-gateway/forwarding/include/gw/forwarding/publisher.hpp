// The MQTT client seam: what the forwarder needs of a client, implemented on Paho MQTT C++
// (and by scripted clients in unit tests).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "gw/core/config.hpp"
#include "gw/core/error.hpp"

namespace gw {

/// A connection to one broker: connect, QoS 1 publishes, disconnect.
///
/// Thread-safety: the methods are called from one thread (the forwarder's). The completion
/// callbacks may run on any thread (Paho's): they must not block, and the forwarder only posts
/// from them. Every call completes exactly once, unless the publisher is destroyed first.
class Publisher {
  public:
    /// ok; on failure a return code (Paho's, or the broker's CONNACK code) and words for the log.
    using Done = std::function<void(bool ok, int rc, const std::string& why)>;
    using Lost = std::function<void(const std::string& cause)>;

    virtual ~Publisher() = default;
    /// Starts connecting (will: `will_topic` = "offline", retained).
    virtual void connect(const std::string& will_topic, Done done) = 0;
    /// Publishes with QoS 1; `done` runs on the broker's PUBACK (or a failure).
    virtual void publish(const std::string& topic, std::string payload, bool retained,
                         Done done) = 0;
    /// Publishes "offline" (retained) and disconnects, waiting at most about 2.5 s.
    virtual void disconnect(const std::string& status_topic) = 0;
    /// Called when an established connection is lost.
    virtual void on_lost(Lost lost) = 0;

    using Message = std::function<void(const std::string& topic, const std::string& payload)>;
    /// Subscribes to `topic` with QoS 1 (call once connected); `message` runs on the client's
    /// thread for each message, `done` on the broker's SUBACK (or a failure).
    virtual void subscribe(const std::string& topic, Message message, Done done) = 0;
};

/// The Paho MQTT C++ client with the `[mqtt]` settings: no persistence and no offline
/// buffering (the store is the outbox), MQTT 3.1.1, TLS from ca_file/cert_file/key_file.
/// Errors: a URI Paho refuses.
Result<std::unique_ptr<Publisher>> make_paho_publisher(const MqttConfig& config,
                                                       const std::string& password);

/// Paho's return codes, and MQTT 3.1.1 CONNACK codes, as words an installer understands.
std::string describe_mqtt_rc(int rc);

}  // namespace gw
