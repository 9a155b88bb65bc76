#include "gw/api/metrics_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gw/core/log.hpp"

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono;

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
    Impl(asio::io_context& io, Text t) : acceptor(io), text(std::move(t)) {}
    tcp::acceptor acceptor;
    Text text;
    int connections = 0;
    bool stopped = false;

    void accept() {
        acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket s) {
            if (self->stopped || ec == asio::error::operation_aborted) return;
            if (!ec) {
                if (self->connections >= k_max_connections) {
                    beast::error_code ignored;
                    s.close(ignored);
                } else {
                    serve(self, std::move(s));
                }
            }
            self->accept();
        });
    }

    /// One request per connection, within 5 s; then the connection closes.
    static void serve(const std::shared_ptr<Impl>& self, tcp::socket socket) {
        struct Conn {
            explicit Conn(tcp::socket s) : stream(std::move(s)) {}
            beast::tcp_stream stream;
            beast::flat_buffer buffer{8192};
            bhttp::request_parser<bhttp::empty_body> parser;
            bhttp::response<bhttp::string_body> res;
        };
        auto c = std::make_shared<Conn>(std::move(socket));
        ++self->connections;
        c->parser.header_limit(8192);
        c->stream.expires_after(seconds{5});
        bhttp::async_read(
            c->stream, c->buffer, c->parser, [self, c](beast::error_code ec, std::size_t) {
                if (ec) {
                    --self->connections;
                    return;
                }
                const auto& req = c->parser.get();
                c->res.version(11);
                c->res.keep_alive(false);
                c->res.set(bhttp::field::server, "meter-gateway");
                c->res.set(bhttp::field::cache_control, "no-store");
                const std::string_view target(req.target().data(), req.target().size());
                const bool get =
                    req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
                if (target != "/metrics") {
                    c->res.result(bhttp::status::not_found);
                    c->res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
                    c->res.body() = "only /metrics is served here\n";
                } else if (!get) {
                    c->res.result(bhttp::status::method_not_allowed);
                    c->res.set(bhttp::field::allow, "GET");
                    c->res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
                    c->res.body() = "use GET\n";
                } else {
                    c->res.result(bhttp::status::ok);
                    c->res.set(bhttp::field::content_type,
                               "text/plain; version=0.0.4; charset=utf-8");
                    if (req.method() == bhttp::verb::get) c->res.body() = self->text();
                }
                c->res.prepare_payload();
                bhttp::async_write(c->stream, c->res, [self, c](beast::error_code, std::size_t) {
                    beast::error_code ignored;
                    c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
                    --self->connections;
                });
            });
    }
};

MetricsServer::MetricsServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
    stop();
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(asio::io_context& io,
                                                            const std::string& host,
                                                            std::uint16_t port, Text text) {
    auto impl = std::make_shared<Impl>(io, std::move(text));
    beast::error_code ec;
    const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec)
        return make_error(Errc::config_invalid,
                          "api.metrics_listen: \"" + host + "\" is not an IP address");
    const tcp::endpoint ep(address, port);
    impl->acceptor.open(ep.protocol(), ec);
    if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(ep, ec);
    if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return make_error(Errc::config_invalid, "api.metrics_listen: cannot listen on " + host +
                                                    ":" + std::to_string(port) + ": " +
                                                    ec.message());
    impl->accept();
    log::info("api", "metrics on http://", host, ":", impl->acceptor.local_endpoint().port(),
              "/metrics (loopback, no login)");
    return std::unique_ptr<MetricsServer>(new MetricsServer(impl));
}

std::uint16_t MetricsServer::port() const {
    beast::error_code ec;
    const auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void MetricsServer::stop() {
    if (!impl_ || impl_->stopped) return;
    impl_->stopped = true;
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
}

}  // namespace gw
