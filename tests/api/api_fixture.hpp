// The API test fixture: the gateway's API on a real TLS listener over a real SQLite file, a
// manual clock, and a Beast client (from any loopback source address).
#pragma once

#include <doctest/doctest.h>
#include <openssl/ssl.h>
#include <sqlite3.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <future>
#include <iostream>
#include <regex>
#include <set>
#include <thread>

#include "gw/api/api.hpp"
#include "gw/api/https_server.hpp"
#include "gw/api/secret.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/store/store.hpp"
#include "openapi_check.hpp"
#include "site_config.hpp"
#include "temp_dir.hpp"

using namespace std::chrono;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace gw::test::api {

constexpr const char* K1 = "871685900000000011";  // customer with consent
constexpr const char* K2 = "871685900000000042";  // customer without consent
constexpr const char* MA = "871685900000000035";  // K1, overdrachtspunt, has data
constexpr const char* MB = "871685900000000028";  // K1, bruto_productie, no data
constexpr const char* MC = "871685900000000059";  // K2
const gw::SysS k_day{seconds{1'795'392'000}};     // 2026-11-23T00:00:00Z

/// Two customers (K1 with consent, K2 without), three meters on a link nobody polls here.
inline std::string config_text(const std::string& db, int rate_limit) {
    gw::test::SiteConfig site;
    site.id = "api-test";
    site.interval_s = 300;
    site.db = db;
    site.api = true;
    site.api_extra =
        "rate_limit_per_minute = " + std::to_string(rate_limit) + "\ntoken_lifetime_s = 3600\n";
    site.customers = {K1, K2};
    site.links = {gw::test::LinkSpec{"lan", "tcp", 1}};
    site.meters = {gw::test::MeterSpec{MA, "overdrachtspunt", "lan", 1, "janitza-umg96rm"},
                   gw::test::MeterSpec{MB, "bruto_productie", "lan", 2, "eastron-sdm630"},
                   gw::test::MeterSpec{MC, "overdrachtspunt", "lan", 3, "eastron-sdm630"}};
    site.meters[2].klant_ean = K2;
    return site.toml();
}

/// Every response the API tests receive is checked against the served OpenAPI document; at
/// exit the number checked, per operation and status, is printed.
struct OpenApiTally {
    std::unique_ptr<gw::test::OpenApiCheck> check;
    ~OpenApiTally() {
        if (!check) return;
        int total = 0;
        for (const auto& [what, n] : check->checked()) total += n;
        std::cerr << "openapi: " << total << " responses checked against the served document, "
                  << check->checked().size() << " operation and status pairs:\n";
        for (const auto& [what, n] : check->checked())
            std::cerr << "  " << n << "  " << what << "\n";
    }
};
inline OpenApiTally g_openapi;

struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers;
    std::string body;
    json::value json() const { return json::parse(body); }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

/// The real store, passed through; on request it fails (the API answers 503) or throws (the API
/// answers 500): faults a test cannot produce otherwise at a chosen moment.
class FaultyStore : public gw::ApiStore {
  public:
    enum class Mode { pass, fail_data, fail_all, throw_all };
    explicit FaultyStore(gw::ApiStore& real) : real_(real) {}
    std::atomic<Mode> mode{Mode::pass};

    gw::Result<std::vector<gw::IntervalRecord>> intervals(const gw::Ean18& m, gw::SysS a,
                                                          gw::SysS b, std::int64_t o,
                                                          std::int64_t l) override {
        if (auto e = fault(true)) return *e;
        return real_.intervals(m, a, b, o, l);
    }
    gw::Result<std::optional<gw::SysS>> latest_end(const gw::Ean18& m) override {
        if (auto e = fault(true)) return *e;
        return real_.latest_end(m);
    }
    gw::Result<std::vector<gw::EnergyReading>> energy_readings(const gw::Ean18& m, gw::SysS a,
                                                               gw::SysS b, std::int64_t o,
                                                               std::int64_t l) override {
        if (auto e = fault(true)) return *e;
        return real_.energy_readings(m, a, b, o, l);
    }
    gw::Result<bool> consent_active(const gw::Ean18& k) override {
        if (auto e = fault(true)) return *e;
        return real_.consent_active(k);
    }
    gw::Status record_consent(const gw::Ean18& k, bool granted, gw::SysS at,
                              const std::string& actor) override {
        if (auto e = fault(false)) return *e;
        return real_.record_consent(k, granted, at, actor);
    }
    gw::Result<std::optional<gw::ApiClient>> client(const std::string& n) override {
        if (auto e = fault(false)) return *e;
        return real_.client(n);
    }
    gw::Result<std::vector<gw::ApiClient>> clients() override {
        if (auto e = fault(false)) return *e;
        return real_.clients();
    }
    gw::Result<std::vector<gw::ApiSecret>> valid_secrets(const std::string& n,
                                                         gw::SysS at) override {
        if (auto e = fault(false)) return *e;
        return real_.valid_secrets(n, at);
    }
    gw::Status update_secret_hash(std::int64_t id, const std::string& h) override {
        return real_.update_secret_hash(id, h);
    }
    gw::Status append_audit(const std::vector<gw::AuditRecord>& r) override {
        return real_.append_audit(r);
    }
    gw::Result<gw::StoreStats> stats() override {
        if (auto e = fault(true)) return *e;
        return real_.stats();
    }
    gw::Result<std::int64_t> data_version() override {
        if (auto e = fault(true)) return *e;
        return real_.data_version();
    }

  private:
    std::optional<gw::Error> fault(bool data) {
        const Mode m = mode;
        if (m == Mode::throw_all) throw std::runtime_error("injected fault");
        if (m == Mode::fail_all || (m == Mode::fail_data && data))
            return gw::make_error(gw::Errc::store_io, "injected: disk I/O error");
        return std::nullopt;
    }
    gw::ApiStore& real_;
};

/// The gateway's API on a real TLS listener, served from a background io thread.
struct Fixture {
    gw::test::TempDir dir;
    gw::ManualClock clock{gw::SysMs{(k_day + hours{24} + minutes{1}).time_since_epoch()}};
    gw::Config cfg;
    std::unique_ptr<gw::Store> store;
    std::unique_ptr<FaultyStore> faults;  ///< what the Api reads through
    std::unique_ptr<gw::Api> api;
    asio::io_context io;
    std::unique_ptr<gw::HttpsServer> server;
    std::thread thread;
    std::string reader_secret, admin_secret, installer_secret;
    std::vector<std::string> live_meters{MA};  ///< what the daemon reports as live, for status
    /// Per meter, the end of its oldest interval the daemon holds uncommitted (set on the io
    /// thread).
    std::map<std::string, gw::SysS> held;
    /// Latest samples the daemon reports per meter, for /api/v1/live (set through on_io).
    std::map<std::string, gw::Sample> samples;
    std::optional<gw::SysS> tls_not_after;
    asio::ssl::context client_tls{asio::ssl::context::tls_client};

    explicit Fixture(int rate_limit = 100000, gw::HttpsLimits limits = {}) {
        auto res = gw::parse_config(config_text(dir.file("gw.db"), rate_limit), "api.toml",
                                    [](std::string_view n) {
                                        const auto* p = gw::find_profile(n);
                                        return p ? &p->map : nullptr;
                                    });
        for (const auto& e : res.errors) MESSAGE(e.str());
        REQUIRE(res.config.has_value());
        cfg = *res.config;
        store = std::move(gw::Store::open(cfg.storage.path).value());
        const gw::SysS now = time_point_cast<seconds>(clock.utc_now());
        reader_secret = gw::generate_secret();
        admin_secret = gw::generate_secret();
        installer_secret = gw::generate_secret();
        REQUIRE(
            store
                ->add_client("liander", gw::Role::reader, gw::hash_secret(reader_secret, 1000), now)
                .ok());
        REQUIRE(
            store
                ->add_client("installer", gw::Role::admin, gw::hash_secret(admin_secret, 1000), now)
                .ok());
        REQUIRE(store
                    ->add_client("fitter", gw::Role::installer,
                                 gw::hash_secret(installer_secret, 1000), now)
                    .ok());
        REQUIRE(store->record_consent(*gw::Ean18::parse(K1), true, now, "test").ok());
        // One day of meter A: P = -(i) kW plus a half, Q = i, voltages 230.x; the last 12 intervals
        // onvolledig.
        for (int i = 1; i <= 288; ++i) {
            gw::IntervalRecord r{*gw::Ean18::parse(MA), k_day + minutes{5 * i}};
            r.p_w = -1000.0 * i - 500.0;
            r.q_var = 1000.0 * (i % 7);
            r.u1_v = 230.0 + i % 10 * 0.1;
            r.u2_v = 231.05;
            r.u3_v = 229.95;
            r.samples = 300;
            r.coverage = i > 276 ? 0.5 : 1.0;
            r.quality = i > 276 ? gw::Quality::onvolledig : gw::Quality::gemeten;
            gw::EnergyReading e{
                r.meter_ean, r.end, 1'000'000.0 + i * 100.5, 2'000'000.0 + i * 1000.25, 5.0, 6.0};
            REQUIRE(
                store->commit_interval(r, &e, false, {}, gw::SysMs{r.end.time_since_epoch()}).ok());
        }
        faults = std::make_unique<FaultyStore>(*store);
        api = std::make_unique<gw::Api>(
            cfg, *faults, clock, "test",
            [this] {
                gw::GatewayLive g;
                g.started_at = clock.utc_now() - minutes{5};
                for (const auto& m : live_meters) {
                    gw::MeterLive ml;
                    ml.meter_ean = m;
                    ml.link_state = gw::LinkState::ok;
                    ml.last_success = clock.utc_now();
                    ml.counters = {{"polls", 7}};
                    if (auto it = held.find(m); it != held.end())
                        ml.oldest_uncommitted = it->second;
                    if (auto it = samples.find(m); it != samples.end()) {
                        ml.sample = it->second;
                        ml.open_end = gw::IntervalGrid(300).end_of(it->second.at);
                        ml.open_points = {{it->second.at, it->second.p_w}};
                    }
                    g.meters.push_back(std::move(ml));
                }
                g.tls_certificate = cfg.api.tls_cert;
                g.tls_not_after = tls_not_after;
                return g;
            },
            gw::ApiOptions{1000});
        if (!g_openapi.check)
            g_openapi.check = std::make_unique<gw::test::OpenApiCheck>(api->openapi());
        limits.max_connections = cfg.api.max_connections;
        auto s = gw::HttpsServer::start(
            io, cfg.api, [this](const gw::http::Request& r) { return api->handle(r); }, limits);
        REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
        server = std::move(s).value();
        thread = std::thread([this] { io.run(); });
        client_tls.set_verify_mode(asio::ssl::verify_none);
    }
    ~Fixture() {
        asio::post(io, [this] {
            server->stop();
            io.stop();
        });
        thread.join();
    }

    /// Runs `fn` on the io thread (the Api's thread) and waits for it.
    void on_io(std::function<void()> fn) {
        std::promise<void> done;
        asio::post(io, [&] {
            fn();
            done.set_value();
        });
        done.get_future().wait();
    }

    std::string basic(const std::string& user, const std::string& pass) const {
        const std::string raw = user + ":" + pass;
        std::string out(4 * ((raw.size() + 2) / 3), '\0');
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(raw.data()),
                        static_cast<int>(raw.size()));
        return "Basic " + out;
    }
    std::string reader() const { return basic("liander", reader_secret); }
    /// A client of role installer (the one named "installer" above is an admin).
    std::string fitter() const { return basic("fitter", installer_secret); }

    Reply request(const std::string& target, const std::string& auth,
                  const std::string& method = "GET", std::map<std::string, std::string> extra = {},
                  const std::string& body = "", const std::string& from = "") {
        asio::io_context cio;
        beast::ssl_stream<beast::tcp_stream> stream(cio, client_tls);
        if (!from.empty()) {  // another loopback source address: another client as far as the
                              // server knows
            beast::get_lowest_layer(stream).socket().open(tcp::v4());
            beast::get_lowest_layer(stream).socket().bind(
                tcp::endpoint(asio::ip::make_address(from), 0));
        }
        beast::get_lowest_layer(stream).connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
        beast::get_lowest_layer(stream).expires_after(seconds{10});
        stream.handshake(asio::ssl::stream_base::client);
        bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
        req.set(bhttp::field::host, "localhost");
        if (!auth.empty()) req.set(bhttp::field::authorization, auth);
        for (const auto& [k, v] : extra) req.set(k, v);
        if (!body.empty()) {
            req.body() = body;
            req.prepare_payload();
        }
        bhttp::write(stream, req);
        return read(stream, method, target);
    }

    /// Checks a response against the served OpenAPI document (a failed check fails the test).
    static void validate(const std::string& method, const std::string& target, const Reply& r) {
        if (r.status == 0 || !g_openapi.check) return;  // no answer: nothing to check
        for (const auto& p :
             g_openapi.check->problems({method, target, r.status, r.headers, r.body}))
            CHECK_MESSAGE(false,
                          "OpenAPI: " << method << " " << target.substr(0, 120) << ": " << p);
    }

    static Reply read(beast::ssl_stream<beast::tcp_stream>& stream, const std::string& method,
                      const std::string& target) {
        beast::flat_buffer buf;
        bhttp::response_parser<bhttp::string_body> parser;
        parser.skip(method == "HEAD");  // a HEAD answer has Content-Length but no body
        parser.body_limit(64 * 1024 * 1024);
        beast::error_code ec;
        bhttp::read(stream, buf, parser, ec);
        Reply r;
        if (ec) return r;
        r.status = static_cast<int>(parser.get().result_int());
        for (const auto& f : parser.get())
            r.headers[std::string(f.name_string())] = std::string(f.value());
        r.body = parser.get().body();
        validate(method, target, r);
        return r;
    }

    /// Sends raw bytes over one TLS connection and reads up to `responses` answers.
    std::vector<Reply> raw(const std::string& bytes, int responses) {
        asio::io_context cio;
        beast::ssl_stream<beast::tcp_stream> stream(cio, client_tls);
        beast::get_lowest_layer(stream).connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
        beast::get_lowest_layer(stream).expires_after(seconds{10});
        stream.handshake(asio::ssl::stream_base::client);
        asio::write(stream, asio::buffer(bytes));  // one write: one TLS record
        // The request lines, to check each answer against the document.
        static const std::regex request_line(R"(([A-Z]+) (\S+) HTTP/1\.[01]\r\n)");
        std::vector<std::pair<std::string, std::string>> sent;
        for (std::sregex_iterator it(bytes.begin(), bytes.end(), request_line), end; it != end;
             ++it)
            sent.emplace_back((*it)[1], (*it)[2]);
        std::vector<Reply> out;
        beast::flat_buffer buf;
        for (int i = 0; i < responses; ++i) {
            bhttp::response_parser<bhttp::string_body> parser;
            beast::error_code ec;
            bhttp::read(stream, buf, parser, ec);
            if (ec) break;
            Reply r;
            r.status = static_cast<int>(parser.get().result_int());
            for (const auto& f : parser.get())
                r.headers[std::string(f.name_string())] = std::string(f.value());
            r.body = parser.get().body();
            const std::size_t n = out.size();
            validate(n < sent.size() ? sent[n].first : "GET",
                     n < sent.size() ? sent[n].second : "/(unparsed request)", r);
            out.push_back(std::move(r));
        }
        return out;
    }

    std::string metingen(const std::string& extra) const {
        return std::string("/api/v1/metingen?klant_ean=") + K1 + "&meter_ean=" + MA + extra;
    }
};

inline void check_error(const Reply& r, int status, const std::string& code,
                        const std::string& fragment) {
    CAPTURE(r.body);
    CHECK(r.status == status);
    auto j = r.json();
    REQUIRE(j.is_object());
    const auto& e = j.at("error");
    CHECK(e.at("code").as_string() == code);
    CHECK(std::string(e.at("message").as_string()).find(fragment) != std::string::npos);
    CHECK(e.at("correlation_id").as_string() == r.header("X-Correlation-ID"));
    CHECK_FALSE(r.header("X-Correlation-ID").empty());
}

}  // namespace gw::test::api
