// The pull API's request handling: correlation ids, authentication, audit, error responses.
#include "gw/api/api.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "gw/core/log.hpp"
#include "gw/core/text.hpp"
#include "params.hpp"

namespace gw {

using namespace std::chrono;

namespace detail {

/// One thread for the password checks, so that a slow hash on a small board never stalls the
/// io thread (PBKDF2 at 600,000 iterations takes about 0.13 s on a desktop core, seconds on a
/// Cortex-A53).
class HashWorker {
  public:
    HashWorker() : thread_([this] { run(); }) {}
    ~HashWorker() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    void submit(std::function<void()> job) {
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back(std::move(job));
        }
        cv_.notify_one();
    }

  private:
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            auto job = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            job();
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace detail

namespace {
constexpr int k_failed_login_rows_per_address = 10;  // a minute
constexpr int k_failed_login_rows = 60;              // a minute, all addresses
constexpr int k_error_log_lines = 60;                // a minute
}  // namespace

Api::Api(const Config& config, ApiStore& store, const Clock& clock, std::string version,
         LiveFn live, ApiOptions options)
    : config_(config),
      store_(store),
      clock_(clock),
      version_(std::move(version)),
      live_(std::move(live)),
      auth_(store, clock,
            Authenticator::Limits{20, 5, seconds{60}, config.api.rate_limit_per_minute,
                                  seconds{config.api.token_lifetime_s}, seconds{900},
                                  options.hash_iterations}),
      openapi_(openapi_document(version_)),
      on_watch_(std::move(options.on_watch)) {}

std::string Api::openapi_document(const std::string& version) {
    return api::openapi_document(version, endpoints());
}

Api::~Api() = default;

// Every error answer carries one of these codes, a message for people, and the correlation id
// of its log line.
const std::vector<api::ErrorCode> api::k_error_codes{
    {400, "invalid_parameter", "a parameter is missing, unknown, repeated, empty or invalid"},
    {400, "bad_request", "the HTTP request is malformed (the server refuses it before routing)"},
    {401, "unauthorized", "no credentials, wrong ones, or an invalid or expired token"},
    {403, "forbidden", "the client's role may not make this call"},
    {403, "no_consent", "the customer has no active consent"},
    {404, "not_found", "no such endpoint, or the customer or meter is not on this gateway"},
    {405, "method_not_allowed", "the path takes another method (see Allow)"},
    {413, "payload_too_large", "a request body over the limit"},
    {414, "uri_too_long", "a URL over the limit"},
    {429, "too_many_requests", "the rate limit or login throttling (see Retry-After)"},
    {431, "headers_too_large", "request headers over the limit"},
    {500, "internal", "a defect; the correlation id finds its log line"},
    {503, "storage_unavailable", "the gateway's storage cannot be read; try again later"},
};

http::Response Api::error(Ctx& ctx, int status, const std::string& code,
                          const std::string& message) {
    http::Response r = http::error_response(status, code, message, ctx.corr);
    if (status >= 500)
        log::error("api", ctx.req.method, " ", log_safe(ctx.req.target), " -> ", status, " ",
                   message, " [", ctx.corr, "]");
    return r;
}

void Api::audit(Ctx& ctx, int status) {
    if (!ctx.who || ctx.audited) return;
    ctx.audited = true;
    ctx.audit.at = clock_.utc_now();
    ctx.audit.client = ctx.who->client;
    ctx.audit.correlation_id = ctx.corr;
    ctx.audit.method = ctx.req.method;
    ctx.audit.path = ctx.req.target.substr(0, 1024);
    ctx.audit.status = status;
    if (audit_pending_.empty()) audit_oldest_ = clock_.steady_now();
    audit_pending_.push_back(std::move(ctx.audit));
    if (audit_pending_.size() >= 256 || clock_.steady_now() - audit_oldest_ >= seconds{1})
        flush_audit();
}

void Api::flush_audit() {
    failed_logins_.flush(clock_.steady_now());
    if (audit_pending_.empty()) return;
    if (Status st = store_.append_audit(audit_pending_); !st) {
        if (audit_pending_.size() < 10'000) return;  // keep them and retry; bounded
        log::error("api", audit_pending_.size(),
                   " audit row(s) dropped: the store cannot write them: ", st.error().message);
    }
    audit_pending_.clear();
}

void Api::audit_failed_login(Ctx& ctx, const AuthResult& a, int status) {
    // A flood of failed logins must not fill the disk: a budget of rows a minute, per address
    // and in all; what goes beyond it is counted in the next row that is written.
    const SteadyMs now = clock_.steady_now();
    FailureBudget& b = failure_budget_;
    if (now - b.window_start >= minutes{1}) {
        b.window_start = now;
        b.per_address.clear();
        b.total = 0;
    }
    int& mine = b.per_address[ctx.req.remote.substr(0, 64)];
    if (mine >= k_failed_login_rows_per_address || b.total >= k_failed_login_rows) {
        ++b.suppressed;
        return;
    }
    ++mine;
    ++b.total;
    AuditRecord row;
    row.at = clock_.utc_now();
    row.client = a.audit_client;  // a known client's name, never what failed as a credential
    row.correlation_id = ctx.corr;
    row.method = ctx.req.method;
    row.path = std::string(http::path_of(ctx.req.target).substr(0, 200));
    row.status = status;
    row.detail = "failed login from " + log_safe(ctx.req.remote, 64) + ": " + a.reason;
    if (b.suppressed > 0) {
        row.detail +=
            "; " + std::to_string(b.suppressed) + " earlier failed login(s) not audited one by one";
        b.suppressed = 0;
    }
    if (audit_pending_.empty()) audit_oldest_ = now;
    audit_pending_.push_back(std::move(row));
}

void Api::log_request(const Ctx& ctx, int status) {
    if (status < 400 || status == 500) {
        log::debug("api", ctx.req.method, " ", log_safe(ctx.req.target), " -> ", status, " [",
                   ctx.corr, "]");
        return;
    }
    // Each refusal gets its line (with its correlation id) up to a budget a minute; a flood of
    // them is summarised instead of filling the journal.
    const SteadyMs now = clock_.steady_now();
    LogBudget& b = log_budget_;
    if (now - b.window_start >= minutes{1}) {
        if (b.suppressed > 0)
            log::info("api", b.suppressed,
                      " more refused request(s) in the last minute were not logged one by one");
        b.window_start = now;
        b.lines = 0;
        b.suppressed = 0;
    }
    if (b.lines >= k_error_log_lines) {
        ++b.suppressed;
        return;
    }
    ++b.lines;
    log::info("api", ctx.req.method, " ", log_safe(ctx.req.target), " -> ", status, " [", ctx.corr,
              "]");
}

std::variant<http::Response, Verification> Api::respond(const http::Request& request) {
    Ctx ctx{request, {}, {}, {}, {}, false, std::nullopt, {}, nullptr};
    // Echo a sane correlation id; otherwise make one, so every answer and log line has one.
    const auto& given = request.correlation_id;
    const bool sane = is_identifier(given, 64);
    ctx.corr = sane ? given : http::make_correlation_id();
    http::Response r;
    try {
        r = route(ctx);
    } catch (const std::exception& e) {
        r = error(ctx, 500, "internal", std::string("internal error: ") + e.what());
    }
    if (ctx.pending) return std::move(*ctx.pending);
    count_request(ctx.route, r.status);
    audit(ctx, r.status);
    r.set("X-Correlation-ID", ctx.corr);
    log_request(ctx, r.status);
    return r;
}

http::Response Api::handle(const http::Request& request) {
    auto out = respond(request);
    if (auto* job = std::get_if<Verification>(&out)) {
        run_verification(*job);
        auth_.finish(std::move(*job));
        out = respond(request);
    }
    if (auto* r = std::get_if<http::Response>(&out)) return std::move(*r);
    // The verdict was consumed by another request meanwhile (cannot happen on one thread).
    return http::error_response(500, "internal", "login check did not complete",
                                http::make_correlation_id());
}

void Api::handle_async(const http::Request& request, Reply reply, const Post& post) {
    auto out = respond(request);
    auto* job = std::get_if<Verification>(&out);
    if (job == nullptr) return reply(std::move(std::get<http::Response>(out)));
    if (pending_logins_ >= k_max_pending_logins) {
        Ctx ctx{request, http::make_correlation_id(), {}, {}, {}, false, std::nullopt, {}, nullptr};
        http::Response r = error(ctx, 429, "too_many_requests",
                                 "too many logins are being checked at once; try again in 1 s");
        r.set("Retry-After", "1");
        r.set("X-Correlation-ID", ctx.corr);
        count_request(nullptr, r.status);
        log_request(ctx, r.status);
        return reply(std::move(r));
    }
    if (!worker_) worker_ = std::make_unique<detail::HashWorker>();
    ++pending_logins_;
    auto shared = std::make_shared<Verification>(std::move(*job));
    worker_->submit(
        [this, shared, request = http::Request(request), reply = std::move(reply), post]() mutable {
            run_verification(*shared);
            post([this, shared, request = std::move(request), reply = std::move(reply)]() {
                --pending_logins_;
                auth_.finish(std::move(*shared));
                reply(handle(request));  // the verdict is there now: no second check
            });
        });
}

std::optional<http::Response> Api::authorize(Ctx& ctx, bool data_call) {
    AuthResult a = auth_.authenticate(ctx.req.authorization, ctx.req.remote);
    if (a.failure == AuthFailure::pending) {
        ctx.pending = std::move(a.verification);
        return http::Response{};
    }
    if (!a.principal) {
        if (a.failure == AuthFailure::no_clients)
            return error(ctx, 503, "storage_unavailable", a.message);
        if (a.failure != AuthFailure::missing) {
            failed_logins_.note(
                clock_.steady_now(),
                "from " + log_safe(ctx.req.remote, 64) +
                    (a.audit_client.empty() ? "" : " as \"" + a.audit_client + "\"") + ": " +
                    a.reason);
        }
        if (a.failure == AuthFailure::throttled) {
            auto r = error(ctx, 429, "too_many_requests", a.message);
            r.set("Retry-After", std::to_string(a.retry_after.count()));
            audit_failed_login(ctx, a, 429);
            return r;
        }
        auto clients = store_.clients();
        if (clients && clients->empty()) {
            if (!warned_no_clients_)
                log::warn("api",
                          "no API client is configured: refusing API calls; create one with "
                          "gatewayctl client add");
            warned_no_clients_ = true;
            a.message = "no API client is configured on this gateway: " + a.message;
        }
        auto r = error(ctx, 401, "unauthorized", a.message);
        // A token that was sent and is not valid gets the Bearer challenge of RFC 6750; all
        // else the Basic one, so that a browser asks for a name and secret.
        const std::string& given = ctx.req.authorization;
        const bool bearer = given.rfind("Bearer ", 0) == 0 || given.rfind("bearer ", 0) == 0;
        if (!bearer)
            r.set("WWW-Authenticate", api::k_basic_challenge);
        else if (a.failure == AuthFailure::expired_token)
            r.set("WWW-Authenticate",
                  "Bearer realm=\"meter-gateway\", error=\"invalid_token\", "
                  "error_description=\"the token has expired\"");
        else
            r.set("WWW-Authenticate",
                  "Bearer realm=\"meter-gateway\", error=\"invalid_token\", "
                  "error_description=\"the token is not valid\"");
        if (a.failure != AuthFailure::missing) audit_failed_login(ctx, a, 401);
        return r;
    }
    ctx.who = a.principal;
    if (auto wait = auth_.rate_limited(ctx.who->client)) {
        auto r = error(ctx, 429, "too_many_requests",
                       "rate limit of " + std::to_string(config_.api.rate_limit_per_minute) +
                           " requests per minute reached");
        r.set("Retry-After", std::to_string(wait->count()));
        return r;
    }
    if (data_call && ctx.who->role != Role::reader)
        return error(
            ctx, 403, "forbidden",
            "role " + std::string(role_name(ctx.who->role)) + " may not read measurement data");
    return std::nullopt;
}

}  // namespace gw
