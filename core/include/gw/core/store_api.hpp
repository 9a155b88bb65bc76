// What the layers above the store read and write through: the pull API (ApiStore) and the MQTT
// forwarder (Outbox). The gateway's SQLite store implements both; the fleet head-end's
// PostgreSQL store implements ApiStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gw/core/ean.hpp"
#include "gw/core/error.hpp"
#include "gw/core/records.hpp"
#include "gw/core/time.hpp"

namespace gw {

/// The data the pull API serves, the credentials and consent it checks, and the little it
/// writes (audit rows, a re-hashed secret).
///
/// Thread-safety: as the implementation says; the API uses one from one thread.
/// Errors: Status/Result with gw::Errc::store_* codes; the API answers them with 503.
class ApiStore {
  public:
    virtual ~ApiStore() = default;

    /// Intervals of one meter with `from < end <= to`, ascending, paged.
    virtual Result<std::vector<IntervalRecord>> intervals(const Ean18& meter, SysS from_exclusive,
                                                          SysS to_inclusive, std::int64_t offset,
                                                          std::int64_t limit) = 0;
    /// End of the newest stored interval of a meter (none yet: nullopt).
    virtual Result<std::optional<SysS>> latest_end(const Ean18& meter) = 0;
    /// Energy readings of one meter with `from < at <= to`, ascending, paged.
    virtual Result<std::vector<EnergyReading>> energy_readings(const Ean18& meter,
                                                               SysS from_exclusive,
                                                               SysS to_inclusive,
                                                               std::int64_t offset,
                                                               std::int64_t limit) = 0;
    /// Whether the latest consent event of a customer grants access.
    virtual Result<bool> consent_active(const Ean18& klant) = 0;
    /// Appends a consent event (the admin API's PUT and DELETE).
    virtual Status record_consent(const Ean18& klant, bool granted, SysS at,
                                  const std::string& actor) = 0;

    virtual Result<std::optional<ApiClient>> client(const std::string& name) = 0;
    virtual Result<std::vector<ApiClient>> clients() = 0;
    /// Secrets still valid at `at` (not expired; the client not revoked), newest first.
    virtual Result<std::vector<ApiSecret>> valid_secrets(const std::string& name, SysS at) = 0;
    /// Replaces a secret's hash by a stronger one of the same secret (re-hashing at login).
    virtual Status update_secret_hash(std::int64_t secret_id, const std::string& hash) = 0;

    /// Several audit rows in one transaction.
    virtual Status append_audit(const std::vector<AuditRecord>& records) = 0;
    virtual Result<StoreStats> stats() = 0;
    /// Changes whenever another connection commits: with the caller's own write counter it
    /// tells whether anything read earlier may be stale (the API's response cache).
    virtual Result<std::int64_t> data_version() = 0;
};

/// API clients and consent as the admin tools manage them (gatewayctl, headendctl, the admin
/// API). The gateway's SQLite store and the head-end's PostgreSQL store implement it.
class AccessAdmin {
  public:
    virtual ~AccessAdmin() = default;
    virtual Status record_consent(const Ean18& klant, bool granted, SysS at,
                                  const std::string& actor) = 0;
    virtual Result<bool> consent_active(const Ean18& klant) = 0;
    /// History, oldest first; all customers when `klant` is null.
    virtual Result<std::vector<ConsentEvent>> consent_history(const Ean18* klant) = 0;
    virtual Status add_client(const std::string& name, Role role, const std::string& secret_hash,
                              SysS at) = 0;
    /// Adds a new secret; unexpired secrets expire at `old_expire_at` (rotation overlap).
    virtual Status rotate_secret(const std::string& name, const std::string& secret_hash, SysS at,
                                 SysS old_expire_at) = 0;
    virtual Status revoke_client(const std::string& name, SysS at) = 0;
    virtual Result<std::vector<ApiClient>> clients() = 0;
    virtual Result<std::vector<ApiSecret>> valid_secrets(const std::string& name, SysS at) = 0;
};

/// The MQTT outbox: committed intervals waiting for the broker's acknowledgement.
///
/// Thread-safety: as the implementation says; the forwarder uses one from one thread.
class Outbox {
  public:
    virtual ~Outbox() = default;
    /// Queued intervals, oldest first (ties by meter), at most `limit`.
    virtual Result<std::vector<IntervalRecord>> pending_forward(std::int64_t limit) = 0;
    /// Marks acknowledged intervals forwarded, in one transaction.
    virtual Status mark_forwarded(const std::vector<IntervalKey>& keys, SysMs at) = 0;
    /// Queues the stored intervals of `meter` with an end in (from, to] again (a backfill):
    /// they go out once more, oldest first, with their own payload. Returns how many.
    virtual Result<std::int64_t> requeue_forward(const Ean18& meter, SysS from, SysS to) = 0;
    virtual Status append_event(const EventRecord& event) = 0;
};

}  // namespace gw
