// The SQLite store: intervals, energy readings, master data, consent, API credentials, audit.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gw/core/config.hpp"
#include "gw/core/ean.hpp"
#include "gw/core/error.hpp"
#include "gw/core/records.hpp"
#include "gw/core/store_api.hpp"
#include "gw/core/time.hpp"

namespace gw::sql {
class Db;
}

namespace gw {

struct OpenOptions {
    /// Create the files (and their schema) when they do not exist.
    bool create = true;
    /// A file with proven damage (SQLITE_CORRUPT, SQLITE_NOTADB, or `quick_check` rows other
    /// than "ok") is renamed aside ("<path>.damaged-<UTC>") and a fresh one is created, with a
    /// loud error log and an event row saying so; rows that can still be read from a damaged
    /// access file are copied into the new one. Off: the open fails and the file stays where
    /// it is (what the admin CLI wants). Nothing else (a full disk, an I/O error, a read-only
    /// file system, a lock) ever counts as damage.
    bool move_damaged_aside = false;
    /// A data file that cannot be opened for a reason other than damage does not fail the
    /// open: the store starts without it, every data call fails with that error, and
    /// reopen_data() tries again. (The daemon, which keeps polling meanwhile.)
    bool allow_unavailable = false;
    /// How long a call waits for another connection's lock (the admin CLI's, the daemon's).
    int busy_timeout_ms = 5000;
};

/// The gateway's store: two SQLite files.
///
/// - The data file (`storage.path`; WAL, synchronous=FULL) holds intervals, energy readings,
///   the MQTT outbox, events, the audit log and the open interval's carried state.
/// - The access file (access_path_for(path); rollback journal, synchronous=FULL) holds API
///   clients, secret hashes and the consent history. It is written only by the admin CLI, so
///   it stays readable on a full disk and damage to the busy data file cannot reach it.
///
/// Thread-safety: none. One Store belongs to one thread; another thread or process (the admin
/// CLI) opens its own Store on the same files. Writes wait up to 5 s for another writer.
///
/// Errors: every method returns Status/Result; codes are gw::Errc::store_*.
/// Durability: a committed transaction survives a power cut.
class Store final : public ApiStore, public Outbox, public AccessAdmin {
  public:
    static constexpr int k_schema_version = 3;
    static constexpr int k_access_schema_version = 1;

    /// "/var/lib/x/gateway.db" -> "/var/lib/x/gateway-access.db".
    static std::string access_path_for(const std::string& data_path);

    /// Opens (and creates or migrates) both files. A file that is not an SQLite database,
    /// belongs to another application, has a newer schema or is read-only is refused
    /// without being modified.
    static Result<std::unique_ptr<Store>> open(const std::string& path,
                                               const OpenOptions& options = {});

    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::string& path() const { return path_; }
    const std::string& access_path() const { return access_path_; }
    int schema_version() const;

    // -- availability (OpenOptions::allow_unavailable) -----------------------------------
    bool data_available() const;
    /// Why the data file is not open; nullopt when it is.
    const std::optional<Error>& data_error() const { return data_error_; }
    /// Tries to open the data file again; ok when it is open (again).
    Status reopen_data();

    // -- master data --------------------------------------------------------------------
    /// Upserts customers and meters of the configuration (data of removed meters is kept).
    Status sync_master_data(const Config& config, SysS now);

    // -- intervals ----------------------------------------------------------------------
    /// One transaction: the interval, its energy reading, its outbox mark (`forward` = queue
    /// it for MQTT) and its events. All or nothing. A stored interval is final: when one with
    /// this key exists already, nothing is written and the result is false (the first values
    /// stay, so an MQTT `id` always carries the same values).
    Result<bool> commit_interval(const IntervalRecord& interval, const EnergyReading* energy,
                                 bool forward, const std::vector<EventRecord>& events,
                                 SysMs committed_at);

    /// Intervals of one meter with `from < end <= to`, ascending, paged.
    Result<std::vector<IntervalRecord>> intervals(const Ean18& meter, SysS from_exclusive,
                                                  SysS to_inclusive, std::int64_t offset,
                                                  std::int64_t limit) override;
    Result<std::int64_t> count_intervals(const Ean18& meter, SysS from_exclusive,
                                         SysS to_inclusive);
    /// The newest `n` intervals of a meter, newest first.
    Result<std::vector<IntervalRecord>> latest_intervals(const Ean18& meter, std::int64_t n);
    /// End of the newest stored interval of a meter (none yet: nullopt).
    Result<std::optional<SysS>> latest_end(const Ean18& meter) override;
    Result<std::vector<EnergyReading>> energy_readings(const Ean18& meter, SysS from_exclusive,
                                                       SysS to_inclusive, std::int64_t offset,
                                                       std::int64_t limit) override;

    // -- the open interval at a clean stop --------------------------------------------------
    /// Replaces the carried state with `records` (one per meter).
    Status save_carry(const std::vector<CarryRecord>& records);
    /// Reads and removes every carried state, in one transaction.
    Result<std::vector<CarryRecord>> take_carry();

    // -- MQTT outbox ----------------------------------------------------------------------
    /// Queued intervals, oldest first (ties by meter), at most `limit`.
    Result<std::vector<IntervalRecord>> pending_forward(std::int64_t limit) override;
    /// Marks acknowledged intervals forwarded, in one transaction.
    Status mark_forwarded(const std::vector<IntervalKey>& keys, SysMs at) override;
    Result<std::int64_t> requeue_forward(const Ean18& meter, SysS from, SysS to) override;

    // -- events --------------------------------------------------------------------------
    Status append_event(const EventRecord& event) override;
    Result<std::vector<EventRecord>> recent_events(std::int64_t limit);

    // -- consent (access file) ---------------------------------------------------------------
    Status record_consent(const Ean18& klant, bool granted, SysS at,
                          const std::string& actor) override;
    Result<bool> consent_active(const Ean18& klant) override;
    /// History, oldest first; all customers when `klant` is null.
    Result<std::vector<ConsentEvent>> consent_history(const Ean18* klant) override;

    // -- API credentials (access file) -------------------------------------------------------
    Status add_client(const std::string& name, Role role, const std::string& secret_hash,
                      SysS at) override;
    /// Adds a new secret; existing unexpired secrets expire at `old_expire_at` (rotation overlap).
    Status rotate_secret(const std::string& name, const std::string& secret_hash, SysS at,
                         SysS old_expire_at) override;
    Status revoke_client(const std::string& name, SysS at) override;
    Result<std::optional<ApiClient>> client(const std::string& name) override;
    Result<std::vector<ApiClient>> clients() override;
    /// Secrets still valid at `at` (not expired; the client not revoked).
    Result<std::vector<ApiSecret>> valid_secrets(const std::string& name, SysS at) override;
    /// Replaces a secret's hash by a stronger one of the same secret (re-hashing at login).
    Status update_secret_hash(std::int64_t secret_id, const std::string& hash) override;

    // -- audit ---------------------------------------------------------------------------
    Status append_audit(const AuditRecord& record);
    /// Several audit rows in one transaction (one fsync).
    Status append_audit(const std::vector<AuditRecord>& records) override;
    Result<std::vector<AuditRecord>> recent_audit(std::int64_t limit);

    // -- upkeep --------------------------------------------------------------------------
    /// Deletes at most `batch` rows older than `cutoff` from each time-keyed table, in one
    /// short transaction. Returns how many rows went; call again until it returns 0, giving
    /// writers their turn in between.
    Result<std::int64_t> prune_batch(SysS cutoff, std::int64_t batch);
    /// Copies the write-ahead log into the data file (without waiting for readers), so that
    /// the log restarts small: called after each round of interval commits.
    Status checkpoint();
    Result<StoreStats> stats() override;
    /// `PRAGMA integrity_check` of both files: "ok" or the problems found.
    Result<std::string> integrity_check();
    /// Changes whenever another connection (another process: the admin CLI, the daemon) commits
    /// to either file; with the caller's own write counter it tells whether anything read
    /// earlier may be stale.
    Result<std::int64_t> data_version() override;
    /// The value of a read-only PRAGMA of the data connection (journal_mode, synchronous, ...),
    /// or of the access connection with the prefix "access." ("access.journal_mode").
    Result<std::string> pragma(std::string_view name);

  private:
    Store(std::string path, OpenOptions options);
    Status open_access();
    Status open_data();
    Status check_data_ready() const;
    Status append_event_row(const EventRecord& event);

    std::string path_, access_path_;
    OpenOptions options_;
    std::unique_ptr<sql::Db> data_, access_;
    std::optional<Error> data_error_;
    std::vector<EventRecord>
        open_events_;  ///< events of the open itself, written once the data file is open
};

}  // namespace gw
