// The grid operator's pull API (SPEC 3) as a function from request to response.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gw/auth.hpp"
#include "gw/clock.hpp"
#include "gw/config.hpp"
#include "gw/http.hpp"
#include "gw/store.hpp"

namespace gw {

/// What the running daemon knows beyond the store (link states, counters, MQTT), for
/// /api/v1/status and /api/v1/meters/{ean}. Supplied by the daemon; the API does not know it.
struct MeterLive {
    std::string meter_ean;
    std::optional<bool> link_up;
    std::optional<SysMs> last_success;
    std::optional<std::string> last_error;
    std::vector<std::pair<std::string, std::uint64_t>> counters;
};
struct GatewayLive {
    SysMs started_at;
    bool clock_trusted = true;
    std::string clock_status;
    std::vector<MeterLive> meters;
    std::string mqtt_state = "disabled";
    std::size_t pending_commits = 0;
};
using LiveFn = std::function<GatewayLive()>;

/// Request handling for every endpoint: authentication, rate limits, parameters, consent,
/// paging, JSON and CSV, errors with correlation ids, and an audit row per data access.
///
/// Thread-safety: none; runs on the daemon's io thread with the daemon's Store.
/// Never throws: an unexpected failure is a 500 with a correlation id.
class Api {
public:
    static constexpr std::int64_t k_default_page = 10'000;
    static constexpr std::int64_t k_max_page = 10'000;
    static constexpr int k_max_window_days = 93;

    Api(const Config& config, Store& store, const Clock& clock, std::string version, LiveFn live);

    http::Response handle(const http::Request& request);

    /// The daemon committed or pruned intervals: cached responses are stale. (Changes made by
    /// other processes are noticed through the store's data_version.)
    void data_changed() { ++generation_; }
    /// Writes the audit rows collected since the last flush, in one transaction. Rows are
    /// collected for at most a second (or 256 rows), so that a busy API does not fsync per
    /// request; the daemon also calls this every second and at shutdown.
    void flush_audit();

    /// The OpenAPI 3 document, generated from the same tables the handlers validate with.
    const std::string& openapi() const { return openapi_; }

    struct Window;  ///< validated window parameters (metingen, meterstanden)

private:
    struct Ctx;
    std::optional<http::Response> check_access(Ctx& ctx, const Window& w);
    http::Response route(Ctx& ctx);
    http::Response token(Ctx& ctx);
    http::Response meters(Ctx& ctx);
    http::Response meter_details(Ctx& ctx, std::string_view ean);
    http::Response metingen(Ctx& ctx);
    http::Response meterstanden(Ctx& ctx);
    http::Response status(Ctx& ctx);
    std::optional<http::Response> authorize(Ctx& ctx, bool data_call);
    http::Response error(Ctx& ctx, int status, std::string code, std::string message);
    void audit(Ctx& ctx, int status);

    const Config& config_;
    Store& store_;
    const Clock& clock_;
    std::string version_;
    LiveFn live_;
    Authenticator auth_;
    std::string openapi_;
    bool warned_no_clients_ = false;

    /// Closed intervals never change, so a data response can be served again until the data
    /// changes: keyed by the request target, valid for one (generation, data_version).
    struct Cached {
        std::uint64_t generation;
        std::int64_t data_version;
        http::Response response;
        std::int64_t rows;
        std::uint64_t used;
    };
    std::optional<http::Response> cached(Ctx& ctx);
    http::Response remember(Ctx& ctx, http::Response r);
    std::map<std::string, Cached> cache_;
    std::size_t cache_bytes_ = 0;
    std::uint64_t generation_ = 0;
    std::uint64_t cache_clock_ = 0;
    std::vector<AuditRecord> audit_pending_;
    SteadyMs audit_oldest_{};
};

/// A random UUID v4, for correlation ids.
std::string make_uuid();

}  // namespace gw
