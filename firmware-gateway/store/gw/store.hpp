// The SQLite store: intervals, energy readings, master data, consent, API credentials, audit.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gw/config.hpp"
#include "gw/ean.hpp"
#include "gw/error.hpp"
#include "gw/time.hpp"

struct sqlite3;

namespace gw {

enum class Quality : std::uint8_t { gemeten, onvolledig };
std::string_view quality_name(Quality q);

/// Interval flags (bit set).
inline constexpr std::uint32_t k_flag_cross_check = 1u << 0;  ///< sampled power disagrees with energy delta

/// One closed interval of one meter. Values are interval means in canonical units
/// (W, var, V) after sign, CT/VT and averaging, and before rounding: rounding is done
/// where the value is served, so 15/60-minute means are computed from exact parts.
struct IntervalRecord {
    Ean18 meter_ean;
    SysS end;  ///< end stamp: the interval covers [end - interval_s, end)
    int interval_s = 300;
    std::optional<double> p_w, q_var, u1_v, u2_v, u3_v;
    Quality quality = Quality::gemeten;
    int samples = 0;
    double coverage = 0;  ///< 0..1
    std::uint32_t flags = 0;
};

/// Energy register values (canonical Wh/varh, after sign and ratios) at an interval end.
struct EnergyReading {
    Ean18 meter_ean;
    SysS at;
    std::optional<double> e_import_wh, e_export_wh, eq_import_varh, eq_export_varh;
};

/// An event recorded with an interval or on its own (link state, cross-check, store recreated).
struct EventRecord {
    SysMs at;
    std::string meter_ean;  ///< empty for gateway-wide events
    std::string kind;
    std::string detail;
};

struct ConsentEvent {
    std::int64_t id = 0;
    Ean18 klant_ean;
    bool granted = false;
    SysS at;
    std::string actor;
};

enum class Role : std::uint8_t { reader, admin };
std::string_view role_name(Role r);

struct ApiClient {
    std::string name;
    Role role = Role::reader;
    SysS created_at;
    std::optional<SysS> revoked_at;
};

struct ApiSecret {
    std::int64_t id = 0;
    std::string client;
    std::string hash;  ///< self-describing slow hash ("pbkdf2-sha256$iter$salt$hash"); never the secret
    SysS created_at;
    std::optional<SysS> expires_at;
};

struct AuditRecord {
    SysMs at;
    std::string client;
    std::string correlation_id;
    std::string method;
    std::string path;
    std::string klant_ean;
    std::string meter_ean;
    std::optional<SysS> window_start, window_end;
    std::int64_t rows = 0;
    int status = 0;
};

struct StoreStats {
    int schema_version = 0;
    std::int64_t intervals = 0;
    std::int64_t pending_forward = 0;
    std::optional<SysS> oldest_interval, newest_interval, oldest_pending;
    std::int64_t file_bytes = 0;
};

struct OpenOptions {
    /// Create the file (and its schema) when it does not exist.
    bool create = true;
    /// A file that fails `PRAGMA quick_check` is renamed aside ("<path>.damaged-<UTC>") and a
    /// fresh store is created, with a loud error log and an event row saying so. Off: the open
    /// fails and the file stays where it is (what the admin CLI wants).
    bool move_damaged_aside = false;
};

/// A connection to the gateway's SQLite file.
///
/// Thread-safety: none. One Store belongs to one thread; another thread or process
/// (the admin CLI) opens its own Store on the same file. Writes wait up to 5 s for
/// another writer (busy timeout).
///
/// Errors: every method returns Status/Result; codes are gw::Errc::store_*.
/// Durability: WAL with synchronous=FULL, so a committed transaction survives a power cut.
class Store {
public:
    static constexpr int k_schema_version = 2;

    /// Opens (and creates or migrates) the store. A file that is not an SQLite database,
    /// belongs to another application, has a newer schema or is read-only is refused
    /// without being modified.
    static Result<std::unique_ptr<Store>> open(const std::string& path, const OpenOptions& options = {});

    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::string& path() const { return path_; }
    int schema_version() const;

    // -- master data --------------------------------------------------------------------
    /// Upserts customers and meters of the configuration (data of removed meters is kept).
    Status sync_master_data(const Config& config, SysS now);

    // -- intervals ----------------------------------------------------------------------
    /// One transaction: the interval (upsert keyed by meter and end), its energy reading,
    /// its outbox mark (`forward` = queue it for MQTT) and its events. All or nothing.
    Status commit_interval(const IntervalRecord& interval, const EnergyReading* energy, bool forward,
                           const std::vector<EventRecord>& events, SysMs committed_at);

    /// Intervals of one meter with `from < end <= to`, ascending, paged.
    Result<std::vector<IntervalRecord>> intervals(const Ean18& meter, SysS from_exclusive, SysS to_inclusive,
                                                  std::int64_t offset, std::int64_t limit);
    Result<std::int64_t> count_intervals(const Ean18& meter, SysS from_exclusive, SysS to_inclusive);
    /// The newest `n` intervals of a meter, newest first.
    Result<std::vector<IntervalRecord>> latest_intervals(const Ean18& meter, std::int64_t n);
    /// End of the newest stored interval of a meter (none yet: nullopt).
    Result<std::optional<SysS>> latest_end(const Ean18& meter);
    Result<std::vector<EnergyReading>> energy_readings(const Ean18& meter, SysS from_exclusive, SysS to_inclusive,
                                                       std::int64_t offset, std::int64_t limit);

    // -- MQTT outbox ----------------------------------------------------------------------
    /// Queued intervals, oldest first (ties by meter), at most `limit`.
    Result<std::vector<IntervalRecord>> pending_forward(std::int64_t limit);
    Status mark_forwarded(const Ean18& meter, SysS end, SysMs at);

    // -- events --------------------------------------------------------------------------
    Status append_event(const EventRecord& event);
    Result<std::vector<EventRecord>> recent_events(std::int64_t limit);

    // -- consent -------------------------------------------------------------------------
    Status record_consent(const Ean18& klant, bool granted, SysS at, const std::string& actor);
    Result<bool> consent_active(const Ean18& klant);
    /// History, oldest first; all customers when `klant` is null.
    Result<std::vector<ConsentEvent>> consent_history(const Ean18* klant);

    // -- API credentials -------------------------------------------------------------------
    Status add_client(const std::string& name, Role role, const std::string& secret_hash, SysS at);
    /// Adds a new secret; existing unexpired secrets expire at `old_expire_at` (rotation overlap).
    Status rotate_secret(const std::string& name, const std::string& secret_hash, SysS at, SysS old_expire_at);
    Status revoke_client(const std::string& name, SysS at);
    Result<std::optional<ApiClient>> client(const std::string& name);
    Result<std::vector<ApiClient>> clients();
    /// Secrets still valid at `at` (not expired; the client not revoked).
    Result<std::vector<ApiSecret>> valid_secrets(const std::string& name, SysS at);

    // -- audit ---------------------------------------------------------------------------
    Status append_audit(const AuditRecord& record);
    /// Several audit rows in one transaction (one fsync).
    Status append_audit(const std::vector<AuditRecord>& records);
    Result<std::vector<AuditRecord>> recent_audit(std::int64_t limit);

    // -- upkeep --------------------------------------------------------------------------
    /// Deletes at most `batch` rows older than `cutoff` from each time-keyed table, in one
    /// short transaction. Returns how many rows went; call again until it returns 0, giving
    /// writers their turn in between.
    Result<std::int64_t> prune_batch(SysS cutoff, std::int64_t batch);
    Result<StoreStats> stats();
    /// `PRAGMA integrity_check`: "ok" or the problems found.
    Result<std::string> integrity_check();
    /// Changes whenever another connection (another process: the admin CLI, the daemon) commits;
    /// with the caller's own write counter it tells whether anything read earlier may be stale.
    Result<std::int64_t> data_version();
    /// The value of a read-only PRAGMA of this connection (journal_mode, synchronous, ...), for diagnostics.
    Result<std::string> pragma(std::string_view name);

    class Statement;

private:
    explicit Store(std::string path);
    Status init(const OpenOptions& options);
    Status migrate();
    Statement& stmt(int id, const char* sql);
    Status exec(const char* sql);
    Error sql_error(const std::string& what) const;

    std::string path_;
    sqlite3* db_ = nullptr;
    std::vector<std::unique_ptr<Statement>> statements_;
};

}  // namespace gw
