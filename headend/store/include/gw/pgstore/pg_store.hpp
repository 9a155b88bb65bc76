// The fleet head-end's store: PostgreSQL 15 through libpqxx. Intervals of every gateway in a
// table partitioned by month, the fleet registry (gateways, meters from their manifests), gaps
// and their backfill requests, ingest counters, and the same credentials, consent and audit
// the gateway keeps.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gw/core/config.hpp"
#include "gw/core/error.hpp"
#include "gw/core/records.hpp"
#include "gw/core/store_api.hpp"
#include "gw/core/time.hpp"

namespace gw {

/// One meter of a gateway's manifest.
struct ManifestMeter {
    Ean18 meter_ean;
    Ean18 klant_ean;
    MeterType type = MeterType::bruto_productie;
};
/// What a gateway says about itself on {prefix}/{gateway_id}/manifest.
struct Manifest {
    std::string gateway_id;
    int interval_s = 300;
    std::string version;
    std::vector<ManifestMeter> meters;
};

/// A meter the fleet registry knows, with its gateway.
struct FleetMeter {
    Ean18 meter_ean;
    Ean18 klant_ean;
    MeterType type = MeterType::bruto_productie;
    std::string gateway_id;
    int interval_s = 300;
};

/// An interval as it came in over MQTT, with where it came from.
struct IncomingInterval {
    IntervalRecord record;
    std::string gateway_id;
    std::string topic;
};

/// What one ingest batch did.
struct IngestOutcome {
    std::int64_t inserted = 0;
    std::int64_t duplicates = 0;  ///< the same id with the same values: nothing changed
    /// The same id with other values: the first values stay. One line each, for the log.
    std::vector<std::string> conflicts;
};

/// A backfill request to publish: the stored intervals of `meter_ean` in (from, to].
struct BackfillOrder {
    std::string gateway_id;
    Ean18 meter_ean;
    SysS from, to;
};

/// Ingest counters of one head-end instance (kept in the database, so status shows them all).
struct IngestCounters {
    std::string instance;
    std::int64_t received = 0, inserted = 0, duplicates = 0, conflicts = 0, malformed = 0;
    std::optional<SysS> updated_at;
};

/// A gap: intervals missing in (from, to], requested `attempts` times.
struct GapRecord {
    Ean18 meter_ean;
    SysS from, to;
    int attempts = 0;
    std::optional<SysS> last_request;
    bool unfillable = false;
};

/// Per gateway, what `headendctl status` and the status endpoint show.
struct GatewayStatus {
    std::string gateway_id;
    std::string version;
    int interval_s = 300;
    std::string state;  ///< online | offline | "" (never said)
    std::optional<SysS> manifest_at, state_at, last_message_at;
    struct Meter {
        Ean18 meter_ean;
        Ean18 klant_ean;
        MeterType type = MeterType::bruto_productie;
        std::int64_t last_day = 0;           ///< intervals stored in the last 24 h
        std::int64_t last_day_expected = 0;  ///< since it is known, at most a day's worth
        std::optional<SysS> newest;
    };
    std::vector<Meter> meters;
    std::vector<GapRecord> gaps;
};

/// Thread-safety: none; one PgStore (one connection) per thread. Several processes and
/// instances share the database: ingest is idempotent, partitions are created under an
/// advisory lock, and one instance at a time scans for gaps.
///
/// A lost connection (PostgreSQL restarting) fails the call with Errc::store_io; the next
/// call connects again. Nothing is half-written: every write is one transaction.
class PgStore final : public ApiStore, public AccessAdmin {
  public:
    static constexpr int k_schema_version = 1;

    /// Connects and creates or migrates the schema; a newer schema is refused.
    static Result<std::unique_ptr<PgStore>> open(const std::string& conninfo);
    ~PgStore() override;
    PgStore(const PgStore&) = delete;
    PgStore& operator=(const PgStore&) = delete;

    // -- ingest --------------------------------------------------------------------------
    /// One transaction: inserts the new intervals (creating their month's partitions),
    /// classifies the rest as duplicates or conflicts (conflicts are also kept in a table),
    /// notes each gateway's last message and adds the counts to this instance's counters.
    /// `malformed` messages rejected before are only counted.
    Result<IngestOutcome> ingest(const std::vector<IncomingInterval>& batch, std::int64_t malformed,
                                 const std::string& instance, SysS now);
    /// Replaces the gateway's meters by the manifest's (meters it no longer names are kept,
    /// marked as no longer reported).
    Status upsert_manifest(const Manifest& manifest, SysS now);
    /// The gateway's retained status message ("online" / "offline").
    Status set_gateway_state(const std::string& gateway_id, const std::string& state, SysS now);
    /// Every meter named by a current manifest.
    Result<std::vector<FleetMeter>> fleet_meters();

    // -- gaps ----------------------------------------------------------------------------
    /// Scans for missing intervals older than `grace_s` (one instance at a time: when another
    /// holds the scan, returns nothing), re-checks the known gaps and returns the backfill
    /// requests due: a gap is asked for at most every `grace_s`, `attempts` times, then counts
    /// as unfillable. Gateways that said "offline" are not asked. Looks back `keep_days`.
    Result<std::vector<BackfillOrder>> plan_backfill(SysS now, int grace_s, int attempts,
                                                     int keep_days);
    Result<std::vector<GatewayStatus>> gateway_status(SysS now);
    Result<std::vector<IngestCounters>> ingest_counters();

    // -- retention -----------------------------------------------------------------------
    /// Creates the partitions of the months from `from` to `to`.
    Status ensure_partitions(SysS from, SysS to);
    /// Drops the monthly partitions that end before `cutoff`; returns their names.
    Result<std::vector<std::string>> drop_partitions_before(SysS cutoff);
    /// Deletes audit rows and recorded conflicts from before `cutoff`, and unfillable gaps that
    /// ended before it (the retention of what is not partitioned). Returns how many rows went.
    Result<std::int64_t> prune_records(SysS cutoff);
    /// The names of the interval partitions, oldest first.
    Result<std::vector<std::string>> partitions();

    // -- ApiStore ------------------------------------------------------------------------
    Result<std::vector<IntervalRecord>> intervals(const Ean18& meter, SysS from_exclusive,
                                                  SysS to_inclusive, std::int64_t offset,
                                                  std::int64_t limit) override;
    Result<std::optional<SysS>> latest_end(const Ean18& meter) override;
    /// The head-end receives no energy readings: always empty.
    Result<std::vector<EnergyReading>> energy_readings(const Ean18& meter, SysS from_exclusive,
                                                       SysS to_inclusive, std::int64_t offset,
                                                       std::int64_t limit) override;
    Result<bool> consent_active(const Ean18& klant) override;
    Result<std::optional<ApiClient>> client(const std::string& name) override;
    Result<std::vector<ApiClient>> clients() override;
    Result<std::vector<ApiSecret>> valid_secrets(const std::string& name, SysS at) override;
    Status update_secret_hash(std::int64_t secret_id, const std::string& hash) override;
    Status append_audit(const std::vector<AuditRecord>& records) override;
    Result<StoreStats> stats() override;
    /// A counter every ingest and every change of consent or credentials increments.
    Result<std::int64_t> data_version() override;

    // -- AccessAdmin ---------------------------------------------------------------------
    Status record_consent(const Ean18& klant, bool granted, SysS at,
                          const std::string& actor) override;
    Result<std::vector<ConsentEvent>> consent_history(const Ean18* klant) override;
    Status add_client(const std::string& name, Role role, const std::string& secret_hash,
                      SysS at) override;
    Status rotate_secret(const std::string& name, const std::string& secret_hash, SysS at,
                         SysS old_expire_at) override;
    Status revoke_client(const std::string& name, SysS at) override;

    /// Runs SQL as it is (tests, benchmarks); throws on error.
    void exec_for_test(const std::string& sql);

  private:
    explicit PgStore(std::string conninfo);
    struct Conn;  ///< the libpqxx connection
    Conn& conn();
    Status migrate();
    void ensure_month_partitions(void* tx, const std::set<long long>& months);
    template <class F>
    auto guard(const char* what, F&& fn) -> decltype(fn());

    std::string conninfo_;
    std::unique_ptr<Conn> conn_;
    std::set<long long> known_months_;  ///< months (days since epoch of the 1st) with a partition
};

}  // namespace gw
