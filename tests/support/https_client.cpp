// Blocking HTTPS client on Beast.
#include "https_client.hpp"

#include <openssl/evp.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace gw::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono;

std::string basic_auth(const std::string& user, const std::string& password) {
    const std::string raw = user + ":" + password;
    std::string out(4 * ((raw.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                    reinterpret_cast<const unsigned char*>(raw.data()),
                    static_cast<int>(raw.size()));
    return "Basic " + out;
}

HttpsReply https_request(int port, const std::string& target, const std::string& user,
                         const std::string& password, const std::string& from,
                         const std::string& method, milliseconds timeout) {
    HttpsReply r;
    const auto t0 = steady_clock::now();
    try {
        asio::io_context io;
        asio::ssl::context tls(asio::ssl::context::tls_client);
        tls.set_verify_mode(asio::ssl::verify_none);
        beast::ssl_stream<beast::tcp_stream> stream(io, tls);
        auto& sock = beast::get_lowest_layer(stream).socket();
        sock.open(tcp::v4());
        sock.bind(tcp::endpoint(asio::ip::make_address(from), 0));
        beast::get_lowest_layer(stream).expires_after(timeout);
        beast::get_lowest_layer(stream).connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(port)));
        stream.handshake(asio::ssl::stream_base::client);
        bhttp::request<bhttp::empty_body> req{bhttp::string_to_verb(method), target, 11};
        req.set(bhttp::field::host, "localhost");
        if (!user.empty()) req.set(bhttp::field::authorization, basic_auth(user, password));
        bhttp::write(stream, req);
        beast::flat_buffer buf;
        bhttp::response<bhttp::string_body> res;
        bhttp::read(stream, buf, res);
        r.status = static_cast<int>(res.result_int());
        for (const auto& f : res) r.headers[std::string(f.name_string())] = std::string(f.value());
        r.body = res.body();
    } catch (const std::exception& e) {
        r.error = e.what();
    }
    r.took = duration_cast<milliseconds>(steady_clock::now() - t0);
    return r;
}

}  // namespace gw::test
