// The HTTPS listener: TLS 1.2/1.3 with Mozilla's "intermediate" settings, one Beast session per
// connection, timeouts and size limits on everything. The request logic is a plain function.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "gw/api/http.hpp"
#include "gw/core/config.hpp"
#include "gw/core/error.hpp"
#include "gw/core/time.hpp"

namespace gw {

/// Limits of the listener and of one connection; tests shrink the timeouts.
struct HttpsLimits {
    std::size_t max_target = 4096;                        ///< longer URL: 414
    std::size_t max_header_bytes = 8192;                  ///< more header bytes: 431
    std::size_t max_body = 4096;                          ///< larger body: 413
    std::chrono::milliseconds handshake_timeout{10'000};  ///< TLS handshake after accept
    std::chrono::milliseconds request_timeout{
        10'000};  ///< a whole request, once its first byte came (slowloris)
    std::chrono::milliseconds idle_timeout{30'000};   ///< keep-alive wait for the next request
    std::chrono::milliseconds write_timeout{30'000};  ///< a whole response
    int max_connections = 32;             ///< in total; when full, the longest-idle one is closed
    int max_connections_per_address = 8;  ///< from one source address; more are refused

    /// The limits of `[api]` (the rest keep their defaults).
    static HttpsLimits from(const ApiConfig& config);
};

namespace detail {
struct Registry;
}

/// Thread-safety: runs on the io_context it was started on (one thread). Never blocks: the
/// handler must not block either (the API reads SQLite, which takes microseconds; slow work
/// such as password hashing runs elsewhere and answers through the reply callback).
class HttpsServer {
  public:
    /// A request in, a response out, at once.
    using Handler = std::function<http::Response(const http::Request&)>;
    /// Answers through `reply`, exactly once, on the io_context's thread; possibly later.
    using Reply = std::function<void(http::Response)>;
    using AsyncHandler = std::function<void(const http::Request&, Reply)>;

    /// Loads the certificate and key (clear errors if missing, unreadable or not a pair),
    /// binds and starts accepting.
    static Result<std::unique_ptr<HttpsServer>> start(boost::asio::io_context& io,
                                                      const ApiConfig& config, Handler handler,
                                                      HttpsLimits limits);
    static Result<std::unique_ptr<HttpsServer>> start(boost::asio::io_context& io,
                                                      const ApiConfig& config, Handler handler);
    static Result<std::unique_ptr<HttpsServer>> start_async(boost::asio::io_context& io,
                                                            const ApiConfig& config,
                                                            AsyncHandler handler,
                                                            HttpsLimits limits);
    ~HttpsServer();

    std::uint16_t port() const;
    void stop();
    int active_connections() const;
    /// The server certificate's notAfter.
    std::optional<SysS> certificate_not_after() const { return not_after_; }

  private:
    HttpsServer(boost::asio::io_context& io, AsyncHandler handler, HttpsLimits limits);
    void accept();
    void schedule_summaries();

    boost::asio::io_context& io_;
    boost::asio::ssl::context tls_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer summary_timer_;
    std::shared_ptr<detail::Registry> registry_;
    std::optional<SysS> not_after_;
};

/// Creates the server's TLS context from PEM files (exposed for tests of the error messages).
Status configure_tls(boost::asio::ssl::context& ctx, const std::string& cert_file,
                     const std::string& key_file);
/// The notAfter of the certificate a TLS context serves.
std::optional<SysS> certificate_not_after(boost::asio::ssl::context& ctx);

}  // namespace gw
