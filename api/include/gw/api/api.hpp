// The grid operator's pull API (SPEC 3) as a function from request to response.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gw/api/auth.hpp"
#include "gw/api/http.hpp"
#include "gw/core/clock.hpp"
#include "gw/core/config.hpp"
#include "gw/core/log.hpp"
#include "gw/core/store_api.hpp"
#include "gw/drivers/latency.hpp"
#include "gw/drivers/link_state.hpp"
#include "gw/drivers/sample.hpp"

namespace gw {

/// What the running daemon knows beyond the store (link states, counters, MQTT), for
/// /api/v1/status and /api/v1/meters/{ean}. Supplied by the daemon; the API does not know it.
struct MeterLive {
    std::string meter_ean;
    LinkState link_state = LinkState::unknown;
    /// The end of its oldest closed interval still held in memory (the store is failing):
    /// buckets from there on are not final yet.
    std::optional<SysS> oldest_uncommitted;
    std::optional<SysMs> last_success;
    std::optional<std::string> last_error;
    std::vector<std::pair<std::string, std::uint64_t>> counters;
    std::optional<Sample> sample;  ///< the latest valid sample
    /// The open interval as it builds up: its end, and the time and net active power (W) of
    /// each sample in it so far.
    std::optional<SysS> open_end;
    std::vector<std::pair<SysMs, double>> open_points;
    LatencyHistogram latency;                                       ///< Modbus request durations
    std::uint64_t committed_gemeten = 0, committed_onvolledig = 0;  ///< intervals since start
};
struct GatewayLive {
    SysMs started_at;
    bool clock_trusted = true;
    std::string clock_status;
    std::vector<MeterLive> meters;
    std::string mqtt_state = "disabled";  ///< disabled | connecting | connected | disconnected
    std::string mqtt_error;               ///< why it is disconnected (empty otherwise)
    std::uint64_t mqtt_publishes = 0;     ///< messages handed to the broker since start
    std::size_t pending_commits = 0;      ///< closed intervals held in memory, not yet committed
    std::size_t pending_limit = 0;
    std::uint64_t pending_dropped = 0;
    std::string storage_state =
        "ok";  ///< ok | failing (commits fail) | unavailable (the data file cannot be opened)
    std::string storage_error;  ///< why (empty when ok)
    std::string tls_certificate;
    std::optional<SysS> tls_not_after;
    /// The Modbus TCP server's counters ([modbus_server]; empty when it is off): answers by
    /// kind (latest_poll, passed_through, written, exception), stale (0x0B answers),
    /// connections, bad_frames, evicted.
    std::map<std::string, std::uint64_t> modbus_server;
};
using LiveFn = std::function<GatewayLive()>;

namespace detail {
class HashWorker;
}

struct ApiOptions {
    /// PBKDF2 strength of login decoys and of re-hashed weak secrets; tests lower it for speed.
    int hash_iterations = k_hash_iterations;
    /// Called when the commissioning page asks for live values (GET /api/v1/live): the daemon
    /// then reads the per-phase powers for a while.
    std::function<void()> on_watch;
};

/// Request handling for every endpoint: authentication, rate limits, parameters, consent,
/// paging, JSON and CSV, errors with correlation ids, and an audit row per data access and
/// per failed login.
///
/// Thread-safety: none; runs on the daemon's io thread with the daemon's Store (password
/// hashing, in handle_async, runs on a worker thread and comes back through `post`).
/// Never throws: an unexpected failure is a 500 with a correlation id.
class Api {
  public:
    static constexpr std::int64_t k_default_page = 10'000;
    static constexpr std::int64_t k_max_page = 10'000;
    static constexpr int k_max_window_days = 93;
    /// Logins whose password check may wait at once; more get 429.
    static constexpr std::size_t k_max_pending_logins = 16;

    using Reply = std::function<void(http::Response)>;
    /// Runs a function on the Api's thread (asio::post to its io_context).
    using Post = std::function<void(std::function<void()>)>;

    Api(const Config& config, ApiStore& store, const Clock& clock, std::string version, LiveFn live,
        ApiOptions options = {});
    ~Api();

    /// Answers at once; a password check runs on the calling thread (tests, tools).
    http::Response handle(const http::Request& request);
    /// Answers through `reply`, possibly later: a password check runs on a worker thread and
    /// the answer is completed through `post`, so the calling thread never blocks on it.
    void handle_async(const http::Request& request, Reply reply, const Post& post);

    /// The daemon committed or pruned intervals: cached responses are stale. (Changes made by
    /// other processes are noticed through the store's data_version.)
    void data_changed() { ++generation_; }
    /// Writes the audit rows collected since the last flush, in one transaction. Rows are
    /// collected for at most a second (or 256 rows), so that a busy API does not fsync per
    /// request; the daemon also calls this every second and at shutdown.
    void flush_audit();

    /// The gateway's metrics in the Prometheus text format (GET /metrics, and the loopback
    /// listener of [api] metrics_listen).
    std::string metrics_text();

    /// The OpenAPI 3 document, generated from the same tables the handlers validate with.
    const std::string& openapi() const { return openapi_; }
    /// The same document without a running Api: for `meter-gateway --openapi` and for tools that
    /// generate a client or lint it.
    static std::string openapi_document(const std::string& version);

    struct Window;    ///< validated window parameters (metingen, meterstanden)
    struct Ctx;       ///< one request's state
    struct Endpoint;  ///< a row of the routing table
    /// Every endpoint: the router dispatches on it and the OpenAPI document describes it.
    static const std::vector<Endpoint>& endpoints();

  private:
    std::variant<http::Response, Verification> respond(const http::Request& request);
    std::optional<http::Response> check_access(Ctx& ctx, const Window& w);
    http::Response route(Ctx& ctx);
    http::Response token(Ctx& ctx);
    http::Response meters(Ctx& ctx);
    http::Response meter_details(Ctx& ctx);
    http::Response healthz(Ctx& ctx);
    http::Response openapi_json(Ctx& ctx);
    http::Response metingen(Ctx& ctx);
    http::Response meterstanden(Ctx& ctx);
    http::Response status(Ctx& ctx);
    http::Response live(Ctx& ctx);
    http::Response page(Ctx& ctx);
    http::Response metrics(Ctx& ctx);
    http::Response consent_put(Ctx& ctx);
    http::Response consent_delete(Ctx& ctx);
    http::Response set_consent(Ctx& ctx, bool granted);
    void count_request(const char* route, int status);
    std::optional<http::Response> authorize(Ctx& ctx, bool data_call);
    void audit_failed_login(Ctx& ctx, const AuthResult& a, int status);
    http::Response error(Ctx& ctx, int status, const std::string& code, const std::string& message);
    void audit(Ctx& ctx, int status);
    void log_request(const Ctx& ctx, int status);

    const Config& config_;
    ApiStore& store_;
    const Clock& clock_;
    std::string version_;
    LiveFn live_;
    Authenticator auth_;
    std::string openapi_;
    std::function<void()> on_watch_;
    bool warned_no_clients_ = false;
    /// Answers since start by endpoint path ("" for none) and status, for the metrics.
    std::map<std::pair<std::string, int>, std::uint64_t> requests_;

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

    /// Failed logins are audited, but a flood must not fill the disk: at most this many rows a
    /// minute per address and in all; the rest are counted in one summary row.
    struct FailureBudget {
        SteadyMs window_start{};
        std::map<std::string, int> per_address;
        int total = 0;
        std::uint64_t suppressed = 0;
    } failure_budget_;
    /// Error responses are logged one line each up to a budget a minute, then summarised.
    struct LogBudget {
        SteadyMs window_start{};
        int lines = 0;
        std::uint64_t suppressed = 0;
    } log_budget_;
    log::Summary failed_logins_{log::Level::warn, "api", "failed logins"};
    std::size_t pending_logins_ = 0;
    std::unique_ptr<detail::HashWorker> worker_;
};

}  // namespace gw
