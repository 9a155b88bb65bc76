// Beast HTTPS sessions.
#include "gw/https_server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include "gw/api.hpp"
#include "gw/log.hpp"

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    if (e == 0) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

}  // namespace

Status configure_tls(asio::ssl::context& ctx, const std::string& cert_file, const std::string& key_file) {
    SSL_CTX* c = ctx.native_handle();
    ERR_clear_error();
    // Mozilla "intermediate": TLS 1.2 and 1.3, forward-secret AEAD ciphers only.
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    if (SSL_CTX_set_cipher_list(c, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                   "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                   "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                                   "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305") != 1 ||
        SSL_CTX_set1_groups_list(c, "X25519:prime256v1:secp384r1") != 1)
        return make_error(Errc::config_invalid, "cannot set the TLS cipher list: " + openssl_error());
    if (SSL_CTX_use_certificate_chain_file(c, cert_file.c_str()) != 1)
        return make_error(Errc::config_invalid,
                          "api.tls_cert \"" + cert_file + "\": cannot load a PEM certificate: " + openssl_error());
    if (SSL_CTX_use_PrivateKey_file(c, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        const std::string why = openssl_error();
        if (why.find("key values mismatch") != std::string::npos)
            return make_error(Errc::config_invalid, "api.tls_key \"" + key_file +
                                                        "\" does not belong to the certificate in \"" + cert_file + "\"");
        return make_error(Errc::config_invalid, "api.tls_key \"" + key_file + "\": cannot load a PEM private key: " + why);
    }
    if (SSL_CTX_check_private_key(c) != 1)
        return make_error(Errc::config_invalid, "api.tls_key \"" + key_file + "\" does not belong to the certificate in \"" +
                                                    cert_file + "\": " + openssl_error());
    return {};
}

namespace {

/// One connection: TLS handshake, then requests until close, each read with a deadline.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, asio::ssl::context& tls, const HttpsServer::Handler& handler, const HttpsLimits& limits,
            std::shared_ptr<int> active)
        : stream_(std::move(socket), tls), handler_(handler), limits_(limits), active_(std::move(active)) {
        ++*active_;
        beast::error_code ec;
        const auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
        remote_ = ec ? "unknown" : ep.address().to_string();
    }
    ~Session() { --*active_; }

    void run() {
        beast::get_lowest_layer(stream_).expires_after(limits_.handshake_timeout);
        stream_.async_handshake(asio::ssl::stream_base::server,
                                beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
    }

private:
    void on_handshake(beast::error_code ec) {
        if (ec) {
            // Plain HTTP or garbage on the TLS port, or a client that gave up: nothing to answer.
            log::debug("api", "TLS handshake with ", remote_, " failed: ", ec.message());
            return;
        }
        do_read(limits_.read_timeout);
    }

    void do_read(std::chrono::seconds timeout) {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(limits_.max_target + limits_.max_header_bytes + 1024));
        parser_->body_limit(limits_.max_body);
        buffer_.consume(buffer_.size());
        beast::get_lowest_layer(stream_).expires_after(timeout);
        bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == bhttp::error::end_of_stream || ec == asio::ssl::error::stream_truncated) return do_close();
        if (ec == beast::error::timeout) return;  // slow or idle client: drop it
        if (ec == bhttp::error::header_limit) return reply_error(431, "headers_too_large", "request headers are too large");
        if (ec == bhttp::error::body_limit) return reply_error(413, "payload_too_large", "request body is too large");
        if (ec) {
            // Any other parser error is a malformed request; transport errors just end the session.
            if (ec.category() == beast::error_code(bhttp::error::bad_target).category())
                return reply_error(400, "bad_request", "malformed HTTP request: " + ec.message());
            return;
        }
        const auto& req = parser_->get();
        std::size_t header_bytes = 0;
        for (const auto& f : req) header_bytes += f.name_string().size() + f.value().size() + 4;
        if (req.target().size() > limits_.max_target)
            return reply_error(414, "uri_too_long", "the URL is longer than " + std::to_string(limits_.max_target) + " bytes");
        if (header_bytes > limits_.max_header_bytes)
            return reply_error(431, "headers_too_large",
                               "request headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes");
        http::Request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.authorization = std::string(req[bhttp::field::authorization]);
        r.correlation_id = std::string(req["X-Correlation-ID"]);
        r.remote = remote_;
        keep_alive_ = req.keep_alive();
        head_ = req.method() == bhttp::verb::head;
        send(handler_(r));
    }

    void reply_error(int status, const char* code, const std::string& message) {
        // Refused before the request logic: still a JSON error with a correlation id.
        const std::string corr = make_uuid();
        http::Response r;
        r.status = status;
        r.body = std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"" + message +
                 "\",\"correlation_id\":\"" + corr + "\"}}";
        r.set("X-Correlation-ID", corr);
        log::info("api", "request from ", remote_, " refused: ", status, " ", message, " [", corr, "]");
        keep_alive_ = false;
        send(r);
    }

    void send(const http::Response& r) {
        // A span over the body: a cached body is shared, never copied per request.
        body_keepalive_ = r.shared_body ? r.shared_body : std::make_shared<const std::string>(r.body);
        using Body = bhttp::span_body<const char>;
        auto res = std::make_shared<bhttp::response<Body>>(static_cast<bhttp::status>(r.status), 11);
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
        beast::get_lowest_layer(stream_).expires_after(limits_.read_timeout);
        bhttp::async_write(stream_, *res, beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        response_.reset();
        body_keepalive_.reset();
        if (ec) return;
        if (!keep_alive_) return do_close();
        do_read(limits_.idle_timeout);
    }

    void do_close() {
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds{2});
        stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
    }

    beast::ssl_stream<beast::tcp_stream> stream_;
    const HttpsServer::Handler& handler_;
    const HttpsLimits& limits_;
    std::shared_ptr<int> active_;
    std::string remote_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::shared_ptr<void> response_;
    std::shared_ptr<const std::string> body_keepalive_;
    bool keep_alive_ = false;
    bool head_ = false;
};

}  // namespace

HttpsServer::HttpsServer(asio::io_context& io, Handler handler, HttpsLimits limits)
    : io_(io), tls_(asio::ssl::context::tls_server), acceptor_(io), handler_(std::move(handler)), limits_(limits) {}

HttpsServer::~HttpsServer() { stop(); }

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(asio::io_context& io, const ApiConfig& config, Handler handler,
                                                       HttpsLimits limits) {
    limits.max_connections = config.max_connections;
    std::unique_ptr<HttpsServer> s(new HttpsServer(io, std::move(handler), limits));
    if (Status st = configure_tls(s->tls_, config.tls_cert, config.tls_key); !st) return st.error();
    beast::error_code ec;
    const auto address = asio::ip::make_address(config.listen_host, ec);
    if (ec) return make_error(Errc::config_invalid, "api.listen: \"" + config.listen_host + "\" is not an IP address");
    const tcp::endpoint ep{address, config.listen_port};
    s->acceptor_.open(ep.protocol(), ec);
    if (!ec) s->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) s->acceptor_.bind(ep, ec);
    if (!ec) s->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return make_error(Errc::config_invalid, "api.listen " + config.listen_host + ":" + std::to_string(config.listen_port) +
                                                    ": " + ec.message());
    log::info("api", "HTTPS pull API listening on ", config.listen_host, ":", s->port());
    s->accept();
    return s;
}

std::uint16_t HttpsServer::port() const {
    beast::error_code ec;
    return acceptor_.local_endpoint(ec).port();
}

void HttpsServer::stop() {
    beast::error_code ec;
    acceptor_.close(ec);
}

void HttpsServer::accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            if (*active_ >= limits_.max_connections) {
                log::warn("api", "connection limit of ", limits_.max_connections, " reached; refusing a connection");
                beast::error_code ignored;
                socket.close(ignored);
            } else {
                // Responses go out as header and body writes: without this, Nagle and delayed
                // ACKs add ~40 ms to every keep-alive request.
                beast::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                std::make_shared<Session>(std::move(socket), tls_, handler_, limits_, active_)->run();
            }
        }
        accept();
    });
}

}  // namespace gw
