// The records every layer passes around: intervals, energy readings, the open interval's
// carried state, events, consent, API clients and secrets, audit rows, store figures.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gw/core/ean.hpp"
#include "gw/core/time.hpp"

namespace gw {

enum class Quality : std::uint8_t { gemeten, onvolledig };
std::string_view quality_name(Quality q);

/// Interval flags (bit set).
inline constexpr std::uint32_t k_flag_cross_check =
    1u << 0;  ///< sampled power disagrees with energy delta

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

    /// Same key and the same stored values (what an MQTT `id` promises).
    bool same_values(const IntervalRecord& o) const;
};

/// The key of a stored interval (and of its MQTT `id`).
struct IntervalKey {
    Ean18 meter_ean;
    SysS end;
    friend bool operator==(const IntervalKey&, const IntervalKey&) = default;
    friend auto operator<=>(const IntervalKey&, const IntervalKey&) = default;
};

/// Energy register values (canonical Wh/varh, after sign and ratios) at an interval end.
struct EnergyReading {
    Ean18 meter_ean;
    SysS at;
    std::optional<double> e_import_wh, e_export_wh, eq_import_varh, eq_export_varh;
};

/// The open interval's accumulated state, kept aside at a clean stop so that the next start
/// can continue it. It is never data: not served, not published, not counted as stored.
struct CarryRecord {
    Ean18 meter_ean;
    SysS end;  ///< the open interval's end stamp
    int interval_s = 300;
    SysMs saved_at;
    std::int64_t held_ms = 0;  ///< sample-held time inside the interval so far
    int samples = 0;
    double p_ws = 0, q_ws = 0;  ///< value x held milliseconds
    std::array<double, 3> u_ws{};
    /// The energy reading the interval starts from, where the meter has energy registers.
    std::optional<SysMs> start_at;
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

/// reader: the grid operator's data calls. installer: the commissioning page, live values and
/// metrics, no measurement data through the pull API. admin: what installer may, and the status.
enum class Role : std::uint8_t { reader, admin, installer };
std::string_view role_name(Role r);
/// The role of that name ("reader", "installer", "admin").
std::optional<Role> parse_role(std::string_view name);

struct ApiClient {
    std::string name;
    Role role = Role::reader;
    SysS created_at;
    std::optional<SysS> revoked_at;
};

struct ApiSecret {
    std::int64_t id = 0;
    std::string client;
    std::string
        hash;  ///< self-describing slow hash ("pbkdf2-sha256$iter$salt$hash"); never the secret
    SysS created_at;
    std::optional<SysS> expires_at;
};

struct AuditRecord {
    SysMs at;
    std::string client;  ///< a known client's name; never a string that failed as a credential
    std::string correlation_id;
    std::string method;
    std::string path;
    std::string klant_ean;
    std::string meter_ean;
    std::optional<SysS> window_start, window_end;
    std::int64_t rows = 0;
    int status = 0;
    std::string detail;  ///< why, where the status alone does not say (a failed login's reason)
};

struct StoreStats {
    int schema_version = 0;
    std::int64_t intervals = 0;
    std::int64_t pending_forward = 0;
    std::optional<SysS> oldest_interval, newest_interval, oldest_pending;
    std::int64_t file_bytes = 0;  ///< both files with their journals
    std::int64_t wal_bytes = 0;   ///< the data file's write-ahead log
};

}  // namespace gw
