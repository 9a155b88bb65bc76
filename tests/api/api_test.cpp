// The pull API over real TLS: a Beast client against the real HttpsServer and Api on a real
// SQLite file, with a manual clock for token expiry, rotation and rate limits.
#include <cctype>
#include <fstream>
#include <functional>

#include "api_fixture.hpp"

using namespace gw::test::api;

TEST_CASE(
    "healthz and openapi.json need no credentials, the document lists exactly the served paths") {
    Fixture f;
    auto h = f.request("/healthz", "");
    CHECK(h.status == 200);
    CHECK(h.body == "{\"status\":\"ok\"}");
    auto doc = f.request("/api/v1/openapi.json", "");
    REQUIRE(doc.status == 200);
    auto j = doc.json();
    CHECK(j.at("openapi").as_string() == "3.0.3");
    std::set<std::string> paths;
    for (const auto& kv : j.at("paths").as_object()) paths.insert(std::string(kv.key()));
    CHECK(paths == std::set<std::string>{"/healthz", "/api/v1/openapi.json", "/api/v1/token",
                                         "/api/v1/meters", "/api/v1/meters/{meter_ean}",
                                         "/api/v1/metingen", "/api/v1/meterstanden", "/",
                                         "/api/v1/live", "/metrics", "/api/v1/status",
                                         "/api/v1/consent/{klant_ean}"});
    // Every operation has a unique id, and every reference resolves.
    std::set<std::string> ids;
    std::function<void(const boost::json::value&)> refs = [&](const boost::json::value& v) {
        if (v.is_array())
            for (const auto& e : v.as_array()) refs(e);
        if (!v.is_object()) return;
        for (const auto& kv : v.as_object()) {
            if (kv.key() == "$ref") {
                const std::string ref(kv.value().as_string());
                REQUIRE(ref.rfind("#/components/", 0) == 0);
                const auto kind = ref.substr(13, ref.find('/', 13) - 13);
                CHECK_MESSAGE(j.at("components")
                                  .at(kind)
                                  .as_object()
                                  .contains(ref.substr(ref.rfind('/') + 1)),
                              ref);
            }
            refs(kv.value());
        }
    };
    refs(j.at("paths"));
    refs(j.at("components"));
    for (const auto& path : j.at("paths").as_object())
        for (const auto& op : path.value().as_object())
            CHECK(ids.insert(std::string(op.value().at("operationId").as_string())).second);
    CHECK(ids.size() == 13);
    // docs/api.md covers what the document serves: every path with its method, every parameter.
    std::ifstream md(std::string(GW_TEST_DATA) + "/../../docs/api.md");
    const std::string reference{std::istreambuf_iterator<char>(md), {}};
    REQUIRE(!reference.empty());
    for (const auto& path : j.at("paths").as_object())
        for (const auto& op : path.value().as_object()) {
            std::string method(op.key());
            for (auto& c : method) c = static_cast<char>(std::toupper(c));
            const std::string entry = "`" + method + " " + std::string(path.key()) + "`";
            CHECK_MESSAGE(reference.find(entry) != std::string::npos, entry);
            for (const auto& p : op.value().at("parameters").as_array()) {
                const std::string name = "`" + std::string(p.at("name").as_string()) + "`";
                CHECK_MESSAGE(reference.find(name) != std::string::npos, name);
            }
        }
    // Every documented parameter of call 2 is accepted, and nothing else is.
    for (const auto& p :
         j.at("paths").at("/api/v1/metingen").at("get").at("parameters").as_array()) {
        const std::string name(p.at("name").as_string());
        CHECK_MESSAGE(
            f.request(f.metingen("&start_tijd=2026-11-23T00:00:00Z&" + name + "=x"), f.reader())
                    .body.find("unknown parameter") == std::string::npos,
            name);
    }
    check_error(f.request(f.metingen("&start_tijd=2026-11-23T00:00:00Z&foo=1"), f.reader()), 400,
                "invalid_parameter", "unknown parameter \"foo\"");
}

TEST_CASE("call 1 lists consented customers' meters and the others under niet_beschikbaar") {
    Fixture f;
    auto all = f.request("/api/v1/meters", f.reader());
    REQUIRE(all.status == 200);
    CHECK(all.header("Cache-Control") == "no-store");
    auto j = all.json();
    const auto& meters = j.at("meters").as_array();
    REQUIRE(meters.size() == 2);
    CHECK(meters[0].at("meter_ean").as_string() == MA);
    CHECK(meters[0].at("meter_type").as_string() == "overdrachtspunt");
    CHECK(meters[0].at("datum_laatste_meting").as_string() == "2026-11-24T00:00:00Z");
    CHECK(meters[1].at("datum_laatste_meting").is_null());
    REQUIRE(j.at("niet_beschikbaar").as_array().size() == 1);
    CHECK(j.at("niet_beschikbaar").at(0).at("klant_ean").as_string() == K2);
    CHECK(j.at("niet_beschikbaar").at(0).at("reden").as_string() == "geen_toestemming");

    auto some = f.request(std::string("/api/v1/meters?klant_ean=") + K1 +
                              ",871685900000000066&klant_ean=" + K1,
                          f.reader())
                    .json();
    CHECK(some.at("meters").as_array().size() == 2);
    REQUIRE(some.at("niet_beschikbaar").as_array().size() == 1);
    CHECK(some.at("niet_beschikbaar").at(0).at("reden").as_string() == "onbekend");
    check_error(f.request("/api/v1/meters?klant_ean=871685900000000012", f.reader()), 400,
                "invalid_parameter", "check digit is 2, expected 1");
    check_error(f.request("/api/v1/meters?klant_ean=8716859", f.reader()), 400, "invalid_parameter",
                "must be 18 digits");
}

TEST_CASE("call 2: fields, integers for power, one decimal for voltage, window semantics") {
    Fixture f;
    auto r = f.request(
        f.metingen("&start_tijd=2026-11-23T11:50:00Z&eind_tijd=2026-11-23T12:00:00Z"), f.reader());
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(r.header("Cache-Control") == "no-store");
    // tijd - 5 min >= 11:50 and tijd <= 12:00: exactly 11:55 and 12:00.
    auto rows = r.json().at("metingen").as_array();
    REQUIRE(rows.size() == 10);
    const auto& first = rows[0].as_object();
    CHECK(first.at("datum").as_string() == "2026-11-23");
    CHECK(first.at("tijd").as_string() == "11:55:00");
    CHECK(first.at("klant_ean").as_string() == K1);
    CHECK(first.at("meter_ean").as_string() == MA);
    CHECK(first.at("meting_type").as_string() == "actief_vermogen");
    CHECK(first.at("waarde_type").as_string() == "kW");
    CHECK(first.at("kwaliteit").as_string() == "gemeten");
    CHECK(first.at("waarde").is_int64());
    CHECK(first.at("waarde").as_int64() ==
          -144);  // -143500 W -> -143.5 kW -> -144 (half away from zero)
    CHECK(r.body.find("\"waarde\":-144,") != std::string::npos);  // never -1.44E2
    CHECK(rows[1].at("meting_type").as_string() == "blind_vermogen");
    CHECK(rows[1].at("waarde_type").as_string() == "kVAr");
    CHECK(rows[3].at("meting_type").as_string() == "spanning_L2");
    CHECK(r.body.find("\"waarde\":231.1,\"meting_type\":\"spanning_L2\"") !=
          std::string::npos);  // 231.05 -> 231.1
    CHECK(r.body.find("\"waarde\":230.0,\"meting_type\":\"spanning_L3\"") !=
          std::string::npos);  // 229.95 -> 230.0
    CHECK(rows[5].at("tijd").as_string() == "12:00:00");
    CHECK(r.json().at("next").is_null());
    // naive, reversed and unparsable windows
    check_error(f.request(f.metingen("&start_tijd=2026-11-23T11:50:00"), f.reader()), 400,
                "invalid_parameter", "no zone");
    check_error(
        f.request(f.metingen("&start_tijd=2026-11-23T12:00:00Z&eind_tijd=2026-11-23T11:00:00Z"),
                  f.reader()),
        400, "invalid_parameter", "start_tijd must be before eind_tijd");
    check_error(f.request(f.metingen("&start_tijd=gisteren"), f.reader()), 400, "invalid_parameter",
                "start_tijd");
    check_error(f.request(f.metingen(""), f.reader()), 400, "invalid_parameter",
                "missing required parameter start_tijd");
    check_error(f.request(f.metingen("&start_tijd=2026-01-01T00:00:00Z"), f.reader()), 400,
                "invalid_parameter", "at most 93 days");
    check_error(
        f.request(f.metingen("&start_tijd=2026-11-23T00:00:00Z&start_tijd=2026-11-23T01:00:00Z"),
                  f.reader()),
        400, "invalid_parameter", "given more than once");
    // offsets in the time zone are honoured
    auto tz = f.request(
        f.metingen("&start_tijd=2026-11-23T12:50:00%2B01:00&eind_tijd=2026-11-23T13:00:00%2B01:00"),
        f.reader());
    CHECK(tz.json().at("metingen").as_array().size() == 10);
}

TEST_CASE("start_tijd = datum_laatste_meting returns exactly the newer intervals") {
    Fixture f;
    auto latest = [&] {
        return std::string(f.request("/api/v1/meters?klant_ean=" + std::string(K1), f.reader())
                               .json()
                               .at("meters")
                               .at(0)
                               .at("datum_laatste_meting")
                               .as_string());
    };
    const std::string last = latest();
    CHECK(last == "2026-11-24T00:00:00Z");
    auto none = f.request(f.metingen("&start_tijd=" + last), f.reader()).json();
    CHECK(none.at("metingen").as_array().empty());
    // Two new intervals arrive.
    for (int i = 1; i <= 2; ++i) {
        gw::IntervalRecord r{*gw::Ean18::parse(MA), k_day + hours{24} + minutes{5 * i}};
        r.p_w = 1000.0 * i;
        r.q_var = 0;
        r.u1_v = r.u2_v = r.u3_v = 230;
        r.samples = 300;
        r.coverage = 1;
        auto other = gw::Store::open(f.cfg.storage.path);
        REQUIRE(other.ok());
        REQUIRE((*other)->commit_interval(r, nullptr, false, {}, gw::SysMs{}).ok());
    }
    f.clock.advance(minutes{10});
    auto fresh =
        f.request(f.metingen("&start_tijd=" + last + "&meting_type=actief_vermogen"), f.reader())
            .json();
    const auto& rows = fresh.at("metingen").as_array();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].at("tijd").as_string() == "00:05:00");
    CHECK(rows[0].at("waarde").as_int64() == 1);
    CHECK(rows[1].at("tijd").as_string() == "00:10:00");
    CHECK(latest() == "2026-11-24T00:10:00Z");
}

TEST_CASE("a repeated request is answered from the cache, never stale after new data") {
    Fixture f;
    const std::string target =
        f.metingen("&start_tijd=2026-11-24T00:00:00Z&eind_tijd=2026-11-24T01:00:00Z");
    CHECK(f.request(target, f.reader()).json().at("metingen").as_array().empty());
    CHECK(f.request(target, f.reader()).json().at("metingen").as_array().empty());
    {
        gw::IntervalRecord r{*gw::Ean18::parse(MA), k_day + hours{24} + minutes{5}};
        r.p_w = 2000;
        r.q_var = 0;
        r.u1_v = r.u2_v = r.u3_v = 230;
        r.samples = 1;
        r.coverage = 1;
        auto other = gw::Store::open(f.cfg.storage.path);
        REQUIRE((*other)->commit_interval(r, nullptr, false, {}, gw::SysMs{}).ok());
    }
    CHECK(f.request(target, f.reader()).json().at("metingen").as_array().size() == 5);
    // The daemon's own commits bump the generation.
    f.on_io([&] { f.api->data_changed(); });
    CHECK(f.request(target, f.reader()).json().at("metingen").as_array().size() == 5);
}

TEST_CASE(
    "paging: the union of all pages is the whole result, without duplicates, next is null at the "
    "end") {
    Fixture f;
    const std::string q = "&start_tijd=2026-11-23T00:00:00Z&eind_tijd=2026-11-24T00:00:00Z";
    auto whole = f.request(f.metingen(q), f.reader()).json();
    const auto& all = whole.at("metingen").as_array();
    REQUIRE(all.size() == 288 * 5);
    CHECK(whole.at("next").is_null());
    std::vector<std::string> paged;
    std::string target = f.metingen(q + "&max_rows=333");
    int pages = 0;
    while (true) {
        auto page = f.request(target, f.reader());
        REQUIRE(page.status == 200);
        auto j = page.json();
        for (const auto& row : j.at("metingen").as_array()) paged.push_back(json::serialize(row));
        ++pages;
        REQUIRE(pages < 20);
        if (j.at("next").is_null()) break;
        target = std::string(j.at("next").as_string());
    }
    CHECK(pages == 5);  // 1440 rows by 333
    REQUIRE(paged.size() == all.size());
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(paged[i] == json::serialize(all[i]));
    CHECK(std::set<std::string>(paged.begin(), paged.end()).size() == paged.size());
    // bad paging values
    check_error(f.request(f.metingen(q + "&offset=-1"), f.reader()), 400, "invalid_parameter",
                "offset must be a whole number");
    check_error(f.request(f.metingen(q + "&max_rows=0"), f.reader()), 400, "invalid_parameter",
                "max_rows");
    check_error(f.request(f.metingen(q + "&max_rows=10001"), f.reader()), 400, "invalid_parameter",
                "max_rows");
    check_error(f.request(f.metingen(q + "&max_rows=ten"), f.reader()), 400, "invalid_parameter",
                "max_rows");
    CHECK(f.request(f.metingen(q + "&offset=5000"), f.reader())
              .json()
              .at("metingen")
              .as_array()
              .empty());
}

TEST_CASE("meting_type filter, resolutie, and CSV carrying the same values as JSON") {
    Fixture f;
    const std::string q = "&start_tijd=2026-11-23T00:00:00Z&eind_tijd=2026-11-24T00:00:00Z";
    auto p =
        f.request(f.metingen(q + "&meting_type=actief_vermogen,spanning_L1"), f.reader()).json();
    CHECK(p.at("metingen").as_array().size() == 288 * 2);
    check_error(f.request(f.metingen(q + "&meting_type=spanning_l1"), f.reader()), 400,
                "invalid_parameter", "meting_type \"spanning_l1\" is unknown");
    check_error(f.request(f.metingen(q + "&resolutie=1min"), f.reader()), 400, "invalid_parameter",
                "resolutie");
    // 15 minutes: means of three 5-minute values, worst quality of the parts.
    auto quarter =
        f.request(f.metingen(q + "&resolutie=15min&meting_type=actief_vermogen"), f.reader())
            .json();
    const auto& rows = quarter.at("metingen").as_array();
    REQUIRE(rows.size() == 96);
    CHECK(rows[0].at("tijd").as_string() == "00:15:00");
    CHECK(rows[0].at("waarde").as_int64() == -3);  // mean of -1.5, -2.5, -3.5 kW = -2.5 -> -3
    CHECK(rows[95].at("kwaliteit").as_string() == "onvolledig");
    CHECK(rows[91].at("kwaliteit").as_string() == "gemeten");
    auto hour =
        f.request(f.metingen(q + "&resolutie=60min&meting_type=actief_vermogen"), f.reader())
            .json();
    CHECK(hour.at("metingen").as_array().size() == 24);
    // CSV: the same rows and values.
    auto csv = f.request(f.metingen(q + "&formaat=csv"), f.reader());
    REQUIRE(csv.status == 200);
    CHECK(csv.header("Content-Type") == "text/csv; charset=utf-8");
    auto json_rows = f.request(f.metingen(q), f.reader()).json().at("metingen").as_array();
    std::istringstream lines(csv.body);
    std::string line;
    std::getline(lines, line);
    CHECK(line == "datum,tijd,klant_ean,meter_ean,waarde,meting_type,waarde_type,kwaliteit");
    std::size_t i = 0;
    while (std::getline(lines, line)) {
        REQUIRE(i < json_rows.size());
        const auto& row = json_rows[i++];
        std::vector<std::string> cells;
        std::stringstream ss(line);
        for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
        REQUIRE(cells.size() == 8);
        CHECK(cells[0] == row.at("datum").as_string());
        CHECK(cells[1] == row.at("tijd").as_string());
        CHECK(cells[2] == K1);
        CHECK(cells[3] == MA);
        CHECK(std::stod(cells[4]) == row.at("waarde").to_number<double>());
        CHECK(cells[5] == row.at("meting_type").as_string());
        CHECK(cells[6] == row.at("waarde_type").as_string());
        CHECK(cells[7] == row.at("kwaliteit").as_string());
        if (cells[6] == "V")
            CHECK(cells[4].find('.') == cells[4].size() - 2);  // one decimal, as in JSON
        else
            CHECK(cells[4].find('.') == std::string::npos);
    }
    CHECK(i == json_rows.size());
    auto csv_page = f.request(f.metingen(q + "&formaat=csv&max_rows=10"), f.reader());
    CHECK(csv_page.header("Link").find("offset=10>; rel=\"next\"") != std::string::npos);
}

TEST_CASE("meterstanden: energy readings at interval ends in kWh") {
    Fixture f;
    auto r = f.request(std::string("/api/v1/meterstanden?klant_ean=") + K1 + "&meter_ean=" + MA +
                           "&start_tijd=2026-11-23T23:50:00Z&eind_tijd=2026-11-24T00:00:00Z",
                       f.reader());
    REQUIRE(r.status == 200);
    auto rows = r.json().at("meterstanden").as_array();
    REQUIRE(rows.size() == 8);  // 23:55 and 00:00, four registers each
    // The same names as call 2: meting_type is the register, waarde_type its unit.
    CHECK(rows[0].at("meting_type").as_string() == "actief_levering");
    CHECK(rows[0].at("waarde_type").as_string() == "kWh");
    CHECK(r.body.find("\"waarde\":1028.844,\"meting_type\":\"actief_levering\"") !=
          std::string::npos);  // 1000000+287*100.5 Wh
    CHECK(rows[3].at("waarde_type").as_string() == "kVArh");
    CHECK(rows[4].at("tijd").as_string() == "00:00:00");
}

TEST_CASE("meter details and status") {
    Fixture f;
    auto d = f.request(std::string("/api/v1/meters/") + MA, f.reader());
    REQUIRE(d.status == 200);
    auto j = d.json();
    CHECK(j.at("meter_type").as_string() == "overdrachtspunt");
    // One naming rule: the operator's fields in Dutch, the gateway's own in English.
    CHECK(j.at("make").as_string() == "Janitza");
    CHECK(j.at("voltage_mode").as_string() == "phase_to_neutral");
    CHECK(j.at("sign").as_string() == "import_positive");
    CHECK(j.at("link_state").as_string() == "ok");
    CHECK(j.at("modbus").at("port").as_int64() == 1);
    CHECK(j.at("counters").at("polls").as_int64() == 7);
    for (const char* dutch : {"merk", "serienummer", "profiel", "spanning_modus", "methode",
                              "teken", "laatste_succesvolle_lezing", "laatste_fout", "fouttellers"})
        CHECK_FALSE(j.as_object().contains(dutch));
    // One time format: UTC with Z, to the second.
    CHECK(j.at("last_success").as_string() == "2026-11-24T00:01:00Z");
    check_error(f.request("/api/v1/meters/871685900000000066", f.reader()), 404, "not_found",
                "not on this gateway");
    check_error(f.request(std::string("/api/v1/meters/") + MC, f.reader()), 403, "no_consent", K2);
    check_error(f.request("/api/v1/meters/12345", f.reader()), 400, "invalid_parameter",
                "must be 18 digits");
    // A path below a meter is no endpoint, and neither is the collection with a slash.
    check_error(f.request(std::string("/api/v1/meters/") + MA + "/extra", f.reader()), 404,
                "not_found", "no such endpoint");
    check_error(f.request("/api/v1/meters/", f.reader()), 404, "not_found", "no such endpoint");
    CHECK(j.at("ct_ratio").as_int64() == 1);  // never in exponent notation (1E0)
    CHECK(d.body.find("\"ct_ratio\":1,") != std::string::npos);
    auto s = f.request("/api/v1/status", f.reader());
    REQUIRE(s.status == 200);
    auto sj = s.json();
    CHECK(sj.at("storage").at("intervals").as_int64() == 288);
    CHECK(sj.at("mqtt").at("enabled").as_bool() == false);
    CHECK(sj.at("uptime_s").as_int64() == 300);
    CHECK(sj.at("meters").at(0).at("link_state").as_string() == "ok");
    CHECK(sj.at("now").as_string() == "2026-11-24T00:01:00Z");
    CHECK(sj.at("started_at").as_string() == "2026-11-23T23:56:00Z");
    CHECK(sj.at("meters").at(0).at("last_success").as_string() == "2026-11-24T00:01:00Z");
}

TEST_CASE("401: missing, wrong and malformed credentials, tokens, expiry") {
    Fixture f;
    auto missing = f.request("/api/v1/meters", "");
    check_error(missing, 401, "unauthorized", "credentials required");
    CHECK(missing.header("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
    check_error(f.request("/api/v1/meters", f.basic("liander", "wrong")), 401, "unauthorized",
                "wrong username or password");
    check_error(f.request("/api/v1/meters", "Basic !!!"), 401, "unauthorized", "not base64");
    check_error(f.request("/api/v1/meters", "Digest abc"), 401, "unauthorized",
                "unsupported Authorization scheme");
    check_error(f.request("/api/v1/meters", "Bearer nope"), 401, "unauthorized",
                "unknown bearer token");

    auto t = f.request("/api/v1/token", f.reader(), "POST");
    REQUIRE(t.status == 200);
    auto tj = t.json();
    CHECK(tj.at("token_type").as_string() == "Bearer");
    CHECK(tj.at("expires_in").as_int64() == 3600);
    const std::string bearer = "Bearer " + std::string(tj.at("access_token").as_string());
    CHECK(f.request("/api/v1/meters", bearer).status == 200);
    check_error(f.request("/api/v1/token", f.reader()), 405, "method_not_allowed", "use POST");
    check_error(f.request("/api/v1/token", bearer, "POST"), 401, "unauthorized",
                "takes Basic credentials");
    f.clock.advance(seconds{3601});
    auto expired = f.request("/api/v1/meters", bearer);
    check_error(expired, 401, "unauthorized", "expired");
    CHECK(expired.header("WWW-Authenticate").find("error=\"invalid_token\"") != std::string::npos);
}

TEST_CASE(
    "rotation: the old secret works during the overlap and fails after it, the new one works") {
    Fixture f;
    const std::string old_secret = f.reader_secret, new_secret = gw::generate_secret();
    {
        auto cli = gw::Store::open(f.cfg.storage.path);  // gatewayctl's own connection
        const auto now = time_point_cast<seconds>(f.clock.utc_now());
        REQUIRE(
            (*cli)
                ->rotate_secret("liander", gw::hash_secret(new_secret, 1000), now, now + hours{24})
                .ok());
    }
    CHECK(f.request("/api/v1/meters", f.basic("liander", old_secret)).status == 200);
    CHECK(f.request("/api/v1/meters", f.basic("liander", new_secret)).status == 200);
    f.clock.advance(hours{24} + seconds{1});
    check_error(f.request("/api/v1/meters", f.basic("liander", old_secret)), 401, "unauthorized",
                "wrong");
    CHECK(f.request("/api/v1/meters", f.basic("liander", new_secret)).status == 200);
    // A revoked client fails at once, by password and by token.
    auto token = std::string(f.request("/api/v1/token", f.basic("liander", new_secret), "POST")
                                 .json()
                                 .at("access_token")
                                 .as_string());
    {
        auto cli = gw::Store::open(f.cfg.storage.path);
        REQUIRE((*cli)->revoke_client("liander", time_point_cast<seconds>(f.clock.utc_now())).ok());
    }
    check_error(f.request("/api/v1/meters", f.basic("liander", new_secret)), 401, "unauthorized",
                "revoked");
    check_error(f.request("/api/v1/meters", "Bearer " + token), 401, "unauthorized", "revoked");
}

TEST_CASE("403: consent is enforced on every call, a revocation takes effect on the next request") {
    Fixture f;
    const std::string q = "&start_tijd=2026-11-23T11:50:00Z&eind_tijd=2026-11-23T12:00:00Z";
    CHECK(f.request(f.metingen(q), f.reader()).status == 200);
    {
        auto cli = gw::Store::open(f.cfg.storage.path);
        REQUIRE((*cli)
                    ->record_consent(*gw::Ean18::parse(K1), false,
                                     time_point_cast<seconds>(f.clock.utc_now()), "klant")
                    .ok());
    }
    check_error(f.request(f.metingen(q), f.reader()), 403, "no_consent", "no active consent");
    auto listed = f.request("/api/v1/meters", f.reader()).json();
    CHECK(listed.at("meters").as_array().empty());
    CHECK(listed.at("niet_beschikbaar").as_array().size() == 2);
    check_error(f.request(std::string("/api/v1/metingen?klant_ean=") + K2 + "&meter_ean=" + MC + q,
                          f.reader()),
                403, "no_consent", K2);
    // role: an admin client may not read measurement data
    check_error(f.request("/api/v1/meters", f.basic("installer", f.admin_secret)), 403, "forbidden",
                "role admin");
    CHECK(f.request("/api/v1/status", f.basic("installer", f.admin_secret)).status == 200);
}

TEST_CASE("404 and 405") {
    Fixture f;
    check_error(f.request("/api/v1/nope", f.reader()), 404, "not_found", "no such endpoint");
    check_error(f.request("/api", ""), 404, "not_found", "no such endpoint");
    check_error(f.request("/index.html", ""), 404, "not_found", "no such endpoint");
    check_error(f.request(std::string("/api/v1/metingen?klant_ean=") + K1 + "&meter_ean=" + MC +
                              "&start_tijd=2026-11-23T00:00:00Z",
                          f.reader()),
                404, "not_found", "does not belong to klant_ean");
    check_error(f.request(std::string("/api/v1/metingen?klant_ean=871685900000000066&meter_ean=") +
                              MA + "&start_tijd=2026-11-23T00:00:00Z",
                          f.reader()),
                404, "not_found", "not on this gateway");
    auto post = f.request("/api/v1/meters", f.reader(), "POST");
    check_error(post, 405, "method_not_allowed", "use GET");
    CHECK(post.header("Allow") == "GET");
    CHECK(f.request("/api/v1/meters", f.reader(), "DELETE").status == 405);
    auto head = f.request("/healthz", "", "HEAD");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.header("Content-Length") == "15");
}

TEST_CASE("413, 414 and 431: oversized requests are refused and the server stays up") {
    Fixture f;
    check_error(f.request("/api/v1/token", f.reader(), "POST", {}, std::string(10000, 'x')), 413,
                "payload_too_large", "body");
    check_error(f.request("/api/v1/meters?klant_ean=" + std::string(5000, '8'), f.reader()), 414,
                "uri_too_long", "URL");
    // Longer than the whole header limit: still the URL's fault, not the headers'.
    check_error(f.request("/api/v1/meters?klant_ean=" + std::string(20000, '8'), f.reader()), 414,
                "uri_too_long", "URL");
    check_error(
        f.request("/api/v1/meters", f.reader(), "GET", {{"X-Filler", std::string(9000, 'y')}}), 431,
        "headers_too_large", "headers");
    check_error(
        f.request("/api/v1/meters", f.reader(), "GET", {{"X-Filler", std::string(20000, 'y')}}),
        431, "headers_too_large", "too large");
    check_error(f.request("/api/v1/meters?klant_ean=%ZZ", f.reader()), 400, "invalid_parameter",
                "percent-encoding");
    CHECK(f.request("/healthz", "").status == 200);
}

TEST_CASE("429: login throttling and the per-client rate limit, with Retry-After") {
    SUBCASE("failed logins") {
        Fixture f;
        for (int i = 0; i < 5; ++i)
            CHECK(f.request("/api/v1/meters", f.basic("liander", "bad")).status == 401);
        auto t = f.request("/api/v1/meters", f.reader());  // even the right password waits now
        check_error(t, 429, "too_many_requests", "too many failed logins");
        CHECK(std::stoi(t.header("Retry-After")) > 0);
        f.clock.advance(seconds{61});
        CHECK(f.request("/api/v1/meters", f.reader()).status == 200);
    }
    SUBCASE("rate limit") {
        Fixture f(5);
        for (int i = 0; i < 5; ++i) CHECK(f.request("/api/v1/meters", f.reader()).status == 200);
        auto limited = f.request("/api/v1/meters", f.reader());
        check_error(limited, 429, "too_many_requests", "rate limit of 5 requests per minute");
        CHECK(limited.header("Retry-After") == "12");
        f.clock.advance(seconds{12});
        CHECK(f.request("/api/v1/meters", f.reader()).status == 200);
    }
}

TEST_CASE("503 when storage is unavailable, the process stays up") {
    Fixture f;
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(f.cfg.storage.path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "DROP TABLE intervals", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    check_error(f.request(f.metingen("&start_tijd=2026-11-23T11:50:00Z"), f.reader()), 503,
                "storage_unavailable", "storage unavailable");
    CHECK(f.request("/healthz", "").status == 200);
}

TEST_CASE("correlation ids are echoed or generated, and every data access is audited") {
    Fixture f;
    auto echoed = f.request("/api/v1/meters", f.reader(), "GET",
                            {{"X-Correlation-ID", "0b8e2f6c-1d7a-4f59-9d0e-2b1f3c4d5e6f"}});
    CHECK(echoed.header("X-Correlation-ID") == "0b8e2f6c-1d7a-4f59-9d0e-2b1f3c4d5e6f");
    auto generated = f.request("/api/v1/meters", f.reader());
    CHECK(generated.header("X-Correlation-ID").size() == 36);
    auto junk = f.request("/api/v1/meters", f.reader(), "GET", {{"X-Correlation-ID", "<script>"}});
    CHECK(junk.header("X-Correlation-ID").size() == 36);
    f.request(f.metingen("&start_tijd=2026-11-23T11:50:00Z&eind_tijd=2026-11-23T12:00:00Z"),
              f.reader(), "GET", {{"X-Correlation-ID", "pull-42"}});
    f.on_io([&] { f.api->flush_audit(); });  // rows are batched for up to a second
    auto audit = gw::Store::open(f.cfg.storage.path);
    auto rows = (*audit)->recent_audit(10);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 4);
    const auto& a = rows->front();
    CHECK(a.client == "liander");
    CHECK(a.correlation_id == "pull-42");
    CHECK(a.klant_ean == K1);
    CHECK(a.meter_ean == MA);
    CHECK(a.rows == 10);
    CHECK(a.status == 200);
    CHECK(gw::format_utc(*a.window_start) == "2026-11-23T11:50:00Z");
}

TEST_CASE(
    "TLS: 1.2 and 1.3 only, non-TLS bytes and idle clients do not disturb others, connection "
    "bound") {
    gw::HttpsLimits limits;
    limits.handshake_timeout = seconds{1};
    Fixture f(100000, limits);
    auto try_version = [&](int max_version) {
        asio::io_context cio;
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
        SSL_CTX_set_security_level(ctx.native_handle(), 0);
        beast::ssl_stream<beast::tcp_stream> s(cio, ctx);
        beast::get_lowest_layer(s).connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.server->port()));
        beast::error_code ec;
        s.handshake(asio::ssl::stream_base::client, ec);
        return !ec;
    };
    CHECK_FALSE(try_version(TLS1_1_VERSION));
    CHECK(try_version(TLS1_2_VERSION));
    CHECK(try_version(TLS1_3_VERSION));
    {
        // Plain HTTP on the TLS port: the connection is closed; the server serves on.
        asio::io_context cio;
        tcp::socket raw(cio);
        raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.server->port()));
        asio::write(raw, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")));
        char buf[64];
        beast::error_code ec;
        raw.read_some(asio::buffer(buf), ec);
        CHECK(ec);
    }
    {
        // An idle client that never handshakes is dropped after the timeout; others are served
        // meanwhile.
        asio::io_context cio;
        tcp::socket idle(cio);
        idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.server->port()));
        CHECK(f.request("/healthz", "").status == 200);
        char buf[8];
        beast::error_code ec;
        const auto t0 = steady_clock::now();
        idle.read_some(asio::buffer(buf), ec);
        CHECK(ec);
        CHECK(steady_clock::now() - t0 < seconds{5});
    }
    // keep-alive: two requests on one connection
    {
        asio::io_context cio;
        beast::ssl_stream<beast::tcp_stream> s(cio, f.client_tls);
        beast::get_lowest_layer(s).connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), f.server->port()));
        s.handshake(asio::ssl::stream_base::client);
        for (int i = 0; i < 2; ++i) {
            bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/healthz", 11};
            req.set(bhttp::field::host, "localhost");
            req.keep_alive(true);
            bhttp::write(s, req);
            CHECK(Fixture::read(s, "GET", "/healthz").status == 200);
        }
    }
}

TEST_CASE("at the connection bound the longest-idle connection is closed to admit a new one") {
    Fixture f;
    asio::io_context io2;
    gw::ApiConfig ac = f.cfg.api;
    ac.max_connections = 2;
    ac.max_connections_per_address = 2;
    auto small = gw::HttpsServer::start(
        io2, ac, [](const gw::http::Request&) { return gw::http::Response{}; });
    REQUIRE(small.ok());
    std::thread t([&] { io2.run_for(seconds{10}); });
    asio::io_context cio;
    auto connect = [&](const char* from) {
        auto s = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(cio, f.client_tls);
        auto& sock = beast::get_lowest_layer(*s).socket();
        sock.open(tcp::v4());
        sock.bind(tcp::endpoint(asio::ip::make_address(from), 0));
        beast::get_lowest_layer(*s).connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), (*small)->port()));
        beast::get_lowest_layer(*s).expires_after(seconds{3});
        return s;
    };
    auto oldest = connect("127.0.0.2");
    oldest->handshake(asio::ssl::stream_base::client);
    std::this_thread::sleep_for(milliseconds{50});
    auto second = connect("127.0.0.3");
    second->handshake(asio::ssl::stream_base::client);
    auto third = connect("127.0.0.4");
    beast::error_code ec;
    third->handshake(asio::ssl::stream_base::client, ec);
    CHECK_FALSE(ec);  // admitted
    // The oldest idle connection was closed to make room; the second one is still open.
    char buf[8];
    beast::get_lowest_layer(*oldest).expires_after(seconds{3});
    oldest->read_some(asio::buffer(buf), ec);
    CHECK(ec);
    CHECK(ec != beast::error::timeout);
    asio::post(io2, [&] {
        (*small)->stop();
        io2.stop();
    });
    t.join();
}

TEST_CASE("TLS files: missing, not PEM, or a key that does not match the certificate") {
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    auto missing = gw::configure_tls(ctx, "/nonexistent.crt", GW_TEST_DATA "/tls/server.key");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("api.tls_cert \"/nonexistent.crt\": cannot load") !=
          std::string::npos);
    asio::ssl::context ctx2(asio::ssl::context::tls_server);
    auto not_pem =
        gw::configure_tls(ctx2, GW_TEST_DATA "/tls/server.crt", GW_TEST_DATA "/cli.toml");
    REQUIRE_FALSE(not_pem.ok());
    CHECK(not_pem.error().message.find("api.tls_key") != std::string::npos);
    asio::ssl::context ctx3(asio::ssl::context::tls_server);
    auto mismatch =
        gw::configure_tls(ctx3, GW_TEST_DATA "/tls/server.crt", GW_TEST_DATA "/tls/other.key");
    REQUIRE_FALSE(mismatch.ok());
    CHECK(mismatch.error().message.find("does not belong to the certificate") != std::string::npos);
}

TEST_CASE("an admin grants and revokes consent with PUT and DELETE: idempotent, audited, at once") {
    Fixture f;
    const std::string admin = f.basic("installer", f.admin_secret);  // "installer" is an admin
    const std::string target = std::string("/api/v1/consent/") + K2;
    const std::string data = std::string("/api/v1/metingen?klant_ean=") + K2 + "&meter_ean=" + MC +
                             "&start_tijd=2026-11-23T11:50:00Z&eind_tijd=2026-11-23T12:00:00Z";
    // Not yet: K2's data is refused.
    CHECK(f.request(data, f.reader()).status == 403);
    auto put = f.request(target, admin, "PUT");
    REQUIRE(put.status == 200);
    CHECK(put.json().at("toestemming").as_bool());
    CHECK(put.json().at("gewijzigd").as_bool());
    CHECK(f.request(target, admin, "PUT").json().at("gewijzigd").as_bool() == false);
    CHECK(f.request(data, f.reader()).status == 200);  // effective at once
    auto del = f.request(target, admin, "DELETE");
    REQUIRE(del.status == 200);
    CHECK_FALSE(del.json().at("toestemming").as_bool());
    CHECK(del.json().at("gewijzigd").as_bool());
    CHECK_FALSE(f.request(target, admin, "DELETE").json().at("gewijzigd").as_bool());
    CHECK(f.request(data, f.reader()).status == 403);
    // Two changes in the history, by the admin client; the calls are in the audit log.
    auto history = f.store->consent_history(nullptr);
    REQUIRE(history.ok());
    int by_api = 0;
    for (const auto& e : *history) by_api += e.actor == "api:installer";
    CHECK(by_api == 2);
    f.on_io([&] { f.api->flush_audit(); });
    auto audit = f.store->recent_audit(50);
    REQUIRE(audit.ok());
    const std::vector<gw::AuditRecord> rows = std::move(audit).value();
    bool audited = false;
    for (const auto& a : rows)
        audited = audited || (a.method == "DELETE" && a.klant_ean == K2 && a.status == 200);
    CHECK(audited);
    // Only an admin; a bad EAN is a 400; other methods a 405.
    CHECK(f.request(target, f.reader(), "PUT").status == 403);
    CHECK(f.request(target, f.fitter(), "DELETE").status == 403);
    CHECK(f.request(target, "", "PUT").status == 401);
    CHECK(f.request("/api/v1/consent/871685900000000043", admin, "PUT").status == 400);
    CHECK(f.request(target, admin, "GET").status == 405);
}
