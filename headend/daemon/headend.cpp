// The head-end's wiring.
#include "gw/headend/headend.hpp"

#include <csignal>

#include "gw/core/log.hpp"
#include "gw/ingest/messages.hpp"

#ifndef GW_VERSION
#define GW_VERSION "0.0.0"
#endif

namespace gw {

namespace asio = boost::asio;
using namespace std::chrono;

namespace {
constexpr const char* k_log = "headend";

/// Opens a store, trying again every 2 s until it works or the daemon stops.
std::unique_ptr<PgStore> open_store(const std::string& conninfo, const std::atomic<bool>& stop) {
    bool warned = false;
    while (!stop) {
        auto s = PgStore::open(conninfo);
        if (s) {
            if (warned) log::info(k_log, "PostgreSQL is reachable again");
            return std::move(s).value();
        }
        if (!warned || s.error().code == make_error_code(Errc::store_newer_schema))
            log::error(k_log, s.error().message, "; trying again every 2 s");
        if (s.error().code == make_error_code(Errc::store_newer_schema)) return nullptr;
        warned = true;
        for (int i = 0; i < 20 && !stop; ++i) std::this_thread::sleep_for(milliseconds{100});
    }
    return nullptr;
}

}  // namespace

std::string headend_version() {
    return GW_VERSION;
}

Config api_config_for(const HeadendConfig& config, const std::vector<FleetMeter>& fleet) {
    Config c;
    c.file = config.file;
    c.gateway.id = config.id;
    c.gateway.log_level = config.log_level;
    c.api = config.api;
    c.mqtt = config.mqtt;
    for (const auto& m : fleet) {
        if (c.gateway.interval_s != m.interval_s && c.meters.empty())
            c.gateway.interval_s = m.interval_s;
        if (c.customers.empty() || c.customers.back().klant_ean != m.klant_ean)
            c.customers.push_back({m.klant_ean, ""});
        MeterConfig mc;
        mc.meter_ean = m.meter_ean;
        mc.klant_ean = m.klant_ean;
        mc.type = m.type;
        mc.link = "";  // the meter is on a gateway, not on a link of ours
        mc.profile = "gateway " + m.gateway_id;
        c.meters.push_back(std::move(mc));
    }
    return c;
}

Headend::Headend(const HeadendConfig& config, const Clock& clock)
    : config_(config),
      clock_(clock),
      signals_(io_, SIGTERM, SIGINT),
      audit_timer_(io_),
      registry_timer_(io_),
      queue_(static_cast<std::size_t>(config.batch_max) * 4) {}

Headend::~Headend() {
    stopping_ = true;
    queue_.close();
    if (ingest_thread_.joinable()) ingest_thread_.join();
    if (upkeep_thread_.joinable()) upkeep_thread_.join();
}

GatewayLive Headend::live() const {
    GatewayLive g;
    g.started_at = started_at_;
    g.mqtt_state = subscriber_ ? subscriber_->state() : "disconnected";
    if (g.mqtt_state == "paused") g.mqtt_state = "disconnected";
    g.mqtt_error = subscriber_ ? subscriber_->last_error() : "";
    g.mqtt_publishes = stats_.received;
    g.storage_state = store_ok_ ? "ok" : "failing";
    if (https_) g.tls_not_after = https_->certificate_not_after();
    g.tls_certificate = config_.api.tls_cert;
    return g;
}

void Headend::refresh_registry() {
    auto fleet = api_store_->fleet_meters();
    if (!fleet) {
        log::warn(k_log, "cannot refresh the fleet registry: ", fleet.error().message);
        registry_changed_ = true;
        return;
    }
    api_config_ = api_config_for(config_, *fleet);
    if (api_) api_->data_changed();
}

int Headend::run() {
    started_at_ = clock_.utc_now();
    log::info(k_log, "meter-headend ", config_.id, " ", headend_version(), ": PostgreSQL, MQTT ",
              config_.mqtt.uri, " (group ", config_.shared_group, ")");
    api_store_ = open_store(config_.pg_conninfo, stopping_);
    if (!api_store_) return 3;
    {
        const SysS now = time_point_cast<seconds>(clock_.utc_now());
        if (auto st =
                api_store_->ensure_partitions(now - days{config_.retention_days}, now + days{31});
            !st)
            log::warn(k_log, st.error().message);
    }
    refresh_registry();
    registry_changed_ = false;
    if (config_.api.enabled) {
        api_ = std::make_unique<Api>(api_config_, *api_store_, clock_, headend_version(),
                                     [this] { return live(); });
        auto server = HttpsServer::start_async(
            io_, config_.api,
            [this](const http::Request& r, HttpsServer::Reply reply) {
                api_->handle_async(r, std::move(reply), [this](std::function<void()> fn) {
                    asio::post(io_, std::move(fn));
                });
            },
            HttpsLimits::from(config_.api));
        if (!server) {
            log::error(k_log, "not started: ", server.error().message);
            return 2;
        }
        https_ = std::move(server).value();
    }
    subscriber_ = std::make_unique<ingest::Subscriber>(config_, queue_);
    (void)subscriber_->start();
    ingest_thread_ = std::thread([this] { ingest_loop(); });
    upkeep_thread_ = std::thread([this] { upkeep_loop(); });

    std::function<void()> every_second = [&] {
        audit_timer_.expires_after(seconds{1});
        audit_timer_.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            if (api_) api_->flush_audit();
            if (registry_changed_.exchange(false)) refresh_registry();
            every_second();
        });
    };
    every_second();
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        log::info(k_log, "signal ", sig, ": shutting down");
        stopping_ = true;
        audit_timer_.cancel();
        if (https_) https_->stop();
        io_.stop();
    });
    io_.run();
    stopping_ = true;
    {
        std::lock_guard lock(subscriber_mu_);
        subscriber_->stop();
    }
    queue_.close();
    if (ingest_thread_.joinable()) ingest_thread_.join();
    if (upkeep_thread_.joinable()) upkeep_thread_.join();
    if (api_) api_->flush_audit();
    log::info(k_log, "stopped");
    return 0;
}

void Headend::ingest_loop() {
    auto store = open_store(config_.pg_conninfo, stopping_);
    if (!store) return;
    ingest::Ingest ingest(config_, *store, clock_, stats_);
    std::vector<ingest::Message> batch;
    bool paused = false;
    while (!stopping_) {
        if (batch.empty())
            batch = queue_.pop(static_cast<std::size_t>(config_.batch_max), milliseconds{500},
                               milliseconds{config_.batch_ms});
        if (batch.empty()) continue;
        bool changed = false;
        if (auto st = ingest.handle(batch, changed); !st) {
            // Keep the batch (Paho acknowledged it already) and stop taking more: the broker
            // keeps them in this instance's session, or hands them to the other instances.
            if (store_ok_.exchange(false))
                log::error(k_log, st.error().message, "; ingest waits for PostgreSQL");
            if (!paused) {
                std::lock_guard lock(subscriber_mu_);
                subscriber_->pause();
                paused = true;
            }
            for (int i = 0; i < 10 && !stopping_; ++i)
                std::this_thread::sleep_for(milliseconds{100});
            continue;
        }
        if (!store_ok_.exchange(true)) log::info(k_log, "PostgreSQL is back; ingest resumes");
        if (paused && queue_.size() == 0) {
            std::lock_guard lock(subscriber_mu_);
            subscriber_->resume();
            paused = false;
        }
        if (changed) registry_changed_ = true;
        batch.clear();
    }
    // Messages still queued at a stop were acknowledged: store them if PostgreSQL lets us.
    for (;;) {
        if (batch.empty())
            batch = queue_.pop(static_cast<std::size_t>(config_.batch_max), milliseconds{0},
                               milliseconds{0});
        if (batch.empty()) break;
        bool changed = false;
        if (!ingest.handle(batch, changed)) break;  // the backfill brings them later
        batch.clear();
    }
}

void Headend::upkeep_loop() {
    auto store = open_store(config_.pg_conninfo, stopping_);
    if (!store) return;
    const auto scan_every = seconds{std::clamp(config_.backfill_after_s / 4, 1, 60)};
    auto next_scan = steady_clock::now() + scan_every;
    auto next_retention = steady_clock::now();
    while (!stopping_) {
        std::this_thread::sleep_for(milliseconds{200});
        const auto t = steady_clock::now();
        const SysS now = time_point_cast<seconds>(clock_.utc_now());
        if (t >= next_retention) {
            next_retention = t + hours{1};
            if (auto st = store->ensure_partitions(now, now + days{31}); !st)
                log::warn(k_log, st.error().message);
            auto dropped = store->drop_partitions_before(now - days{config_.retention_days});
            if (!dropped)
                log::warn(k_log, dropped.error().message);
            else
                for (const auto& name : *dropped)
                    log::info(k_log, "retention: dropped partition ", name);
            if (auto pruned = store->prune_records(now - days{config_.retention_days}); !pruned)
                log::warn(k_log, pruned.error().message);
            else if (*pruned > 0)
                log::info(k_log, "retention: deleted ", *pruned,
                          " audit, conflict and unfillable gap rows");
        }
        if (t < next_scan) continue;
        next_scan = t + scan_every;
        auto orders =
            store->plan_backfill(now, config_.backfill_after_s, config_.backfill_attempts, 31);
        if (!orders) {
            log::warn(k_log, orders.error().message);
            continue;
        }
        for (const auto& o : *orders) {
            bool sent = false;
            {
                std::lock_guard lock(subscriber_mu_);
                sent = subscriber_->publish(
                    ingest::backfill_topic(config_.mqtt.topic_prefix, o.gateway_id),
                    ingest::backfill_payload(o));
            }
            log::info(k_log, sent ? "asked " : "could not ask ", o.gateway_id, " for meter ",
                      o.meter_ean.str(), " (", format_utc(o.from), ", ", format_utc(o.to), "]");
        }
    }
}

}  // namespace gw
