// The fleet head-end daemon: the pull API over PostgreSQL, the MQTT ingest, the backfill of
// gaps and the retention of old partitions, wired together.
#pragma once

#include <boost/asio.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gw/api/api.hpp"
#include "gw/api/https_server.hpp"
#include "gw/core/clock.hpp"
#include "gw/core/config.hpp"
#include "gw/ingest/ingest.hpp"
#include "gw/pgstore/pg_store.hpp"

namespace gw {

std::string headend_version();

/// The gateway Config the shared API code reads: the head-end's [api], and as customers and
/// meters the fleet registry.
Config api_config_for(const HeadendConfig& config, const std::vector<FleetMeter>& fleet);

/// Thread-safety: run() on the main thread. Inside: the io thread (API, registry refresh), the
/// ingest thread (batches into PostgreSQL), the upkeep thread (gaps, backfill, partitions);
/// each with its own PostgreSQL connection.
class Headend {
  public:
    Headend(const HeadendConfig& config, const Clock& clock);
    ~Headend();
    /// Runs until SIGTERM/SIGINT; the exit code.
    int run();

  private:
    void ingest_loop();
    void upkeep_loop();
    void refresh_registry();
    GatewayLive live() const;

    const HeadendConfig& config_;
    const Clock& clock_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer audit_timer_, registry_timer_;
    Config api_config_;
    std::unique_ptr<PgStore> api_store_;
    std::unique_ptr<Api> api_;
    std::unique_ptr<HttpsServer> https_;
    ingest::MessageQueue queue_;
    ingest::IngestStats stats_;
    std::unique_ptr<ingest::Subscriber> subscriber_;
    std::mutex subscriber_mu_;  ///< the ingest thread pauses it, the upkeep thread publishes
    std::atomic<bool> stopping_{false};
    std::atomic<bool> registry_changed_{true};
    std::atomic<bool> store_ok_{true};
    std::thread ingest_thread_, upkeep_thread_;
    SysMs started_at_{};
};

}  // namespace gw
