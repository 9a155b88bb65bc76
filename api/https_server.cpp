// Beast HTTPS sessions, and the bounds that keep one client from denying the API to others.
#include "gw/api/https_server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <ctime>
#include <list>
#include <unordered_map>

#include "gw/core/log.hpp"
#include "gw/core/text.hpp"

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono;

namespace {

std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    if (e == 0) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

SteadyMs steady_now() {
    return time_point_cast<milliseconds>(steady_clock::now());
}

}  // namespace

HttpsLimits HttpsLimits::from(const ApiConfig& c) {
    HttpsLimits l;
    l.max_connections = c.max_connections;
    l.max_connections_per_address = c.max_connections_per_address;
    l.handshake_timeout = seconds{c.handshake_timeout_s};
    l.request_timeout = seconds{c.request_timeout_s};
    l.idle_timeout = seconds{c.keepalive_timeout_s};
    return l;
}

Status configure_tls(asio::ssl::context& ctx, const std::string& cert_file,
                     const std::string& key_file) {
    SSL_CTX* c = ctx.native_handle();
    ERR_clear_error();
    // Mozilla "intermediate": TLS 1.2 and 1.3, forward-secret AEAD ciphers only.
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(
        c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    if (SSL_CTX_set_cipher_list(
            c,
            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
            "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305") != 1 ||
        SSL_CTX_set1_groups_list(c, "X25519:prime256v1:secp384r1") != 1)
        return make_error(Errc::config_invalid,
                          "cannot set the TLS cipher list: " + openssl_error());
    if (SSL_CTX_use_certificate_chain_file(c, cert_file.c_str()) != 1)
        return make_error(Errc::config_invalid,
                          "api.tls_cert \"" + cert_file +
                              "\": cannot load a PEM certificate: " + openssl_error());
    if (SSL_CTX_use_PrivateKey_file(c, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        const std::string why = openssl_error();
        if (why.find("key values mismatch") != std::string::npos)
            return make_error(Errc::config_invalid,
                              "api.tls_key \"" + key_file +
                                  "\" does not belong to the certificate in \"" + cert_file + "\"");
        return make_error(Errc::config_invalid, "api.tls_key \"" + key_file +
                                                    "\": cannot load a PEM private key: " + why);
    }
    if (SSL_CTX_check_private_key(c) != 1)
        return make_error(Errc::config_invalid, "api.tls_key \"" + key_file +
                                                    "\" does not belong to the certificate in \"" +
                                                    cert_file + "\": " + openssl_error());
    return {};
}

std::optional<SysS> certificate_not_after(asio::ssl::context& ctx) {
    X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
    if (cert == nullptr) return std::nullopt;
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return std::nullopt;
    // Civil date to seconds without timegm(): time_t is 32 bits on armhf, and certificates
    // often run past 2038.
    using namespace std::chrono;
    const sys_days day = year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
                         std::chrono::day{static_cast<unsigned>(tm.tm_mday)};
    return SysS{day} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

namespace detail {

class Session;

/// What every session of one listener shares: the handler, the limits, who is connected from
/// where, and the summarised logging of refusals and timeouts.
struct Registry {
    HttpsServer::AsyncHandler handler;
    HttpsLimits limits;
    std::list<Session*> sessions;
    std::unordered_map<std::string, int> per_address;
    log::Summary refused_per_address{log::Level::warn, "api",
                                     "connections refused: too many from one address"};
    log::Summary evicted{
        log::Level::warn, "api",
        "idle connections closed to admit new ones: the connection limit is reached"};
    log::Summary refused_full{log::Level::warn, "api",
                              "connections refused: every connection is busy"};
    log::Summary slow{log::Level::info, "api",
                      "connections closed: a request did not arrive in time"};
    log::Summary handshakes{log::Level::info, "api", "TLS handshakes failed or timed out"};
    log::Summary rejected{log::Level::info, "api",
                          "requests refused before the API (size, Host, malformed)"};

    void flush(SteadyMs now) {
        for (auto* s :
             {&refused_per_address, &evicted, &refused_full, &slow, &handshakes, &rejected})
            s->flush(now);
    }
    /// Decides on a new connection from `remote`; closes the longest-idle one when full.
    bool admit(const std::string& remote);
};

/// One connection: TLS handshake, then requests until close, each with a deadline.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket&& socket, asio::ssl::context& tls, std::shared_ptr<Registry> registry,
            std::string remote)
        : stream_(std::move(socket), tls),
          registry_(std::move(registry)),
          remote_(std::move(remote)) {
        registry_->sessions.push_back(this);
        self_in_registry_ = std::prev(registry_->sessions.end());
        ++registry_->per_address[remote_];
        idle_since_ = steady_now();
    }
    ~Session() {
        registry_->sessions.erase(self_in_registry_);
        if (--registry_->per_address[remote_] <= 0) registry_->per_address.erase(remote_);
    }

    void run() {
        phase_ = Phase::handshake;
        beast::get_lowest_layer(stream_).expires_after(registry_->limits.handshake_timeout);
        stream_.async_handshake(
            asio::ssl::stream_base::server,
            beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
    }

    /// Closes the connection from outside (eviction); pending operations end with an error.
    void close() {
        phase_ = Phase::closed;
        beast::get_lowest_layer(stream_).close();
    }
    /// Waiting for a handshake or a request, without one in progress: it may be evicted.
    bool idle() const { return phase_ == Phase::handshake || phase_ == Phase::waiting; }
    SteadyMs idle_since() const { return idle_since_; }

  private:
    enum class Phase { handshake, waiting, reading, handling, writing, closed };

    void on_handshake(beast::error_code ec) {
        if (ec) {
            // Plain HTTP or garbage on the TLS port, a client that gave up, or a slow one.
            if (phase_ != Phase::closed)
                registry_->handshakes.note(steady_now(), remote_ + ": " + ec.message());
            return;
        }
        next_request(true);
    }

    void next_request(bool first) {
        parser_.emplace();
        const auto& l = registry_->limits;
        parser_->header_limit(static_cast<std::uint32_t>(l.max_target + l.max_header_bytes + 1024));
        parser_->body_limit(l.max_body);
        phase_ = Phase::waiting;
        idle_since_ = steady_now();
        if (buffer_.size() > 0) return read_rest();  // a pipelined request is here already
        // The first request must follow the handshake promptly; later ones may idle a while.
        beast::get_lowest_layer(stream_).expires_after(first ? l.request_timeout : l.idle_timeout);
        bhttp::async_read_some(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
    }

    void on_first_bytes(beast::error_code ec, std::size_t) {
        if (ec) return on_error(ec);
        if (parser_->is_done()) return on_request();
        read_rest();
    }

    void read_rest() {
        phase_ = Phase::reading;
        beast::get_lowest_layer(stream_).expires_after(registry_->limits.request_timeout);
        bhttp::async_read(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return on_error(ec);
        on_request();
    }

    void on_error(beast::error_code ec) {
        if (phase_ == Phase::closed) return;
        if (ec == bhttp::error::end_of_stream || ec == asio::ssl::error::stream_truncated)
            return do_close();
        if (ec == beast::error::timeout) {
            // An idle keep-alive connection ends quietly; a request that trickles in is a slow
            // client.
            if (phase_ == Phase::reading) registry_->slow.note(steady_now(), remote_);
            return;
        }
        if (ec == bhttp::error::header_limit) {
            // The parser gives up before the header is whole: a request line that has not ended
            // within the URL limit is a long URL (414), anything else too many headers (431).
            const std::string_view got(static_cast<const char*>(buffer_.data().data()),
                                       buffer_.size());
            const auto eol = got.find("\r\n");
            if (eol == std::string_view::npos || eol > registry_->limits.max_target + 32)
                return reply_error(414, "uri_too_long",
                                   "the URL is longer than " +
                                       std::to_string(registry_->limits.max_target) + " bytes");
            return reply_error(431, "headers_too_large", "request headers are too large");
        }
        if (ec == bhttp::error::body_limit)
            return reply_error(413, "payload_too_large", "request body is too large");
        // Any other parser error is a malformed request; transport errors just end the session.
        if (ec.category() == beast::error_code(bhttp::error::bad_target).category())
            return reply_error(400, "bad_request", "malformed HTTP request: " + ec.message());
    }

    void on_request() {
        phase_ = Phase::handling;
        const auto& req = parser_->get();
        const auto& l = registry_->limits;
        keep_alive_ = req.keep_alive();
        head_ = req.method() == bhttp::verb::head;
        std::size_t header_bytes = 0;
        for (const auto& f : req) header_bytes += f.name_string().size() + f.value().size() + 4;
        if (req.target().size() > l.max_target)
            return reply_error(414, "uri_too_long",
                               "the URL is longer than " + std::to_string(l.max_target) + " bytes");
        if (header_bytes > l.max_header_bytes)
            return reply_error(
                431, "headers_too_large",
                "request headers exceed " + std::to_string(l.max_header_bytes) + " bytes");
        if (req.version() >= 11 && req.find(bhttp::field::host) == req.end())
            return reply_error(400, "bad_request",
                               "the request has no Host header, which HTTP/1.1 requires");
        http::Request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.authorization = std::string(req[bhttp::field::authorization]);
        r.correlation_id = std::string(req["X-Correlation-ID"]);
        r.remote = remote_;
        registry_->handler(r, [self = shared_from_this()](const http::Response& response) {
            self->send(response);
        });
    }

    void reply_error(int status, const char* code, const std::string& message) {
        // Refused before the request logic: still a JSON error with a correlation id.
        const std::string corr = http::make_correlation_id();
        http::Response r = http::error_response(status, code, message, corr);
        r.set("X-Correlation-ID", corr);
        registry_->rejected.note(steady_now(), remote_ + ": " + std::to_string(status) + " " +
                                                   message + " [" + corr + "]");
        keep_alive_ = false;
        send(r);
    }

    void send(const http::Response& r) {
        if (phase_ == Phase::closed) return;
        phase_ = Phase::writing;
        // A span over the body: a cached body is shared, never copied per request.
        body_keepalive_ =
            r.shared_body ? r.shared_body : std::make_shared<const std::string>(r.body);
        using Body = bhttp::span_body<const char>;
        auto res =
            std::make_shared<bhttp::response<Body>>(static_cast<bhttp::status>(r.status), 11);
        res->set(bhttp::field::server, "meter-gateway");
        res->set(bhttp::field::content_type, r.content_type);
        res->set(bhttp::field::strict_transport_security, "max-age=31536000");
        res->set("X-Content-Type-Options", "nosniff");
        if (r.no_store) res->set(bhttp::field::cache_control, "no-store");
        for (const auto& [k, v] : r.headers) res->set(k, v);
        res->keep_alive(keep_alive_);
        if (head_) {
            res->content_length(body_keepalive_->size());
        } else {
            res->body() = Body::value_type(body_keepalive_->data(), body_keepalive_->size());
            res->prepare_payload();
        }
        response_ = res;
        beast::get_lowest_layer(stream_).expires_after(registry_->limits.write_timeout);
        bhttp::async_write(stream_, *res,
                           beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        response_.reset();
        body_keepalive_.reset();
        if (ec || phase_ == Phase::closed) return;
        if (!keep_alive_) return do_close();
        next_request(false);
    }

    void do_close() {
        phase_ = Phase::closed;
        beast::get_lowest_layer(stream_).expires_after(seconds{2});
        stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
    }

    beast::ssl_stream<beast::tcp_stream> stream_;
    std::shared_ptr<Registry> registry_;
    std::list<Session*>::iterator self_in_registry_;
    std::string remote_;
    Phase phase_ = Phase::handshake;
    SteadyMs idle_since_{};
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::shared_ptr<void> response_;
    std::shared_ptr<const std::string> body_keepalive_;
    bool keep_alive_ = false;
    bool head_ = false;
};

bool Registry::admit(const std::string& remote) {
    const auto it = per_address.find(remote);
    if (it != per_address.end() && it->second >= limits.max_connections_per_address) {
        refused_per_address.note(steady_now(),
                                 remote + " has " + std::to_string(it->second) + " (limit " +
                                     std::to_string(limits.max_connections_per_address) + ")");
        return false;
    }
    if (static_cast<int>(sessions.size()) < limits.max_connections) return true;
    Session* victim = nullptr;
    for (Session* s : sessions)
        if (s->idle() && (victim == nullptr || s->idle_since() < victim->idle_since())) victim = s;
    if (victim == nullptr) {
        refused_full.note(steady_now(),
                          remote + " (limit " + std::to_string(limits.max_connections) + ")");
        return false;
    }
    victim->close();
    evicted.note(steady_now(),
                 "limit " + std::to_string(limits.max_connections) + ", admitting " + remote);
    return true;
}

}  // namespace detail

HttpsServer::HttpsServer(asio::io_context& io, AsyncHandler handler, HttpsLimits limits)
    : io_(io),
      tls_(asio::ssl::context::tls_server),
      acceptor_(io),
      summary_timer_(io),
      registry_(std::make_shared<detail::Registry>()) {
    registry_->handler = std::move(handler);
    registry_->limits = limits;
}

HttpsServer::~HttpsServer() {
    stop();
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(asio::io_context& io,
                                                        const ApiConfig& config, Handler handler,
                                                        HttpsLimits limits) {
    return start_async(
        io, config,
        [h = std::move(handler)](const http::Request& r, const Reply& reply) { reply(h(r)); },
        limits);
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(asio::io_context& io,
                                                        const ApiConfig& config, Handler handler) {
    return start(io, config, std::move(handler), HttpsLimits::from(config));
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::start_async(asio::io_context& io,
                                                              const ApiConfig& config,
                                                              AsyncHandler handler,
                                                              HttpsLimits limits) {
    std::unique_ptr<HttpsServer> s(new HttpsServer(io, std::move(handler), limits));
    if (Status st = configure_tls(s->tls_, config.tls_cert, config.tls_key); !st) return st.error();
    s->not_after_ = gw::certificate_not_after(s->tls_);
    beast::error_code ec;
    const auto address = asio::ip::make_address(config.listen_host, ec);
    if (ec)
        return make_error(Errc::config_invalid,
                          "api.listen: \"" + config.listen_host + "\" is not an IP address");
    const tcp::endpoint ep{address, config.listen_port};
    s->acceptor_.open(ep.protocol(), ec);
    if (!ec) s->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) s->acceptor_.bind(ep, ec);
    if (!ec) s->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return make_error(Errc::config_invalid, "api.listen " + config.listen_host + ":" +
                                                    std::to_string(config.listen_port) + ": " +
                                                    ec.message());
    log::info("api", "HTTPS pull API listening on ", config.listen_host, ":", s->port(),
              " (at most ", limits.max_connections, " connections, ",
              limits.max_connections_per_address, " per address)");
    s->accept();
    s->schedule_summaries();
    return s;
}

std::uint16_t HttpsServer::port() const {
    beast::error_code ec;
    return acceptor_.local_endpoint(ec).port();
}

int HttpsServer::active_connections() const {
    return static_cast<int>(registry_->sessions.size());
}

void HttpsServer::stop() {
    beast::error_code ec;
    acceptor_.close(ec);
    summary_timer_.cancel();
}

void HttpsServer::schedule_summaries() {
    summary_timer_.expires_after(seconds{10});
    summary_timer_.async_wait([this](beast::error_code ec) {
        if (ec || !acceptor_.is_open()) return;
        registry_->flush(steady_now());
        schedule_summaries();
    });
}

void HttpsServer::accept() {
    acceptor_.async_accept(io_, [this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            beast::error_code ignored;
            const auto ep = socket.remote_endpoint(ignored);
            std::string remote = ignored ? "unknown" : ep.address().to_string();
            if (!registry_->admit(remote)) {
                socket.close(ignored);
            } else {
                // Responses go out as header and body writes: without this, Nagle and delayed
                // ACKs add ~40 ms to every keep-alive request.
                socket.set_option(tcp::no_delay(true), ignored);
                std::make_shared<detail::Session>(std::move(socket), tls_, registry_,
                                                  std::move(remote))
                    ->run();
            }
        }
        accept();
    });
}

}  // namespace gw
