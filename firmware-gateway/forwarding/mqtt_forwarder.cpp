// MQTT forwarding: the outbox drained through a Publisher.
#include "gw/forwarding/mqtt_forwarder.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fstream>

#include "gw/core/json.hpp"
#include "gw/core/quantity.hpp"

namespace gw {

using namespace std::chrono;
namespace asio = boost::asio;

namespace {
constexpr const char* k_log = "mqtt";
}  // namespace

std::string status_topic(const Config& c) {
    return c.mqtt.topic_prefix + "/" + c.gateway.id + "/status";
}

std::string manifest_topic(const Config& c) {
    return c.mqtt.topic_prefix + "/" + c.gateway.id + "/manifest";
}

std::string backfill_topic(const Config& c) {
    return c.mqtt.topic_prefix + "/" + c.gateway.id + "/cmd/backfill";
}

std::string manifest_payload(const Config& c, const std::string& version) {
    JsonWriter w;
    w.object().field("gateway_id", c.gateway.id).key("interval_s").integer(c.gateway.interval_s);
    w.field("version", version).key("meters").array();
    for (const MeterConfig& m : c.meters)
        w.object()
            .field("meter_ean", m.meter_ean.to_string())
            .field("klant_ean", m.klant_ean.to_string())
            .field("meter_type", meter_type_name(m.type))
            .end();
    w.end();
    return std::move(w.end()).take();
}

Result<BackfillRequest> parse_backfill(const Config& c, const std::string& payload) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(payload, ec);
    if (ec || !v.is_object()) return make_error(Errc::invalid_argument, "not a JSON object");
    const boost::json::object& o = v.as_object();
    for (const auto& kv : o)
        if (kv.key() != "meter_ean" && kv.key() != "from" && kv.key() != "to")
            return make_error(Errc::invalid_argument,
                              "unknown field \"" + std::string(kv.key()) + "\"");
    auto text = [&](const char* k) -> Result<std::string> {
        const auto* f = o.if_contains(k);
        if (f == nullptr || !f->is_string())
            return make_error(Errc::invalid_argument,
                              std::string("\"") + k + "\" must be a string");
        return std::string(f->as_string());
    };
    auto ean = text("meter_ean");
    if (!ean) return ean.error();
    auto meter = Ean18::parse(*ean);
    if (!meter)
        return make_error(Errc::invalid_argument, "meter_ean \"" + *ean + "\" is no EAN-18");
    if (c.find_meter(*meter) == nullptr)
        return make_error(Errc::invalid_argument, "meter " + *ean + " is not configured here");
    BackfillRequest r{*meter, {}, {}};
    for (const char* k : {"from", "to"}) {
        auto t = text(k);
        if (!t) return t.error();
        auto at = parse_utc(*t);
        if (!at)
            return make_error(Errc::invalid_argument, std::string(k) + ": " + at.error().message);
        (std::string_view(k) == "from" ? r.from : r.to) = time_point_cast<seconds>(*at);
    }
    if (r.from >= r.to) return make_error(Errc::invalid_argument, "\"from\" must be before \"to\"");
    return r;
}

std::string interval_topic(const Config& c, const MeterConfig& m) {
    return c.mqtt.topic_prefix + "/" + c.gateway.id + "/" + m.klant_ean.to_string() + "/" +
           m.meter_ean.to_string() + "/interval";
}

std::string interval_payload(const Config& c, const MeterConfig& m, const IntervalRecord& r) {
    const std::string tijd = format_utc(r.end);
    JsonWriter w;
    w.object().field("id", m.meter_ean.to_string() + "/" + tijd).field("gateway_id", c.gateway.id);
    w.field("klant_ean", m.klant_ean.str()).field("meter_ean", m.meter_ean.str());
    w.field("meter_type", meter_type_name(m.type))
        .field("tijd", tijd)
        .key("interval_s")
        .integer(r.interval_s);
    const std::pair<Quantity, const std::optional<double>*> values[] = {
        {Quantity::active_power, &r.p_w},
        {Quantity::reactive_power, &r.q_var},
        {Quantity::voltage_l1, &r.u1_v},
        {Quantity::voltage_l2, &r.u2_v},
        {Quantity::voltage_l3, &r.u3_v}};
    for (const auto& [q, v] : values) {
        w.key(mqtt_field(q));
        // The served value, exactly as the API serves it: whole kW/kVAr, one decimal for V.
        if (*v)
            w.raw(format_served(q, **v));
        else
            w.null();
    }
    w.field("kwaliteit", quality_name(r.quality)).key("monsters").integer(r.samples);
    w.key("dekking").fixed(r.coverage, 2);
    return std::move(w.end()).take();
}

MqttForwarder::MqttForwarder(const Config& config, Outbox& outbox, asio::io_context& io,
                             const Clock& clock, std::unique_ptr<Publisher> publisher)
    : config_(config),
      outbox_(outbox),
      io_(io),
      clock_(clock),
      publisher_(std::move(publisher)),
      reconnect_timer_(io),
      mark_timer_(io),
      reconnect_backoff_(milliseconds{500}, seconds{config.mqtt.reconnect_max_s}),
      mark_backoff_(milliseconds{500}, seconds{config.mqtt.reconnect_max_s}) {}

MqttForwarder::~MqttForwarder() {
    *alive_ = false;
    publisher_.reset();  // no callback runs after this
}

void MqttForwarder::post(std::function<void()> fn) {
    asio::post(io_, [alive = std::weak_ptr<bool>(alive_), fn = std::move(fn)] {
        if (auto a = alive.lock(); a && *a) fn();
    });
}

Status MqttForwarder::start() {
    const MqttConfig& m = config_.mqtt;
    if (!publisher_) {
        std::string password;
        if (!m.password_file.empty()) {
            std::ifstream in(m.password_file);
            if (!in || !std::getline(in, password))
                return make_error(Errc::config_invalid,
                                  "mqtt.password_file \"" + m.password_file + "\" cannot be read");
            while (!password.empty() && (password.back() == '\r' || password.back() == ' '))
                password.pop_back();
        }
        auto made = make_paho_publisher(m, password);
        if (!made) return made.error();
        publisher_ = std::move(made).value();
    }
    publisher_->on_lost(
        [this](const std::string& cause) { post([this, cause] { on_lost(cause); }); });
    log::info(k_log, "forwarding to ", m.uri, " as ", m.client_id, ", topics ", m.topic_prefix, "/",
              config_.gateway.id, "/...; in-flight window ", m.max_inflight);
    connect();
    return {};
}

void MqttForwarder::connect() {
    if (stopping_ || connecting_ || connected_) return;
    connecting_ = true;
    state_ = "connecting";
    const std::uint64_t epoch = ++epoch_;
    publisher_->connect(status_topic(config_),
                        [this, epoch](bool ok, int rc, const std::string& why) {
                            post([this, epoch, ok, rc, why] {
                                if (epoch != epoch_) return;
                                connecting_ = false;
                                if (ok)
                                    on_connected();
                                else
                                    on_connect_failed(rc, why);
                            });
                        });
}

void MqttForwarder::on_connected() {
    connected_ = true;
    if (reconnect_backoff_.failures() > 0)
        log::info(k_log, "connected to ", config_.mqtt.uri, " after ",
                  reconnect_backoff_.failures(), " failed attempt(s)");
    else
        log::info(k_log, "connected to ", config_.mqtt.uri);
    reconnect_backoff_.reset();
    state_ = "connected";
    error_.clear();
    in_flight_.clear();
    publisher_->publish(
        status_topic(config_), "online", true, [this](bool ok, int, const std::string& why) {
            if (!ok) post([why] { log::warn(k_log, "cannot publish the online status: ", why); });
        });
    // Who we are, for a head-end: retained, so that it is there for whoever subscribes later.
    publisher_->publish(
        manifest_topic(config_), manifest_payload(config_, version_), true,
        [this](bool ok, int, const std::string& why) {
            if (!ok) post([why] { log::warn(k_log, "cannot publish the manifest: ", why); });
        });
    publisher_->subscribe(
        backfill_topic(config_),
        [this](const std::string&, const std::string& payload) {
            post([this, payload] { on_backfill(payload); });
        },
        [this](bool ok, int, const std::string& why) {
            if (!ok)
                post([this, why] {
                    log::warn(k_log, "cannot subscribe to ", backfill_topic(config_), ": ", why,
                              "; backfill requests are not heard");
                });
        });
    drain();
}

void MqttForwarder::on_backfill(const std::string& payload) {
    auto req = parse_backfill(config_, payload);
    if (!req) {
        ++backfills_refused_;
        log::warn(k_log, "backfill request on ", backfill_topic(config_),
                  " refused: ", req.error().message);
        return;
    }
    auto n = outbox_.requeue_forward(req->meter, req->from, req->to);
    if (!n) {
        ++backfills_refused_;
        log::error(k_log, "backfill of meter ", req->meter.str(), " failed: ", n.error().message);
        return;
    }
    ++backfills_;
    log::info(k_log, "backfill of meter ", req->meter.str(), " (", format_utc(req->from), ", ",
              format_utc(req->to), "]: ", *n, " stored interval(s) queued again");
    drain();
}

void MqttForwarder::on_connect_failed(int rc, const std::string& why) {
    const auto delay = reconnect_backoff_.fail();
    state_ = "disconnected";
    error_ = why;
    // Loud once, then quieter: a broker that is down for a day must not flood the journal.
    const int failures = reconnect_backoff_.failures();
    if (failures == 1 || failures % 20 == 0)
        log::error(k_log, "cannot connect to ", config_.mqtt.uri, ": ", why, " (rc ", rc,
                   "); intervals stay queued");
    if (stopping_) return;
    reconnect_timer_.expires_after(delay);
    reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) connect();
    });
}

void MqttForwarder::on_lost(const std::string& cause) {
    if (!connected_) return;
    connected_ = false;
    ++epoch_;  // completions of the old connection no longer count as in flight
    in_flight_.clear();
    log::warn(k_log, "connection to ", config_.mqtt.uri, " lost: ", cause,
              "; intervals stay queued");
    on_connect_failed(-3, cause);
}

void MqttForwarder::kick() {
    if (connected_) drain();
}

void MqttForwarder::drain() {
    if (!connected_ || stopping_) return;
    if (marks_failing_) return;  // the store cannot record acknowledgements: wait for it
    const auto window = static_cast<std::size_t>(config_.mqtt.max_inflight);
    if (in_flight_.size() >= window) return;
    auto pending = outbox_.pending_forward(
        static_cast<std::int64_t>(window + in_flight_.size() + acked_.size()));
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
            (void)outbox_.append_event({clock_.utc_now(), r.meter_ean.to_string(), "not_forwarded",
                                        "meter no longer configured"});
            acked_.insert(key);
            schedule_marks(milliseconds{0});
            continue;
        }
        in_flight_.insert(key);
        ++publishes_;
        publisher_->publish(
            interval_topic(config_, *m), interval_payload(config_, *m, r), false,
            [this, key, epoch](bool ok, int, const std::string& why) {
                post([this, key, epoch, ok, why] {
                    if (ok)
                        on_ack(key);  // a PUBACK is a PUBACK, whichever connection carried it
                    else if (epoch == epoch_)
                        on_publish_failed(key, why);
                });
            });
    }
}

void MqttForwarder::on_ack(const IntervalKey& key) {
    in_flight_.erase(key);
    acked_.insert(key);
    // Marks go to the outbox in batches: one transaction (one fsync) for a burst of PUBACKs.
    // Meanwhile the window moves on: acknowledged rows are skipped, never sent again.
    schedule_marks(milliseconds{acked_.size() >= 256 ? 0 : 20});
    drain();
}

void MqttForwarder::on_publish_failed(const IntervalKey& key, const std::string& why) {
    in_flight_.erase(key);
    log::warn(k_log, "interval ", format_utc(key.end), " of meter ", key.meter_ean.str(),
              " not acknowledged: ", why, "; it stays queued");
}

void MqttForwarder::schedule_marks(milliseconds after) {
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
    if (Status st = outbox_.mark_forwarded(keys, clock_.utc_now()); !st) {
        marks_failing_ = true;
        mark_errors_.note(clock_.steady_now(),
                          std::to_string(keys.size()) + " waiting: " + st.error().message);
        schedule_marks(mark_backoff_.fail());
        return;
    }
    if (marks_failing_)
        log::info(k_log, "the store takes acknowledgements again: ", keys.size(),
                  " interval(s) marked forwarded");
    marks_failing_ = false;
    mark_backoff_.reset();
    for (const auto& k : keys) acked_.erase(k);
    drain();
}

void MqttForwarder::stop() {
    stopping_ = true;
    reconnect_timer_.cancel();
    mark_timer_.cancel();
    marks_armed_ = false;
    flush_marks();  // what the broker acknowledged is recorded before exit, if the store lets us
    if (publisher_ && connected_) publisher_->disconnect(status_topic(config_));
    connected_ = false;
    state_ = "disconnected";
    error_ = "stopped";
}

}  // namespace gw
