// The API as a hostile or broken client tries it: pipelined requests, lockout attempts, timing,
// what reaches the log, invalid UTF-8, failed-login audit, what a reader may see, Host.
#include <fcntl.h>
#include <unistd.h>

#include <regex>

#include "gw/core/text.hpp"

#include "api_fixture.hpp"

using namespace gw::test::api;

namespace {

/// Captures what this process writes to stderr (the log) while it lives.
class StderrCapture {
  public:
    explicit StderrCapture(const std::string& file) : file_(file) {
        std::fflush(stderr);
        saved_ = ::dup(STDERR_FILENO);
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, STDERR_FILENO);
        ::close(fd);
    }
    ~StderrCapture() { restore(); }
    std::string text() {
        restore();
        return gw::test::read_file(file_);
    }

  private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        saved_ = -1;
    }
    std::string file_;
    int saved_ = -1;
};

std::string request_line(const std::string& target, const std::string& auth) {
    return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + auth + "\r\n\r\n";
}

}  // namespace

TEST_CASE("pipelined requests in one read are all answered, in order") {
    Fixture f;
    const std::string two = request_line("/api/v1/meters", f.reader()) +
                            request_line("/api/v1/status", f.reader()) +
                            request_line("/healthz", "");
    auto replies = f.raw(two, 3);
    REQUIRE(replies.size() == 3);
    CHECK(replies[0].status == 200);
    CHECK(replies[0].body.find("\"meters\"") != std::string::npos);
    CHECK(replies[1].status == 200);
    CHECK(replies[1].body.find("\"gateway_id\"") != std::string::npos);
    CHECK(replies[2].body == "{\"status\":\"ok\"}");
}

TEST_CASE("a request without Host is refused with 400 on HTTP/1.1") {
    Fixture f;
    auto replies = f.raw("GET /healthz HTTP/1.1\r\n\r\n", 1);
    REQUIRE(replies.size() == 1);
    check_error(replies[0], 400, "bad_request", "Host");
    CHECK(replies[0].header("Cache-Control") == "no-store");
    auto old = f.raw("GET /healthz HTTP/1.0\r\n\r\n", 1);  // HTTP/1.0 has no Host requirement
    REQUIRE(old.size() == 1);
    CHECK(old[0].status == 200);
}

TEST_CASE(
    "wrong passwords under the operator's name from one address never lock the operator out from "
    "another") {
    Fixture f;
    for (int i = 0; i < 30; ++i)
        f.request("/api/v1/meters", f.basic("liander", "guess-" + std::to_string(i)), "GET", {}, "",
                  "127.0.0.2");
    auto attacker = f.request("/api/v1/meters", f.reader(), "GET", {}, "", "127.0.0.2");
    check_error(attacker, 429, "too_many_requests", "too many failed logins");
    CHECK(std::stoi(attacker.header("Retry-After")) > 0);
    // The operator, from its own address with no failures, is never refused.
    CHECK(f.request("/api/v1/meters", f.reader(), "GET", {}, "", "127.0.0.1").status == 200);
    // One name guessed from one address is throttled before the address as a whole.
    for (int i = 0; i < 5; ++i)
        f.request("/api/v1/meters", f.basic("installer", "guess"), "GET", {}, "", "127.0.0.3");
    check_error(f.request("/api/v1/meters", f.basic("installer", f.admin_secret), "GET", {}, "",
                          "127.0.0.3"),
                429, "too_many_requests", "for this user from this address");
    CHECK(
        f.request("/api/v1/status", f.basic("liander", f.reader_secret), "GET", {}, "", "127.0.0.3")
            .status == 200);
}

TEST_CASE("a login checks every valid secret, and decoys, whichever matches") {
    // The work must not tell which secret matched during a rotation overlap, nor whether the
    // name exists: count the hash checks of each case.
    gw::Verification old_secret, new_secret, nobody, single;
    const std::string a = gw::hash_secret("old", 1000), b = gw::hash_secret("new", 1000);
    old_secret.candidates =
        new_secret.candidates = {{2, "liander", b, {}, {}}, {1, "liander", a, {}, {}}};
    old_secret.password = "old";
    new_secret.password = "new";
    nobody.password = "x";
    single.candidates = {{3, "other", a, {}, {}}};
    single.password = "old";
    CHECK(gw::run_verification(old_secret) == 2);
    CHECK(gw::run_verification(new_secret) == 2);
    CHECK(gw::run_verification(nobody) == 2);
    CHECK(gw::run_verification(single) == 2);
    CHECK(*old_secret.matched == 1);
    CHECK(*new_secret.matched == 2);
    CHECK_FALSE(nobody.matched.has_value());
    CHECK(old_secret.password.empty());  // not kept after the check
    // A weak (old) hash is replaced by one of today's strength once the secret is known.
    CHECK(gw::hash_iterations(old_secret.rehash) == gw::k_hash_iterations);
}

TEST_CASE("the log never shows a string that failed as a credential, nor raw control characters") {
    Fixture f;
    const std::string secret_as_name = "Zq4-secret-typed-in-the-name-field";
    const std::string capture = f.dir.file("stderr.log");
    std::string log;
    {
        StderrCapture cap(capture);
        f.request("/api/v1/meters", f.basic(secret_as_name, "whatever"));
        f.clock.advance(seconds{61});  // failed logins are summarised to one line a minute
        f.request("/api/v1/meters", f.basic("liander", "wrong-password"));
        f.request("/api/v1/nope%0D%0AERROR%20forged%20line%1B[31m", f.reader());
        f.request("/api/v1/nope\x1b[2J", f.reader());
        log = cap.text();
    }
    CAPTURE(log);
    CHECK(log.find(secret_as_name) == std::string::npos);
    CHECK(log.find("wrong-password") == std::string::npos);
    CHECK(log.find("unknown client name (" + std::to_string(secret_as_name.size()) +
                   " characters)") != std::string::npos);
    CHECK(log.find("as \"liander\": wrong secret") !=
          std::string::npos);  // a known name may be named
    CHECK(log.find("GET /api/v1/nope%0D%0AERROR%20forged") !=
          std::string::npos);  // logged as sent, still encoded
    CHECK(log.find('\x1b') == std::string::npos);
    for (std::size_t i = 0, line = 0; i < log.size(); ++i) {
        if (log[i] == '\n') line = i + 1;
        CHECK_MESSAGE(log.compare(line, 5, "ERROR") != 0, "a forged line start");
    }
}

TEST_CASE("invalid UTF-8 in a request gets 400 with a body that is valid UTF-8 JSON") {
    Fixture f;
    for (const std::string bad : {"%C0%AF", "%ED%A0%80", "%FF", "%F4%90%80%80", "%E2%82"}) {
        CAPTURE(bad);
        auto r = f.request(f.metingen("&start_tijd=2026-11-23T00:00:00Z&meting_type=" + bad),
                           f.reader());
        check_error(r, 400, "invalid_parameter", "UTF-8");
        CHECK(gw::valid_utf8(r.body));
    }
    // Raw bytes in the path are echoed in the message: repaired, never raw.
    auto raw = f.raw("GET /api/v1/\xff\xc0\xaf HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    REQUIRE(raw.size() == 1);
    CHECK(raw[0].status >= 400);
    CHECK(gw::valid_utf8(raw[0].body));
    CHECK(json::parse(raw[0].body).is_object());
}

TEST_CASE(
    "failed logins are audited with the address, the known name and the reason, and a flood is "
    "bounded") {
    Fixture f;
    f.request("/api/v1/meters", f.basic("liander", "wrong"), "GET", {}, "", "127.0.0.2");
    f.request("/api/v1/meters", f.basic("not-a-client-name", "x"), "GET", {}, "", "127.0.0.2");
    f.request("/api/v1/meters", "Bearer not-a-token", "GET", {}, "", "127.0.0.2");
    f.on_io([&] { f.api->flush_audit(); });
    {
        auto store = gw::Store::open(f.cfg.storage.path);
        auto rows = *(*store)->recent_audit(10);
        REQUIRE(rows.size() == 3);
        CHECK(rows[2].client == "liander");
        CHECK(rows[2].status == 401);
        CHECK(rows[2].detail == "failed login from 127.0.0.2: wrong secret");
        CHECK(rows[1].client.empty());  // never what failed as a credential
        CHECK(rows[1].detail.find("unknown client name (17 characters)") != std::string::npos);
        CHECK(rows[0].detail.find("unknown bearer token") != std::string::npos);
    }
    // A flood from many addresses: rows are bounded per minute, the rest counted.
    for (int i = 0; i < 120; ++i)
        f.request("/api/v1/status", f.basic("liander", "x" + std::to_string(i)), "GET", {}, "",
                  "127.0.1." + std::to_string(i % 60 + 1));
    f.on_io([&] { f.api->flush_audit(); });
    auto store = gw::Store::open(f.cfg.storage.path);
    auto rows = *(*store)->recent_audit(1000);
    CHECK(rows.size() == 60);  // the budget of a minute, all addresses together
    f.clock.advance(minutes{1});
    f.request("/api/v1/status", f.basic("liander", "late"), "GET", {}, "", "127.0.2.1");
    f.on_io([&] { f.api->flush_audit(); });
    rows = *(*store)->recent_audit(1);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].detail.find("63 earlier failed login(s) not audited one by one") !=
          std::string::npos);
}

TEST_CASE("status shows a reader only the meters of customers with consent, an admin sees all") {
    Fixture f;
    auto meters_of = [](const Reply& r) {
        std::set<std::string> out;
        const auto j = r.json();
        for (const auto& m : j.at("meters").as_array())
            out.insert(std::string(m.at("meter_ean").as_string()));
        return out;
    };
    f.live_meters = {MA, MB, MC};
    auto reader = f.request("/api/v1/status", f.reader());
    REQUIRE(reader.status == 200);
    CHECK(meters_of(reader) == std::set<std::string>{MA, MB});
    auto admin = f.request("/api/v1/status", f.basic("installer", f.admin_secret));
    CHECK(meters_of(admin) == std::set<std::string>{MA, MB, MC});
}

TEST_CASE("status names the TLS certificate and warns within 30 days of its expiry") {
    Fixture f;
    const gw::SysS not_after = gw::SysS{seconds{1'795'435'200}} + days{20};
    f.tls_not_after = not_after;
    auto s = f.request("/api/v1/status", f.reader()).json();
    CHECK(s.at("tls").at("certificate").as_string() == f.cfg.api.tls_cert);
    CHECK(s.at("tls").at("not_after").as_string() == gw::format_utc(not_after));
    CHECK(std::string(s.at("tls").at("warning").as_string()).find("expires within 30 days") !=
          std::string::npos);
    f.tls_not_after = not_after + days{100};
    CHECK(f.request("/api/v1/status", f.reader()).json().at("tls").at("warning").is_null());
    f.tls_not_after = gw::SysS{seconds{1'795'435'200}} - days{1};
    CHECK(std::string(
              f.request("/api/v1/status", f.reader()).json().at("tls").at("warning").as_string())
              .find("has expired") != std::string::npos);
}

TEST_CASE("the certificate's notAfter is read from the loaded certificate") {
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    REQUIRE(gw::configure_tls(ctx, GW_TEST_DATA "/tls/server.crt", GW_TEST_DATA "/tls/server.key")
                .ok());
    auto not_after = gw::certificate_not_after(ctx);
    REQUIRE(not_after.has_value());
    // What openssl says about the same file: "notAfter=<date>", turned into seconds by date(1).
    FILE* p = ::popen("date -u -d \"$(openssl x509 -enddate -noout -in " GW_TEST_DATA
                      "/tls/server.crt | cut -d= -f2)\" +%s",
                      "r");
    REQUIRE(p != nullptr);
    char buf[64] = {};
    REQUIRE(std::fgets(buf, sizeof buf, p) != nullptr);
    ::pclose(p);
    CHECK(not_after->time_since_epoch().count() == std::stoll(buf));
}
