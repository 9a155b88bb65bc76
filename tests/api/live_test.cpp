// The commissioning page and its live values: who may see them, what they say, and the sign
// check in plain words.
#include "api_fixture.hpp"

using namespace gw::test::api;

namespace {

gw::Sample sample_at(gw::SysMs at, double p_w) {
    gw::Sample s;
    s.at = at;
    s.p_w = p_w;
    s.q_var = 1500;
    s.u_v = {230.04, 231.06, 229.95};
    s.p_phase_w = {p_w / 3, p_w / 3, p_w / 3};
    s.e_import_wh = 1'234'567;
    return s;
}

}  // namespace

TEST_CASE("the page and its live values are for installers and admins, and a reader gets 403") {
    Fixture f;
    const std::string admin = f.basic("installer", f.admin_secret);
    for (const char* target : {"/", "/api/v1/live"}) {
        CAPTURE(target);
        auto none = f.request(target, "");
        CHECK(none.status == 401);
        CHECK(none.header("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
        CHECK(none.body.find("meter") == std::string::npos);  // no page data
        CHECK(f.request(target, f.reader()).status == 403);
        CHECK(f.request(target, f.fitter()).status == 200);
        CHECK(f.request(target, admin).status == 200);
    }
    // And an installer reads no measurement data through the pull API.
    CHECK(f.request(f.metingen("&start_tijd=2026-11-23T22:00:00Z"), f.fitter()).status == 403);
    CHECK(f.request("/api/v1/meters", f.fitter()).status == 403);
}

TEST_CASE("the page is self-contained, with a strict Content-Security-Policy") {
    Fixture f;
    auto r = f.request("/", f.fitter());
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
    const std::string csp = r.header("Content-Security-Policy");
    CHECK(csp.find("default-src 'none'") != std::string::npos);
    CHECK(csp.find("script-src 'sha256-") != std::string::npos);
    CHECK(csp.find("unsafe-inline") == std::string::npos);
    CHECK(csp.find("connect-src 'self'") != std::string::npos);
    CHECK(r.header("X-Frame-Options") == "DENY");
    CHECK(r.header("Cache-Control") == "no-store");
    // Nothing from elsewhere: no external script, style, font or image.
    CHECK(r.body.find("http://") == r.body.find("http://www.w3.org/2000/svg"));
    CHECK(r.body.find("https://") == std::string::npos);
    CHECK(r.body.find("src=") == std::string::npos);
    CHECK(r.body.find("viewport") != std::string::npos);  // readable on a phone
    MESSAGE("the page is ", r.body.size(), " bytes");
}

TEST_CASE("live values: per meter the latest sample, the open interval and 24 hours of history") {
    Fixture f;
    const gw::SysMs now = f.clock.utc_now();
    f.live_meters = {MA, MB};
    f.on_io([&] {
        f.samples[MA] = sample_at(now - seconds{1}, -12345.6);  // the transfer point exports
        f.samples[MB] = sample_at(now - seconds{1}, -15000);    // production
    });
    auto r = f.request("/api/v1/live?history=24h", f.fitter());
    REQUIRE(r.status == 200);
    const auto d = r.json();
    // Signs agree; the only problem is MC, which the daemon has not polled.
    CHECK_FALSE(d.at("checks").at("ok").as_bool());
    const auto& problems = d.at("checks").at("problems").as_array();
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].at("meter_ean") == MC);
    CHECK(problems[0].at("kind") == "link");
    const auto& meters = d.at("meters").as_array();
    REQUIRE(meters.size() == 3);  // every configured meter, live or not
    const auto& a = meters[0].as_object();
    CHECK(a.at("meter_ean") == MA);
    CHECK(a.at("link_state") == "ok");
    CHECK(a.at("age_s").as_int64() == 0);
    const auto& s = a.at("sample").as_object();
    CHECK(s.at("p_kw").as_double() == doctest::Approx(-12.346));
    CHECK(s.at("direction") == "export");
    CHECK(s.at("phases").as_array().at(0).at("p_kw").as_double() == doctest::Approx(-4.115));
    CHECK(s.at("phases").as_array().at(1).at("u_v").as_double() == doctest::Approx(231.1));
    CHECK(s.at("phases").as_array().at(2).at("q_kvar").is_null());  // not in the sample
    CHECK(s.at("energy").at("import_kwh").as_double() == doctest::Approx(1234.567));
    CHECK(s.at("energy").at("export_kwh").is_null());
    CHECK(a.at("interval").at("samples").as_int64() == 1);
    // The fixture's day of stored intervals lies more than 24 h back, except its last hours.
    const auto& h = a.at("history").as_array();
    CHECK(h.size() > 0);
    CHECK(h.size() <= 288);
    CHECK(meters[2].at("sample").is_null());
    CHECK(meters[2].at("link_state") == "unknown");
    // Without history=24h the history is left out (the page refreshes every 1.5 s).
    auto quick = f.request("/api/v1/live", f.fitter());
    REQUIRE(quick.status == 200);
    CHECK(quick.json().at("meters").at(0).at("history").as_array().empty());
    CHECK(f.request("/api/v1/live?history=7d", f.fitter()).status == 400);
}

TEST_CASE("the sign check says in plain words which meter's sign setting looks wrong") {
    Fixture f;
    const gw::SysMs now = f.clock.utc_now();
    f.live_meters = {MA, MB, MC};
    // The production meter reads an import of 20 kW: its sign is the wrong way round.
    f.on_io([&] {
        f.samples[MB] = sample_at(now, 20000);
        f.samples[MA] = sample_at(now, -18000);
        f.samples[MC] = sample_at(now, 300);
    });
    auto d = f.request("/api/v1/live", f.fitter()).json();
    CHECK_FALSE(d.at("checks").at("ok").as_bool());
    auto problems = d.at("checks").at("problems").as_array();
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].at("meter_ean") == MB);
    CHECK(problems[0].at("kind") == "sign");
    CHECK(std::string(problems[0].at("message").as_string()).find("sign setting") !=
          std::string::npos);
    // Production shows right, the transfer point reads import beyond what production explains.
    f.on_io([&] {
        f.samples[MB] = sample_at(now, -30000);
        f.samples[MA] = sample_at(now, 25000);
    });
    d = f.request("/api/v1/live", f.fitter()).json();
    problems = d.at("checks").at("problems").as_array();
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].at("meter_ean") == MA);
    CHECK(std::string(problems[0].at("message").as_string()).find("transfer point") !=
          std::string::npos);
    // Both right: the transfer point exports what the site does not use.
    f.on_io([&] { f.samples[MA] = sample_at(now, -28000); });
    CHECK(f.request("/api/v1/live", f.fitter()).json().at("checks").at("ok").as_bool());
}
