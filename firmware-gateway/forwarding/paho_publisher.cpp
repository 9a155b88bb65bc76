// The Publisher on Paho MQTT C++.
#include <mqtt/async_client.h>

#include <mutex>
#include <unordered_map>

#include "gw/forwarding/publisher.hpp"

namespace gw {

using namespace std::chrono;

std::string describe_mqtt_rc(int rc) {
    switch (rc) {
        case 1:
            return "the broker refused the protocol version";
        case 2:
            return "the broker rejected the client id (mqtt.client_id)";
        case 3:
            return "the broker is unavailable";
        case 4:
            return "bad user name or password (mqtt.username, mqtt.password_file)";
        case 5:
            return "not authorized by the broker";
        case -1:
            return "connection failed: network, TLS handshake (check mqtt.ca_file) or broker "
                   "refused";
        case -3:
            return "disconnected";
        default:
            return "error " + std::to_string(rc);
    }
}

namespace {

class PahoPublisher final : public Publisher {
  public:
    PahoPublisher(const MqttConfig& config, std::string password)
        : config_(config),
          password_(std::move(password)),
          client_(config.uri, config.client_id, nullptr) {}

    ~PahoPublisher() override {
        try {
            if (client_.is_connected()) client_.disconnect(0)->wait_for(milliseconds{500});
        } catch (const std::exception&) {
        }
    }

    void connect(const std::string& will_topic, Done done) override {
        const MqttConfig& m = config_;
        mqtt::connect_options opts;
        opts.set_keep_alive_interval(seconds{m.keepalive_s});
        opts.set_clean_session(m.clean_session);
        opts.set_connect_timeout(seconds{5});
        opts.set_mqtt_version(MQTTVERSION_3_1_1);  // no silent retry with 3.1 after a failure
        opts.set_automatic_reconnect(
            false);  // the forwarder's own backoff, and a fresh drain from the store
        opts.set_max_inflight(m.max_inflight + 8);
        if (!m.username.empty()) opts.set_user_name(m.username);
        if (!password_.empty()) opts.set_password(password_);
        opts.set_will(mqtt::will_options(will_topic, std::string("offline"), 1, true));
        if (m.uses_tls()) {
            mqtt::ssl_options ssl;
            if (!m.ca_file.empty()) ssl.set_trust_store(m.ca_file);
            if (!m.cert_file.empty()) ssl.set_key_store(m.cert_file);
            if (!m.key_file.empty()) ssl.set_private_key(m.key_file);
            ssl.set_enable_server_cert_auth(true);
            ssl.set_verify(true);
            // No ssl error handler: Paho C++ 1.2 calls it with a dangling context after the options
            // are copied (it crashed here); a TLS failure is reported through the failed connect.
            opts.set_ssl(std::move(ssl));
        }
        const auto id = remember(std::move(done));
        try {
            client_.connect(opts, context(id), listener_);
        } catch (const std::exception& e) {
            fail_now(id, e.what());
        }
    }

    void publish(const std::string& topic, std::string payload, bool retained, Done done) override {
        const auto id = remember(std::move(done));
        try {
            client_.publish(mqtt::make_message(topic, std::move(payload), 1, retained), context(id),
                            listener_);
        } catch (const std::exception& e) {
            fail_now(id, e.what());
        }
    }

    void disconnect(const std::string& status_topic) override {
        try {
            if (!client_.is_connected()) return;
            client_.publish(status_topic, std::string("offline"), 1, true)
                ->wait_for(milliseconds{1000});
            client_.disconnect(1000)->wait_for(milliseconds{1500});
        } catch (const std::exception&) {
        }
    }

    void subscribe(const std::string& topic, Message message, Done done) override {
        client_.set_message_callback(
            [message = std::move(message)](const mqtt::const_message_ptr& m) {
                if (m) message(m->get_topic(), m->to_string());
            });
        const auto id = remember(std::move(done));
        try {
            client_.subscribe(topic, 1, context(id), listener_);
        } catch (const std::exception& e) {
            fail_now(id, e.what());
        }
    }

    void on_lost(Lost lost) override {
        client_.set_connection_lost_handler([lost = std::move(lost)](const std::string& cause) {
            lost(cause.empty() ? "connection lost" : cause);
        });
    }

  private:
    /// Paho completes every token through this one listener; the token's user context says
    /// which call it belongs to. It lives as long as the client (declared before it).
    class Listener final : public mqtt::iaction_listener {
      public:
        explicit Listener(PahoPublisher& owner) : owner_(owner) {}
        void on_success(const mqtt::token& tok) override { owner_.complete(tok, true); }
        void on_failure(const mqtt::token& tok) override { owner_.complete(tok, false); }

      private:
        PahoPublisher& owner_;
    };

    // Paho's user context is a void*; it carries our call's number, never a pointer to follow.
    static void* context(std::uint64_t id) {
        return reinterpret_cast<void*>(  // NOLINT(performance-no-int-to-ptr)
            static_cast<std::uintptr_t>(id));
    }

    std::uint64_t remember(Done done) {
        std::lock_guard lock(mutex_);
        const std::uint64_t id = next_id_++;
        pending_.emplace(id, std::move(done));
        return id;
    }

    Done take(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        auto it = pending_.find(id);
        if (it == pending_.end()) return nullptr;
        Done d = std::move(it->second);
        pending_.erase(it);
        return d;
    }

    void complete(const mqtt::token& tok, bool ok) {
        const auto id =
            static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(tok.get_user_context()));
        if (Done d = take(id))
            d(ok, ok ? 0 : tok.get_return_code(),
              ok ? "" : describe_mqtt_rc(tok.get_return_code()));
    }

    void fail_now(std::uint64_t id, const std::string& why) {
        if (Done d = take(id)) d(false, -1, why);
    }

    MqttConfig config_;
    std::string password_;
    std::mutex mutex_;
    std::unordered_map<std::uint64_t, Done> pending_;
    std::uint64_t next_id_ = 1;
    Listener listener_{*this};
    mqtt::async_client client_;  ///< last: destroyed first, so no callback outlives what it uses
};

}  // namespace

Result<std::unique_ptr<Publisher>> make_paho_publisher(const MqttConfig& config,
                                                       const std::string& password) {
    try {
        return std::unique_ptr<Publisher>(std::make_unique<PahoPublisher>(config, password));
    } catch (const std::exception& e) {
        return make_error(Errc::config_invalid,
                          std::string("mqtt.uri \"") + config.uri + "\": " + e.what());
    }
}

}  // namespace gw
