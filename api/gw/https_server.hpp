// The HTTPS listener: TLS 1.2/1.3 with Mozilla's "intermediate" settings, one Beast session per
// connection, timeouts and size limits on everything. The request logic is a plain function.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>

#include "gw/config.hpp"
#include "gw/error.hpp"
#include "gw/http.hpp"

namespace gw {

/// Limits of one connection; tests shrink the timeouts.
struct HttpsLimits {
    std::size_t max_target = 4096;          ///< longer URL: 414
    std::size_t max_header_bytes = 8192;    ///< more header bytes: 431
    std::size_t max_body = 4096;            ///< larger body: 413
    std::chrono::seconds handshake_timeout{10};
    std::chrono::seconds read_timeout{15};  ///< a request must arrive within this
    std::chrono::seconds idle_timeout{30};  ///< keep-alive wait for the next request
    int max_connections = 32;
};

/// Thread-safety: runs on the io_context it was started on (one thread). Never blocks: the
/// handler must not block either (the API reads SQLite, which takes microseconds).
class HttpsServer {
public:
    using Handler = std::function<http::Response(const http::Request&)>;

    /// Loads the certificate and key (clear errors if missing, unreadable or not a pair),
    /// binds and starts accepting.
    static Result<std::unique_ptr<HttpsServer>> start(boost::asio::io_context& io, const ApiConfig& config,
                                                      Handler handler, HttpsLimits limits = {});
    ~HttpsServer();

    std::uint16_t port() const;
    void stop();
    int active_connections() const { return *active_; }

private:
    HttpsServer(boost::asio::io_context& io, Handler handler, HttpsLimits limits);
    void accept();

    boost::asio::io_context& io_;
    boost::asio::ssl::context tls_;
    boost::asio::ip::tcp::acceptor acceptor_;
    Handler handler_;
    HttpsLimits limits_;
    std::shared_ptr<int> active_ = std::make_shared<int>(0);
};

/// Creates the server's TLS context from PEM files (exposed for tests of the error messages).
Status configure_tls(boost::asio::ssl::context& ctx, const std::string& cert_file, const std::string& key_file);

}  // namespace gw
