// The ingest: MQTT 5 subscriber on Paho C++, the queue, and the batch handling.
#include "gw/ingest/ingest.hpp"

#include <mqtt/async_client.h>

#include <fstream>

#include "gw/core/log.hpp"
#include "gw/core/text.hpp"
#include "gw/ingest/messages.hpp"

namespace gw::ingest {

using namespace std::chrono;

// -- MessageQueue -------------------------------------------------------------------------

bool MessageQueue::push(Message m) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return closed_ || q_.size() < capacity_; });
    if (closed_) return false;
    q_.push_back(std::move(m));
    changed_.notify_all();
    return true;
}

std::vector<Message> MessageQueue::pop(std::size_t max, milliseconds wait, milliseconds fill) {
    std::vector<Message> out;
    std::unique_lock lock(mu_);
    if (!changed_.wait_for(lock, wait, [&] { return closed_ || !q_.empty(); })) return out;
    const auto deadline = steady_clock::now() + fill;
    for (;;) {
        while (!q_.empty() && out.size() < max) {
            out.push_back(std::move(q_.front()));
            q_.pop_front();
        }
        changed_.notify_all();
        if (out.size() >= max || closed_) break;
        if (!changed_.wait_until(lock, deadline, [&] { return closed_ || !q_.empty(); })) break;
    }
    return out;
}

void MessageQueue::close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    changed_.notify_all();
}

std::size_t MessageQueue::size() const {
    std::lock_guard lock(mu_);
    return q_.size();
}

// -- Subscriber ---------------------------------------------------------------------------

namespace {
/// The first line of a secret file (the MQTT password), without its line end.
std::string read_secret_file(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line;
}
}  // namespace

struct Subscriber::Impl {
    Impl(const HeadendConfig& c, MessageQueue& q)
        : config(c),
          queue(q),
          client(c.mqtt.uri, c.mqtt.client_id, mqtt::create_options(MQTTVERSION_5), nullptr),
          opts(options()) {
        // Set on the kept object itself: Paho C++ 1.2's copies of connect_options point at the
        // properties of the object they were copied from (a temporary crashed here).
        opts.set_properties(
            {mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, c.session_expiry_s)});
    }

    const HeadendConfig& config;
    MessageQueue& queue;
    mqtt::async_client client;
    mqtt::connect_options opts;  ///< kept: Paho reads its properties at each connect
    mutable std::mutex mu;
    std::string state = "disconnected";
    std::string error;
    bool wanted = false;

    void set_state(std::string s, std::string why = {}) {
        std::lock_guard lock(mu);
        state = std::move(s);
        if (!why.empty()) error = std::move(why);
    }

    mqtt::connect_options options() const {
        const MqttConfig& m = config.mqtt;
        auto b = mqtt::connect_options_builder()
                     .mqtt_version(MQTTVERSION_5)
                     .clean_start(m.clean_session)
                     .keep_alive_interval(seconds{m.keepalive_s})
                     .connect_timeout(seconds{5})
                     .automatic_reconnect(seconds{1}, seconds{m.reconnect_max_s});
        mqtt::connect_options o = b.finalize();
        if (!m.username.empty()) o.set_user_name(m.username);
        if (!m.password_file.empty()) o.set_password(read_secret_file(m.password_file));
        if (m.uses_tls()) {
            mqtt::ssl_options ssl;
            if (!m.ca_file.empty()) ssl.set_trust_store(m.ca_file);
            if (!m.cert_file.empty()) ssl.set_key_store(m.cert_file);
            if (!m.key_file.empty()) ssl.set_private_key(m.key_file);
            ssl.set_enable_server_cert_auth(true);
            ssl.set_verify(true);
            o.set_ssl(std::move(ssl));
        }
        return o;
    }

    void subscribe() {
        const std::string& p = config.mqtt.topic_prefix;
        const std::string shared = "$share/" + config.shared_group + "/" + p + "/+/+/+/interval";
        try {
            client.subscribe(shared, 1);
            client.subscribe(p + "/+/manifest", 1);
            client.subscribe(p + "/+/status", 1);
            log::info("ingest", "connected to ", config.mqtt.uri, "; subscribed to ", shared, ", ",
                      p, "/+/manifest and ", p, "/+/status");
        } catch (const std::exception& e) {
            log::error("ingest", "cannot subscribe: ", e.what());
        }
    }

    void connect() {
        set_state("connecting");
        try {
            client.connect(opts);
        } catch (const std::exception& e) {
            set_state("disconnected", e.what());
            log::warn("ingest", "cannot connect to ", config.mqtt.uri, ": ", e.what());
        }
    }
};

Subscriber::Subscriber(const HeadendConfig& config, MessageQueue& queue)
    : impl_(std::make_unique<Impl>(config, queue)) {
    Impl* impl = impl_.get();
    impl->client.set_connected_handler([impl](const std::string&) {
        impl->set_state("connected");
        impl->subscribe();
    });
    impl->client.set_connection_lost_handler([impl](const std::string& cause) {
        impl->set_state("disconnected", cause.empty() ? "connection lost" : cause);
        log::warn("ingest", "lost the broker (", cause.empty() ? "connection lost" : cause,
                  "); reconnecting");
    });
    impl->client.set_message_callback([impl](const mqtt::const_message_ptr& m) {
        impl->queue.push({m->get_topic(), m->get_payload_str()});
    });
}

Subscriber::~Subscriber() {
    stop();
}

Status Subscriber::start() {
    impl_->wanted = true;
    impl_->connect();
    return {};
}

void Subscriber::pause() {
    if (!impl_->wanted) return;
    impl_->wanted = false;
    try {
        if (impl_->client.is_connected()) impl_->client.disconnect()->wait_for(seconds{2});
    } catch (const std::exception&) {
    }
    impl_->set_state("paused");
}

void Subscriber::resume() {
    if (impl_->wanted) return;
    impl_->wanted = true;
    impl_->connect();
}

void Subscriber::stop() {
    impl_->wanted = false;
    try {
        if (impl_->client.is_connected()) impl_->client.disconnect()->wait_for(seconds{2});
    } catch (const std::exception&) {
    }
    impl_->set_state("disconnected");
}

bool Subscriber::publish(const std::string& topic, const std::string& payload) {
    try {
        if (!impl_->client.is_connected()) return false;
        impl_->client.publish(topic, payload.data(), payload.size(), 1, false);
        return true;
    } catch (const std::exception& e) {
        log::warn("ingest", "cannot publish on ", topic, ": ", e.what());
        return false;
    }
}

std::string Subscriber::state() const {
    std::lock_guard lock(impl_->mu);
    return impl_->state;
}
std::string Subscriber::last_error() const {
    std::lock_guard lock(impl_->mu);
    return impl_->error;
}

// -- Ingest -------------------------------------------------------------------------------

Ingest::Ingest(const HeadendConfig& config, PgStore& store, const Clock& clock, IngestStats& stats)
    : config_(config), store_(store), clock_(clock), stats_(stats) {}

void Ingest::refuse(const Message& m, const std::string& why) {
    ++stats_.malformed;
    const SteadyMs now = clock_.steady_now();
    if (now - log_window_ >= minutes{1}) {
        if (log_suppressed_ > 0)
            log::warn("ingest", log_suppressed_, " more malformed messages in the last minute");
        log_window_ = now;
        log_lines_ = 0;
        log_suppressed_ = 0;
    }
    if (++log_lines_ <= 20)
        log::warn("ingest", "refused a message on ", m.topic.substr(0, 200), ": ", why);
    else
        ++log_suppressed_;
}

Status Ingest::handle(const std::vector<Message>& batch, bool& registry_changed) {
    const SysS now = time_point_cast<seconds>(clock_.utc_now());
    const SysS oldest = now - days{config_.retention_days};
    const std::string& prefix = config_.mqtt.topic_prefix;
    std::vector<IncomingInterval> rows;
    std::int64_t malformed = 0;
    for (const auto& m : batch) {
        const TopicInfo t = classify(m.topic, prefix);
        if (t.kind == TopicKind::manifest) {
            if (m.payload.empty()) continue;  // a cleared retained manifest
            auto mf = parse_manifest(m.topic, m.payload, prefix);
            if (!mf) {
                refuse(m, mf.error().message);
                ++malformed;
                continue;
            }
            if (auto st = store_.upsert_manifest(*mf, now); !st) return st;
            ++stats_.manifests;
            registry_changed = true;
            log::info("ingest", "manifest of ", mf->gateway_id, ": ", mf->meters.size(),
                      " meters, version ", mf->version);
        } else if (t.kind == TopicKind::status) {
            if (m.payload != "online" && m.payload != "offline") {
                refuse(m, "a status is online or offline");
                ++malformed;
                continue;
            }
            if (!is_identifier(t.gateway_id, 128)) continue;
            if (auto st = store_.set_gateway_state(t.gateway_id, m.payload, now); !st) return st;
        } else if (t.kind == TopicKind::interval) {
            auto in = parse_interval(m.topic, m.payload, prefix, now, oldest);
            if (!in) {
                refuse(m, in.error().message);
                ++malformed;
                continue;
            }
            rows.push_back(std::move(*in));
        } else {
            refuse(m, "not a topic the head-end reads");
            ++malformed;
        }
    }
    if (rows.empty() && malformed == 0) return {};
    auto out = store_.ingest(rows, malformed, config_.id, now);
    if (!out) {
        ++stats_.store_failures;
        // The refusals were counted above; the batch comes again, so take them back.
        stats_.malformed -= static_cast<std::uint64_t>(malformed);
        return out.error();
    }
    stats_.received += rows.size();
    stats_.inserted += static_cast<std::uint64_t>(out->inserted);
    stats_.duplicates += static_cast<std::uint64_t>(out->duplicates);
    stats_.conflicts += out->conflicts.size();
    for (const auto& line : out->conflicts) log::warn("ingest", line);
    return {};
}

}  // namespace gw::ingest
