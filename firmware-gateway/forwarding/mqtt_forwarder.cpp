// MQTT forwarding on Paho MQTT C++.
#include "gw/forwarding/mqtt_forwarder.hpp"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <fstream>
#include <mqtt/async_client.h>

#include "gw/core/log.hpp"
#include "gw/core/quantity.hpp"

namespace gw {

using namespace std::chrono;
namespace asio = boost::asio;

namespace {
constexpr const char* k_log = "mqtt";

/// Paho's return codes, and MQTT 3.1.1 CONNACK codes, as words an installer understands.
std::string describe(int rc) {
    switch (rc) {
        case 1: return "the broker refused the protocol version";
        case 2: return "the broker rejected the client id (mqtt.client_id)";
        case 3: return "the broker is unavailable";
        case 4: return "bad user name or password (mqtt.username, mqtt.password_file)";
        case 5: return "not authorized by the broker";
        case -1: return "connection failed: network, TLS handshake (check mqtt.ca_file) or broker refused";
        case -3: return "disconnected";
        default: return "error " + std::to_string(rc);
    }
}

/// Posts Paho's completion callbacks to our io_context.
class Listener final : public mqtt::iaction_listener {
public:
    using Fn = std::function<void(bool ok, int rc, std::string why)>;
    Listener(asio::io_context& io, std::weak_ptr<bool> alive, Fn fn) : io_(io), alive_(std::move(alive)), fn_(std::move(fn)) {}
    void on_success(const mqtt::token&) override { post(true, 0, ""); }
    void on_failure(const mqtt::token& tok) override {
        std::string why = describe(tok.get_return_code());
        post(false, tok.get_return_code(), why);
    }

private:
    void post(bool ok, int rc, std::string why) {
        auto alive = alive_;
        asio::post(io_, [alive, fn = fn_, ok, rc, why = std::move(why)] {
            if (auto a = alive.lock(); a && *a) fn(ok, rc, why);
        });
        // Paho keeps no ownership of a listener: it lives until its token completes, then we free it.
        delete this;
    }
    asio::io_context& io_;
    std::weak_ptr<bool> alive_;
    Fn fn_;
};

std::string two_decimals(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

}  // namespace

std::string status_topic(const Config& c) { return c.mqtt.topic_prefix + "/" + c.gateway.id + "/status"; }

std::string interval_topic(const Config& c, const MeterConfig& m) {
    return c.mqtt.topic_prefix + "/" + c.gateway.id + "/" + m.klant_ean.to_string() + "/" + m.meter_ean.to_string() + "/interval";
}

std::string interval_payload(const Config& c, const MeterConfig& m, const IntervalRecord& r) {
    const std::string tijd = format_utc(r.end);
    auto value = [](Quantity q, const std::optional<double>& v) { return v ? format_served(q, *v) : std::string("null"); };
    std::string p;
    p.reserve(400);
    p += "{\"id\":\"" + m.meter_ean.to_string() + "/" + tijd + "\",\"gateway_id\":\"" + c.gateway.id + "\",\"klant_ean\":\"" +
         m.klant_ean.to_string() + "\",\"meter_ean\":\"" + m.meter_ean.to_string() + "\",\"meter_type\":\"" +
         std::string(meter_type_name(m.type)) + "\",\"tijd\":\"" + tijd + "\",\"interval_s\":" + std::to_string(r.interval_s);
    p += ",\"actief_vermogen_kw\":" + value(Quantity::active_power, r.p_w);
    p += ",\"blind_vermogen_kvar\":" + value(Quantity::reactive_power, r.q_var);
    p += ",\"spanning_l1_v\":" + value(Quantity::voltage_l1, r.u1_v);
    p += ",\"spanning_l2_v\":" + value(Quantity::voltage_l2, r.u2_v);
    p += ",\"spanning_l3_v\":" + value(Quantity::voltage_l3, r.u3_v);
    p += ",\"kwaliteit\":\"" + std::string(quality_name(r.quality)) + "\",\"monsters\":" + std::to_string(r.samples) +
         ",\"dekking\":" + two_decimals(r.coverage) + "}";
    return p;
}

MqttForwarder::MqttForwarder(const Config& config, Outbox& store, asio::io_context& io, const Clock& clock)
    : config_(config), store_(store), io_(io), clock_(clock), reconnect_timer_(io), mark_timer_(io) {}

MqttForwarder::~MqttForwarder() {
    *alive_ = false;
    if (client_) {
        try {
            if (client_->is_connected()) client_->disconnect(0)->wait_for(milliseconds{500});
        } catch (const std::exception&) {
        }
    }
}

Status MqttForwarder::start() {
    const MqttConfig& m = config_.mqtt;
    if (!m.password_file.empty()) {
        std::ifstream in(m.password_file);
        if (!in || !std::getline(in, password_))
            return make_error(Errc::config_invalid, "mqtt.password_file \"" + m.password_file + "\" cannot be read");
        while (!password_.empty() && (password_.back() == '\r' || password_.back() == ' ')) password_.pop_back();
    }
    try {
        // No persistence object and no offline buffering: the store is the outbox.
        client_ = std::make_unique<mqtt::async_client>(m.uri, m.client_id, nullptr);
    } catch (const std::exception& e) {
        return make_error(Errc::config_invalid, std::string("mqtt.uri \"") + m.uri + "\": " + e.what());
    }
    std::weak_ptr<bool> alive = alive_;
    client_->set_connection_lost_handler([this, alive](const std::string& cause) {
        asio::post(io_, [this, alive, cause] {
            if (auto a = alive.lock(); a && *a) on_lost(cause.empty() ? "connection lost" : cause);
        });
    });
    log::info(k_log, "forwarding to ", m.uri, " as ", m.client_id, ", topics ", m.topic_prefix, "/", config_.gateway.id,
              "/...; in-flight window ", m.max_inflight);
    connect();
    return {};
}

void MqttForwarder::connect() {
    if (stopping_ || connecting_ || connected_) return;
    const MqttConfig& m = config_.mqtt;
    mqtt::connect_options opts;
    opts.set_keep_alive_interval(seconds{m.keepalive_s});
    opts.set_clean_session(m.clean_session);
    opts.set_connect_timeout(seconds{5});
    opts.set_mqtt_version(MQTTVERSION_3_1_1);  // no silent retry with 3.1 after a failure
    opts.set_automatic_reconnect(false);  // our own backoff, and a fresh drain from the store
    opts.set_max_inflight(m.max_inflight + 8);
    if (!m.username.empty()) opts.set_user_name(m.username);
    if (!password_.empty()) opts.set_password(password_);
    opts.set_will(mqtt::will_options(status_topic(config_), std::string("offline"), 1, true));
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
    connecting_ = true;
    state_ = "connecting";
    const std::uint64_t epoch = ++epoch_;
    try {
        client_->connect(opts, nullptr, *new Listener(io_, alive_, [this, epoch](bool ok, int rc, const std::string& why) {
            if (epoch != epoch_) return;
            connecting_ = false;
            if (ok) on_connected();
            else on_connect_failed(rc, why);
        }));
    } catch (const std::exception& e) {
        connecting_ = false;
        on_connect_failed(-1, e.what());
    }
}

void MqttForwarder::on_connected() {
    connected_ = true;
    if (failures_ > 0) log::info(k_log, "connected to ", config_.mqtt.uri, " after ", failures_, " failed attempt(s)");
    else log::info(k_log, "connected to ", config_.mqtt.uri);
    failures_ = 0;
    state_ = "connected";
    in_flight_.clear();
    try {
        client_->publish(status_topic(config_), std::string("online"), 1, true);
    } catch (const std::exception& e) {
        log::warn(k_log, "cannot publish the online status: ", e.what());
    }
    drain();
}

void MqttForwarder::on_connect_failed(int rc, const std::string& why) {
    ++failures_;
    state_ = "disconnected: " + why;
    // Loud once, then quieter: a broker that is down for a day must not flood the journal.
    if (failures_ == 1 || failures_ % 20 == 0)
        log::error(k_log, "cannot connect to ", config_.mqtt.uri, ": ", why, " (rc ", rc, "); intervals stay queued");
    schedule_reconnect();
}

void MqttForwarder::on_lost(const std::string& cause) {
    if (!connected_) return;
    connected_ = false;
    ++epoch_;  // completions of the old connection no longer count as in flight
    in_flight_.clear();
    state_ = "disconnected: " + cause;
    log::warn(k_log, "connection to ", config_.mqtt.uri, " lost: ", cause, "; intervals stay queued");
    schedule_reconnect();
}

void MqttForwarder::schedule_reconnect() {
    if (stopping_) return;
    const auto cap = seconds{config_.mqtt.reconnect_max_s};
    const auto delay = std::min<milliseconds>(milliseconds{500} * (1 << std::min(failures_, 10)), cap);
    reconnect_timer_.expires_after(delay);
    reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) connect();
    });
}

void MqttForwarder::kick() {
    if (connected_) drain();
}

void MqttForwarder::drain() {
    if (!connected_ || stopping_) return;
    if (mark_failures_ > 0) return;  // the store cannot record acknowledgements: wait for it
    const auto window = static_cast<std::size_t>(config_.mqtt.max_inflight);
    if (in_flight_.size() >= window) return;
    auto pending = store_.pending_forward(static_cast<std::int64_t>(window + in_flight_.size() + acked_.size()));
    if (!pending) {
        outbox_errors_.note(clock_.steady_now(), pending.error().message);
        return;
    }
    const std::uint64_t epoch = epoch_;
    for (const auto& r : *pending) {
        if (in_flight_.size() >= window) break;
        const IntervalKey key{r.meter_ean, r.end};
        if (in_flight_.count(key) || acked_.count(key)) continue;
        const MeterConfig* m = config_.find_meter(r.meter_ean);
        if (m == nullptr) {
            // A meter removed from the configuration: its customer is no longer known here.
            log::warn(k_log, "interval ", format_utc(r.end), " of meter ", r.meter_ean.str(),
                      " is not forwarded: the meter is no longer configured");
            (void)store_.append_event({clock_.utc_now(), r.meter_ean.to_string(), "not_forwarded", "meter no longer configured"});
            acked_.insert(key);
            schedule_marks(std::chrono::milliseconds{0});
            continue;
        }
        in_flight_.insert(key);
        try {
            auto msg = mqtt::make_message(interval_topic(config_, *m), interval_payload(config_, *m, r), 1, false);
            ++publishes_;
            client_->publish(msg, nullptr, *new Listener(io_, alive_, [this, key, epoch](bool ok, int, const std::string& why) {
                if (ok) on_ack(key.meter_ean, key.end);  // a PUBACK is a PUBACK, whichever connection carried it
                if (epoch != epoch_) return;
                if (!ok) on_publish_failed(key.meter_ean, key.end, why);
            }));
        } catch (const std::exception& e) {
            in_flight_.erase(key);
            log::warn(k_log, "publish failed: ", e.what());
            break;
        }
    }
}

void MqttForwarder::on_ack(const Ean18& meter, SysS end) {
    const IntervalKey key{meter, end};
    in_flight_.erase(key);
    acked_.insert(key);
    // Marks go to the store in batches: one transaction (one fsync) for a burst of PUBACKs.
    // Meanwhile the window moves on: acknowledged rows are skipped, never sent again.
    schedule_marks(std::chrono::milliseconds{acked_.size() >= 256 ? 0 : 20});
    drain();
}

void MqttForwarder::schedule_marks(std::chrono::milliseconds after) {
    if (marks_armed_) return;
    marks_armed_ = true;
    mark_timer_.expires_after(after);
    mark_timer_.async_wait([this](const boost::system::error_code& ec) {
        marks_armed_ = false;
        if (!ec) flush_marks();
    });
}

void MqttForwarder::flush_marks() {
    if (acked_.empty()) return;
    const std::vector<IntervalKey> keys(acked_.begin(), acked_.end());
    if (Status st = store_.mark_forwarded(keys, clock_.utc_now()); !st) {
        ++mark_failures_;
        mark_errors_.note(clock_.steady_now(), std::to_string(keys.size()) + " waiting: " + st.error().message);
        const auto cap = std::chrono::duration_cast<std::chrono::milliseconds>(seconds{config_.mqtt.reconnect_max_s});
        schedule_marks(std::min<std::chrono::milliseconds>(milliseconds{500} * (1 << std::min(mark_failures_, 10)), cap));
        return;
    }
    if (mark_failures_ > 0)
        log::info(k_log, "the store takes acknowledgements again: ", keys.size(), " interval(s) marked forwarded");
    mark_failures_ = 0;
    for (const auto& k : keys) acked_.erase(k);
    drain();
}

void MqttForwarder::on_publish_failed(const Ean18& meter, SysS end, const std::string& why) {
    in_flight_.erase({meter, end});
    log::warn(k_log, "interval ", format_utc(end), " of meter ", meter.str(), " not acknowledged: ", why, "; it stays queued");
}

void MqttForwarder::stop() {
    stopping_ = true;
    reconnect_timer_.cancel();
    mark_timer_.cancel();
    marks_armed_ = false;
    flush_marks();  // what the broker acknowledged is recorded before exit, if the store lets us
    if (client_ && connected_) {
        try {
            client_->publish(status_topic(config_), std::string("offline"), 1, true)->wait_for(milliseconds{1000});
            client_->disconnect(1000)->wait_for(milliseconds{1500});
        } catch (const std::exception& e) {
            log::warn(k_log, "disconnect: ", e.what());
        }
    }
    connected_ = false;
    state_ = "disconnected: stopped";
}

}  // namespace gw
