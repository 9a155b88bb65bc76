// The API contract: every operation answers every status its OpenAPI document lists, and every
// answer matches the document (the fixture checks each response); challenges, limits, the
// naming rule and the time format; buckets are served only once final.
#include <functional>

#include "api_fixture.hpp"

using namespace gw::test::api;

namespace {

std::string with_query(const std::string& target, const std::string& param) {
    return target + (target.find('?') == std::string::npos ? "?" : "&") + param;
}

/// A valid request of each operation: method, target, credentials.
struct Call {
    std::string method, target, auth;
};

Call valid_call(const Fixture& f, const std::string& path, const std::string& method) {
    const std::string window =
        std::string("?klant_ean=") + K1 + "&meter_ean=" + MA + "&start_tijd=2026-11-23T22:00:00Z";
    std::string target = path;
    if (path == "/api/v1/meters/{meter_ean}") target = std::string("/api/v1/meters/") + MA;
    if (path == "/api/v1/metingen" || path == "/api/v1/meterstanden") target += window;
    const bool open = path == "/healthz" || path == "/api/v1/openapi.json";
    if (path == "/api/v1/live") return {method, target + "?history=24h", f.fitter()};
    if (path == "/") return {method, target, f.fitter()};
    if (path == "/api/v1/consent/{klant_ean}")  // an admin's (the client named "installer")
        return {method, std::string("/api/v1/consent/") + K2, f.basic("installer", f.admin_secret)};
    return {method, target, open ? "" : f.reader()};
}

}  // namespace

TEST_CASE("every operation answers every status its document lists, as the document says") {
    Fixture f;
    const auto doc = json::parse(f.api->openapi());
    const auto before = g_openapi.check->checked();
    int source = 10;  // each throttling run from its own loopback address
    std::set<std::string> documented;
    for (const auto& path : doc.at("paths").as_object()) {
        for (const auto& op : path.value().as_object()) {
            std::string method(op.key());
            for (auto& c : method) c = static_cast<char>(std::toupper(c));
            const std::string p(path.key());
            const Call ok = valid_call(f, p, method);
            for (const auto& st : op.value().at("responses").as_object()) {
                const int status = std::stoi(std::string(st.key()));
                documented.insert(method + " " + p + " " + std::string(st.key()));
                CAPTURE(method + " " + p + " " + std::string(st.key()));
                Reply r;
                switch (status) {
                    case 200:
                        r = f.request(ok.target, ok.auth, method);
                        break;
                    case 400:
                        if (ok.auth
                                .empty()) {  // no parameters to get wrong: a request without Host
                            r = f.raw(method + " " + ok.target + " HTTP/1.1\r\n\r\n", 1).at(0);
                        } else {
                            r = f.request(with_query(ok.target, "foo=1"), ok.auth, method);
                        }
                        break;
                    case 401:
                        r = f.request(ok.target, "", method);
                        break;
                    case 403:  // a role that may not: an admin for data, a reader for the rest
                        r = f.request(
                            ok.target,
                            p == "/api/v1/live" || p == "/" || p == "/api/v1/consent/{klant_ean}"
                                ? f.reader()
                                : f.basic("installer", f.admin_secret),
                            method);
                        break;
                    case 404: {
                        std::string t = ok.target;
                        const std::string unknown = "871685900000000066";
                        t.replace(t.find(MA), std::string(MA).size(), unknown);
                        r = f.request(t, ok.auth, method);
                        break;
                    }
                    case 413:
                        r = f.request(ok.target, ok.auth, method, {}, std::string(10000, 'x'));
                        break;
                    case 414:
                        r = f.request(with_query(ok.target, "x=" + std::string(5000, 'a')), ok.auth,
                                      method);
                        break;
                    case 429: {
                        const std::string from = "127.0.0." + std::to_string(source++);
                        for (int i = 0; i < 6 && r.status != 429; ++i)
                            r = f.request(ok.target, f.basic("liander", "wrong"), method, {}, "",
                                          from);
                        break;
                    }
                    case 431:
                        r = f.request(ok.target, ok.auth, method,
                                      {{"X-Filler", std::string(9000, 'y')}});
                        break;
                    case 500:
                        f.faults->mode = FaultyStore::Mode::throw_all;
                        r = f.request(ok.target, ok.auth, method);
                        f.faults->mode = FaultyStore::Mode::pass;
                        break;
                    case 503:
                        f.faults->mode = p == "/api/v1/token" ? FaultyStore::Mode::fail_all
                                                              : FaultyStore::Mode::fail_data;
                        r = f.request(ok.target, ok.auth, method);
                        f.faults->mode = FaultyStore::Mode::pass;
                        break;
                    default:
                        FAIL("no recipe for status " << status);
                }
                CHECK(r.status == status);
                CHECK(r.header("X-Correlation-ID").size() > 0);
                if (status >= 400) CHECK(r.header("Cache-Control") == "no-store");
            }
        }
    }
    // The document lists statuses, not the recipes above: whatever it lists was produced.
    auto after = g_openapi.check->checked();
    for (const auto& d : documented) {
        const int was = before.count(d) ? before.at(d) : 0;
        CHECK_MESSAGE(after[d] > was, d);
    }
    CHECK(documented.size() > 60);
    MESSAGE(documented.size(), " documented operation and status pairs produced and checked");
}

TEST_CASE("401 challenges: Basic without credentials or with wrong ones, Bearer for a bad token") {
    Fixture f;
    auto none = f.request("/api/v1/meters", "");
    CHECK(none.status == 401);
    CHECK(none.header("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
    auto wrong = f.request("/api/v1/meters", f.basic("liander", "nope"));
    CHECK(wrong.status == 401);
    CHECK(wrong.header("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
    // An unknown token: the Bearer challenge with invalid_token (RFC 6750), not a Basic one.
    auto bad = f.request("/api/v1/meters", "Bearer not-a-token-at-all");
    CHECK(bad.status == 401);
    CHECK(bad.header("WWW-Authenticate")
              .rfind("Bearer realm=\"meter-gateway\", error=\"invalid_token\"", 0) == 0);
    // An expired one: the same, saying so.
    auto tok = f.request("/api/v1/token", f.reader(), "POST").json();
    const std::string bearer = "Bearer " + std::string(tok.at("access_token").as_string());
    CHECK(f.request("/api/v1/meters", bearer).status == 200);
    f.clock.advance(seconds{f.cfg.api.token_lifetime_s + 1});
    auto expired = f.request("/api/v1/meters", bearer);
    CHECK(expired.status == 401);
    CHECK(expired.header("WWW-Authenticate").find("error=\"invalid_token\"") != std::string::npos);
    CHECK(expired.header("WWW-Authenticate").find("expired") != std::string::npos);
    // The token endpoint takes Basic only: a Bearer there is refused with a Basic challenge.
    auto tok2 = f.request("/api/v1/token", f.reader(), "POST").json();
    auto at_token = f.request("/api/v1/token",
                              "Bearer " + std::string(tok2.at("access_token").as_string()), "POST");
    check_error(at_token, 401, "unauthorized", "takes Basic credentials");
    CHECK(at_token.header("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
}

TEST_CASE("a time whose + was not encoded gets a 400 that says to send it as %2B") {
    Fixture f;
    // "+01:00" unencoded in a query string arrives as " 01:00".
    check_error(f.request(f.metingen("&start_tijd=2026-11-23T12:00:00+01:00"), f.reader()), 400,
                "invalid_parameter", "%2B");
    CHECK(f.request(f.metingen("&start_tijd=2026-11-23T12:00:00%2B01:00"), f.reader()).status ==
          200);
}

TEST_CASE("the next page's defaulted eind_tijd is to the second, like every time served") {
    Fixture f;
    f.clock.advance(milliseconds{250});
    auto r = f.request(f.metingen("&start_tijd=2026-11-23T00:00:00Z&max_rows=5"), f.reader());
    REQUIRE(r.status == 200);
    const std::string next(r.json().at("next").as_string());
    CHECK(next.find("eind_tijd=2026-11-24T00:01:00Z&") != std::string::npos);
    CHECK(next.find(".250") == std::string::npos);
}

TEST_CASE("15- and 60-minute buckets are served only once final, and then never change") {
    Fixture f;
    const auto ean = *gw::Ean18::parse(MA);
    auto commit = [&](gw::SysS end) {
        f.on_io([&] {
            gw::IntervalRecord r{ean, end};
            r.p_w = -2000;
            r.q_var = 0;
            r.u1_v = r.u2_v = r.u3_v = 230;
            r.samples = 300;
            r.coverage = 1;
            REQUIRE(
                f.store->commit_interval(r, nullptr, false, {}, gw::SysMs{end.time_since_epoch()})
                    .ok());
            f.api->data_changed();
        });
    };
    const gw::SysS day2 = k_day + hours{24};
    auto at = [&](gw::SysS t, milliseconds extra) {  // the fixture's clock only goes forward
        const gw::SysMs target = gw::SysMs{t.time_since_epoch()} + extra;
        REQUIRE(target >= f.clock.utc_now());
        f.clock.advance(duration_cast<milliseconds>(target - f.clock.utc_now()));
    };
    const std::string q = "&start_tijd=2026-11-24T00:00:00Z&resolutie=15min";
    auto rows = [&] {
        auto r = f.request(f.metingen(q), f.reader());
        REQUIRE(r.status == 200);
        return r.json().at("metingen").as_array();
    };
    // 00:15:01: the bucket's end has passed, but only its first part (00:05) is committed; the
    // daemon closes an interval a poll period and a half second after its end. Not served.
    commit(day2 + minutes{5});
    at(day2 + minutes{15}, seconds{1});
    CHECK(rows().empty());
    // The last parts arrive: served, gemeten, from now on always the same.
    commit(day2 + minutes{10});
    commit(day2 + minutes{15});
    auto served = rows();
    REQUIRE(served.size() == 5);
    CHECK(served[0].at("kwaliteit").as_string() == "gemeten");
    CHECK(served[0].at("tijd").as_string() == "00:15:00");
    // A meter whose parts never come: the bucket is final once the commit delay of its last part
    // has passed, and served onvolledig with what there is.
    commit(day2 + minutes{20});
    at(day2 + minutes{30}, seconds{2});
    CHECK(rows().size() == 5);
    at(day2 + minutes{30}, seconds{30});
    auto late = rows();
    REQUIRE(late.size() == 10);
    CHECK(late[5].at("kwaliteit").as_string() == "onvolledig");
    // Storage failing: the daemon holds a closed interval in memory (00:40) after one it could
    // commit (00:35). The bucket they belong to is not final, however late it is.
    commit(day2 + minutes{35});
    f.on_io([&] { f.held[MA] = day2 + minutes{40}; });
    at(day2 + minutes{50}, seconds{0});
    CHECK(rows().size() == 10);
    commit(day2 + minutes{40});
    f.on_io([&] { f.held.clear(); });
    auto all = rows();
    REQUIRE(all.size() == 15);
    CHECK(all[10].at("kwaliteit").as_string() == "onvolledig");  // 00:45 never came
    CHECK(all[10].at("waarde").as_int64() == -2);
}

TEST_CASE("the document accepts both forms of a list parameter") {
    Fixture f;
    // Repeated and comma-separated: the fixture checks every request the server accepted
    // against the document's parameters, so both forms must pass there too.
    CHECK(f.request(std::string("/api/v1/meters?klant_ean=") + K1 + "," + K2, f.reader()).status ==
          200);
    CHECK(f.request(std::string("/api/v1/meters?klant_ean=") + K1 + "&klant_ean=" + K2, f.reader())
              .status == 200);
    CHECK(f.request(f.metingen("&start_tijd=2026-11-23T22:00:00Z&meting_type=actief_vermogen,"
                               "spanning_L1"),
                    f.reader())
              .status == 200);
    CHECK(f.request(f.metingen("&start_tijd=2026-11-23T22:00:00Z&meting_type=actief_vermogen&"
                               "meting_type=spanning_L1"),
                    f.reader())
              .status == 200);
    // And a value the server refuses is refused by the document as well.
    CHECK_FALSE(g_openapi.check
                    ->request_problems("GET", f.metingen("&start_tijd=2026-11-23T22:00:00Z&"
                                                         "meting_type=actief_vermogen,bogus"))
                    .empty());
    CHECK_FALSE(
        g_openapi.check->request_problems("GET", std::string("/api/v1/meters?klant_ean=123"))
            .empty());
}

namespace {

/// Every schema in `v` (a document or a part of it), with its JSON pointer-ish path.
void each_schema(const json::value& v, const std::string& where,
                 const std::function<void(const json::object&, const std::string&)>& fn) {
    if (v.is_array()) {
        int i = 0;
        for (const auto& x : v.as_array()) each_schema(x, where + "/" + std::to_string(i++), fn);
        return;
    }
    if (!v.is_object()) return;
    const auto& o = v.as_object();
    if (o.contains("type") && o.at("type").is_string()) fn(o, where);
    for (const auto& kv : o) {
        // Skip what is not a schema: examples, and the names under properties are keys.
        if (kv.key() == "example" || kv.key() == "examples") continue;
        each_schema(kv.value(), where + "/" + std::string(kv.key()), fn);
    }
}

}  // namespace

TEST_CASE("the document is complete: required fields, closed objects, headers, ids, security") {
    Fixture f;
    const auto doc = json::parse(f.api->openapi());
    CHECK(doc.at("info").at("license").at("name").as_string().size() > 0);
    // Every object schema says which fields are always there and that there are no others, and
    // every field name follows the naming rule: snake_case (the operator's Dutch names are too),
    // none of the names that had two spellings.
    const std::set<std::string> retired{"laatste_succesvolle_lezing",
                                        "fouttellers",
                                        "laatste_fout",
                                        "teken",
                                        "eenheid",
                                        "register"};
    const std::regex snake("^[a-z][a-z0-9]*(_[a-z0-9]+)*$");
    int objects = 0;
    each_schema(doc, "", [&](const json::object& s, const std::string& where) {
        if (s.at("type") != "object") return;
        ++objects;
        CAPTURE(where);
        CHECK(s.contains("additionalProperties"));
        if (!s.contains("properties")) return;  // a map: additionalProperties says what it holds
        CHECK(s.contains("required"));
        for (const auto& p : s.at("properties").as_object()) {
            CAPTURE(std::string(p.key()));
            CHECK(std::regex_match(std::string(p.key()), snake));
            CHECK(retired.count(std::string(p.key())) == 0);
        }
    });
    CHECK(objects >= 15);
    // Headers where they occur.
    const auto& responses = doc.at("components").at("responses").as_object();
    for (const auto& r : responses) {
        CAPTURE(std::string(r.key()));
        const auto& h = r.value().at("headers").as_object();
        CHECK(h.contains("X-Correlation-ID"));
        CHECK(h.contains("Cache-Control"));
    }
    CHECK(responses.at("Unauthorized").at("headers").as_object().contains("WWW-Authenticate"));
    CHECK(responses.at("TooManyRequests").at("headers").as_object().contains("Retry-After"));
    // Operations: a unique id each; the open ones cannot answer 401, 403 or 429; the token
    // endpoint takes Basic only.
    std::set<std::string> ids;
    for (const auto& path : doc.at("paths").as_object())
        for (const auto& op : path.value().as_object()) {
            const std::string name = std::string(op.key()) + " " + std::string(path.key());
            CAPTURE(name);
            REQUIRE(op.value().as_object().contains("operationId"));
            CHECK(ids.insert(std::string(op.value().at("operationId").as_string())).second);
            const auto& rs = op.value().at("responses").as_object();
            CHECK(rs.contains("200"));
            CHECK_FALSE(rs.contains("405"));  // no documented operation can get one
            const bool open = path.key() == "/healthz" || path.key() == "/api/v1/openapi.json";
            for (const char* s : {"401", "429"}) CHECK(rs.contains(s) == !open);
            if (open) CHECK_FALSE(rs.contains("403"));
            // The document's security is Basic or Bearer; an open operation says none.
            const auto& o = op.value().as_object();
            if (open) CHECK((o.contains("security") && o.at("security").as_array().empty()));
            const auto& ok = rs.at("200").as_object();
            CHECK(ok.at("headers").as_object().contains("X-Correlation-ID"));
            if (path.key() == "/api/v1/metingen")
                CHECK(ok.at("headers").as_object().contains("Link"));
        }
    CHECK(ids.size() == 13);
    CHECK(json::serialize(doc.at("paths").at("/api/v1/token").at("post").at("security")) ==
          R"([{"basic":[]}])");
    // The quantities: whole kW and kVAr, V with one decimal, and enums for every coded value.
    const auto& schemas = doc.at("components").at("schemas");
    CHECK(schemas.at("MetingVermogen").at("properties").at("waarde").at("type") == "integer");
    CHECK(schemas.at("MetingSpanning").at("properties").at("waarde").at("type") == "number");
    CHECK(std::string(schemas.at("MetingSpanning").at("description").as_string())
              .find("one decimal") != std::string::npos);
    CHECK(schemas.at("Kwaliteit").as_object().contains("enum"));
    CHECK(schemas.at("Error")
              .at("properties")
              .at("error")
              .at("properties")
              .at("code")
              .as_object()
              .contains("enum"));
    CHECK(schemas.at("Meterstanden")
              .at("properties")
              .at("meterstanden")
              .at("items")
              .at("properties")
              .at("datum")
              .at("format") == "date");
}
