// The fleet as processes: three gateways with their own simulated meters, one mosquitto, a
// throwaway PostgreSQL and two meter-headend instances sharing the subscription. Call 2 on a
// gateway and on the head-end give the same metingen; call 1 on the head-end lists every meter;
// malformed, duplicate and conflicting messages are counted and change nothing; a killed
// instance, both stopped, and PostgreSQL restarted lose nothing (the backfill fills the gaps).
#include <doctest/doctest.h>
#include <signal.h>

#include <boost/json.hpp>

#include <regex>

#include "gw/api/secret.hpp"
#include "gw/pgstore/pg_store.hpp"
#include "gw/store/store.hpp"
#include "https_client.hpp"
#include "pg_cluster.hpp"
#include "site.hpp"

using namespace std::chrono;
using namespace gw::test;

namespace {

struct SiteSpec {
    std::string id, klant, meter_a, meter_b;
};
const SiteSpec k_sites[] = {
    {"site-1", "871685900000100018", "871685900000100025", "871685900000100032"},
    {"site-2", "871685900000200015", "871685900000200022", "871685900000200039"},
    {"site-3", "871685900000300012", "871685900000300029", "871685900000300036"},
};

/// A gateway with two meters on its own simulator, 2-second intervals, forwarding to the broker.
struct FleetSite {
    SiteSpec spec;
    TempDir& dir;
    SimProcess sim;
    SiteConfig cfg;
    std::unique_ptr<Process> gw;
    FleetSite(TempDir& d, const SiteSpec& s, const Broker& broker, bool api)
        : spec(s),
          dir(d),
          sim(d, {"--tcp", "127.0.0.1:0", "--unit", "1", "--unit", "2", "--scenario", "swing"},
              s.id + "-sim.log") {
        cfg.id = s.id;
        cfg.interval_s = 2;
        cfg.db = d.file(s.id + ".db");
        cfg.api = api;
        cfg.customers = {s.klant};
        cfg.links = {LinkSpec{"lan", "tcp", sim.port, "", 300}};
        cfg.meters = {
            MeterSpec{s.meter_a, "bruto_productie", "lan", 1, "eastron-sdm630", 200, "", s.klant},
            MeterSpec{s.meter_b, "overdrachtspunt", "lan", 2, "eastron-sdm630", 200, "", s.klant}};
        cfg.mqtt_uri = broker.uri();
        cfg.mqtt_extra = "keepalive_s = 5\nreconnect_max_s = 2\n";
        cfg.write(d.file(s.id + ".toml"));
    }
    void start() { gw = start_gateway(dir.file(spec.id + ".toml"), dir.file(spec.id + ".log")); }
};

/// A head-end instance.
struct HeadendProc {
    TempDir& dir;
    std::string id;
    std::unique_ptr<Process> proc;
    HeadendProc(TempDir& d, std::string name, const PgCluster& pg, const Broker& broker)
        : dir(d), id(std::move(name)) {
        write_file(
            d.file(id + ".toml"),
            "[headend]\nid = \"" + id +
                "\"\nlog_level = \"debug\"\nbackfill_after_s = 4\n\n[postgres]\nconninfo = \"" +
                pg.conninfo() +
                "\"\n\n[api]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"" GW_TEST_DATA
                "/tls/server.crt\"\ntls_key = \"" GW_TEST_DATA
                "/tls/server.key\"\n\n[mqtt]\nuri = \"" +
                broker.uri() + "\"\nclient_id = \"" + id +
                "\"\nkeepalive_s = 5\nreconnect_max_s = 2\nsession_expiry_s = 5\nbatch_ms = 50\n");
    }
    void start() {
        log_from = log().size();
        std::vector<std::string> argv{GW_METER_HEADEND, "--config", dir.file(id + ".toml")};
        if (std::getenv("GW_TEST_HEADEND_GDB") != nullptr)
            argv.insert(argv.begin(), {"gdb", "-q", "-batch", "-ex", "run", "-ex",
                                       "thread apply all bt 8", "--args"});
        proc = std::make_unique<Process>(argv, dir.file(id + ".log"));
    }
    /// The port of the latest start (the log is appended to across restarts).
    int port() {
        static const std::regex listening("HTTPS pull API listening on 127\\.0\\.0\\.1:([0-9]+)");
        int found = 0;
        wait_until(
            [&] {
                const std::string text = log();
                for (auto it = std::sregex_iterator(text.begin() + static_cast<long>(log_from),
                                                    text.end(), listening);
                     it != std::sregex_iterator(); ++it)
                    found = std::stoi((*it)[1]);
                return found > 0;
            },
            seconds{15});
        return found;
    }
    std::size_t log_from = 0;  ///< where the latest start's log begins
    std::string log() { return read_file(dir.file(id + ".log")); }
};

/// Every interval the gateways stored (by MQTT id) that the head-end does not hold.
std::set<std::string> missing(gw::PgStore& pg,
                              const std::vector<std::unique_ptr<FleetSite>>& sites) {
    std::set<std::string> out;
    for (const auto& s : sites) {
        for (const auto& [id, r] : stored_intervals(s->cfg.db)) {
            const auto slash = id.find('/');
            auto meter = gw::Ean18::parse(id.substr(0, slash));
            auto end = gw::parse_utc(id.substr(slash + 1));
            if (!meter || !end) continue;
            const auto e = time_point_cast<seconds>(*end);
            auto rows = pg.intervals(*meter, e - seconds{1}, e, 0, 1);
            if (!rows || rows->empty()) out.insert(id);
        }
    }
    return out;
}

std::string metingen(int port, const std::string& user, const std::string& secret,
                     const SiteSpec& s, const std::string& from, const std::string& to) {
    const std::string target = "/api/v1/metingen?klant_ean=" + s.klant + "&meter_ean=" + s.meter_b +
                               "&start_tijd=" + from + "&eind_tijd=" + to +
                               "&meting_type=actief_vermogen,blind_vermogen,spanning_L1,"
                               "spanning_L2,spanning_L3";
    auto r = https_request(port, target, user, secret);
    INFO(r.body);
    REQUIRE(r.status == 200);
    return boost::json::serialize(boost::json::parse(r.body).at("metingen"));
}

void publish(TempDir& dir, const Broker& broker, const std::string& topic,
             const std::string& payload) {
    Process p({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port), "-q", "1",
               "-t", topic, "-m", payload},
              dir.file("pub.log"));
    REQUIRE(wait_until([&] { return !p.running(); }, seconds{5}));
}

}  // namespace

TEST_CASE("three gateways, one broker, two head-ends: the same data, nothing lost through faults") {
    TempDir dir;
    PgCluster pg(dir);
    Broker broker(dir);
    const std::string secret = gw::generate_secret();
    auto store = gw::PgStore::open(pg.conninfo());
    REQUIRE(store.ok());
    gw::PgStore& db = **store;
    REQUIRE(
        db.add_client("liander", gw::Role::reader, gw::hash_secret(secret, 1000), gw::SysS{}).ok());
    for (const auto& s : k_sites)
        REQUIRE(db.record_consent(*gw::Ean18::parse(s.klant), true, gw::SysS{}, "test").ok());

    HeadendProc he1(dir, "he-1", pg, broker), he2(dir, "he-2", pg, broker);
    he1.start();
    he2.start();
    const int he_port = he1.port();
    INFO(he1.log());
    REQUIRE(he_port > 0);
    REQUIRE(he2.port() > 0);

    std::vector<std::unique_ptr<FleetSite>> sites;
    for (const auto& s : k_sites)
        sites.push_back(std::make_unique<FleetSite>(dir, s, broker, s.id == "site-1"));
    {
        auto gs = gw::Store::open(sites[0]->cfg.db);
        REQUIRE(gs.ok());
        REQUIRE(
            (*gs)
                ->add_client("liander", gw::Role::reader, gw::hash_secret(secret, 1000), gw::SysS{})
                .ok());
        REQUIRE((*gs)
                    ->record_consent(*gw::Ean18::parse(k_sites[0].klant), true, gw::SysS{}, "test")
                    .ok());
    }
    for (auto& s : sites) s->start();
    const int gw_port = wait_api_port(dir.file("site-1.log"), seconds{15});
    REQUIRE(gw_port > 0);

    auto all_in = [&](long min_each, seconds timeout) {
        return wait_until(
            [&] {
                for (const auto& s : sites)
                    if (static_cast<long>(stored_intervals(s->cfg.db).size()) < min_each)
                        return false;
                return missing(db, sites).empty();
            },
            timeout);
    };
    REQUIRE(all_in(8, seconds{40}));

    // Call 1 on the head-end: every customer's meters.
    auto meters = https_request(he_port, "/api/v1/meters", "liander", secret);
    INFO(meters.body);
    REQUIRE(meters.status == 200);
    const auto listed = boost::json::parse(meters.body).at("meters").as_array();
    CHECK(listed.size() == 6);

    // Call 2: the same metingen from the gateway and from the head-end.
    const auto rows = stored_intervals(sites[0]->cfg.db);
    const std::string first = rows.begin()->first, last = rows.rbegin()->first;
    auto tijd = [](const std::string& id) { return id.substr(id.find('/') + 1); };
    const std::string from =
        gw::format_utc(time_point_cast<seconds>(*gw::parse_utc(tijd(first))) - seconds{10});
    MESSAGE(
        pg.psql("SELECT meter_ean, first_s, scanned_to_s, (SELECT min(extract(epoch from end_at)) "
                "FROM intervals i WHERE i.meter_ean = m.meter_ean) FROM meter m"));
    const std::string to = tijd(last);
    const std::string at_gw = metingen(gw_port, "liander", secret, k_sites[0], from, to);
    const std::string at_he = metingen(he_port, "liander", secret, k_sites[0], from, to);
    CHECK(at_gw.size() > 100);
    CHECK(at_gw == at_he);

    // Malformed, duplicate and conflicting messages: counted, nothing changes.
    const std::string topic =
        "meters/site-1/" + k_sites[0].klant + "/" + k_sites[0].meter_b + "/interval";
    publish(dir, broker, topic, "{not json");
    publish(dir, broker, topic, R"({"id":"x"})");
    auto pr = db.intervals(*gw::Ean18::parse(k_sites[0].meter_b), gw::SysS{},
                           gw::SysS{hours{24 * 365 * 100}}, 0, 1);
    REQUIRE(pr.ok());
    REQUIRE_FALSE(pr->empty());
    const gw::IntervalRecord kept = pr->front();
    const std::string id = k_sites[0].meter_b + "/" + gw::format_utc(kept.end);
    auto payload = [&](long kw) {
        return R"({"id":")" + id + R"(","gateway_id":"site-1","klant_ean":")" + k_sites[0].klant +
               R"(","meter_ean":")" + k_sites[0].meter_b +
               R"(","meter_type":"overdrachtspunt","tijd":")" + gw::format_utc(kept.end) +
               R"(","interval_s":2,"actief_vermogen_kw":)" + std::to_string(kw) +
               R"(,"blind_vermogen_kvar":0,"spanning_l1_v":230.0,"spanning_l2_v":230.0,"spanning_l3_v":230.0,"kwaliteit":"gemeten","monsters":9,"dekking":1.00})";
    };
    publish(dir, broker, topic, payload(123456));
    publish(dir, broker, topic, payload(123457));
    auto totals = [&] {
        gw::IngestCounters t;
        auto all = db.ingest_counters();
        if (!all.ok()) return t;
        const std::vector<gw::IngestCounters> list = std::move(all).value();
        for (const auto& c : list) {
            t.malformed += c.malformed;
            t.conflicts += c.conflicts;
            t.duplicates += c.duplicates;
        }
        return t;
    };
    CHECK(wait_until(
        [&] {
            const auto t = totals();
            return t.malformed >= 2 && t.conflicts >= 2;
        },
        seconds{10}));
    CHECK(totals().malformed == 2);
    CHECK(totals().conflicts == 2);
    auto after = db.intervals(kept.meter_ean, kept.end - seconds{1}, kept.end, 0, 1);
    REQUIRE(after.ok());
    REQUIRE(after->size() == 1);
    CHECK(after->front().same_values(kept));
    const std::string refused_logs = he1.log() + he2.log();
    CHECK(refused_logs.find("refused a message on " + topic) != std::string::npos);

    // Kill one instance: the other goes on; what the broker still queues for the dead session
    // expires with it (5 s) and the backfill brings it.
    he1.proc->kill_and_wait(SIGKILL);
    const long before = static_cast<long>(stored_intervals(sites[1]->cfg.db).size());
    REQUIRE(wait_until(
        [&] { return static_cast<long>(stored_intervals(sites[1]->cfg.db).size()) >= before + 4; },
        seconds{20}));
    CHECK(all_in(0, seconds{45}));
    CHECK(https_request(he2.port(), "/api/v1/meters", "liander", secret).status == 200);

    // Both stopped for three intervals, and PostgreSQL restarted meanwhile: nothing missing after.
    he2.proc->kill_and_wait(SIGTERM);
    pg.stop("fast");
    std::this_thread::sleep_for(seconds{6});
    pg.start();
    he1.start();
    he2.start();
    REQUIRE(he1.port() > 0);
    CHECK(all_in(0, seconds{45}));
    // PostgreSQL restarted under a running ingest: it waits and resumes.
    pg.stop("fast");
    std::this_thread::sleep_for(seconds{3});
    pg.start();
    const long now_stored = static_cast<long>(stored_intervals(sites[2]->cfg.db).size());
    REQUIRE(wait_until(
        [&] {
            return static_cast<long>(stored_intervals(sites[2]->cfg.db).size()) >= now_stored + 3;
        },
        seconds{20}));
    CHECK(all_in(0, seconds{45}));
    const std::string logs = he1.log() + he2.log();
    CHECK(logs.find("ingest waits for PostgreSQL") != std::string::npos);
    CHECK(logs.find("asked site-") != std::string::npos);  // a backfill was needed and made
    // headendctl: the fleet's status, and a revocation that takes effect on the next request.
    auto ctl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {GW_HEADENDCTL, "--config", dir.file("he-1.toml")});
        Process p(args, dir.file("ctl.log"));
        std::string out;
        while (auto line = p.read_line(seconds{10})) out += *line + "\n";
        return out;
    };
    const std::string status = ctl({"status"});
    INFO(status);
    CHECK(status.find("3 gateway(s)") != std::string::npos);
    CHECK(status.find("meter " + k_sites[2].meter_b + "  overdrachtspunt") != std::string::npos);
    CHECK(status.find("last day ") != std::string::npos);
    CHECK(status.find("he-2  received ") != std::string::npos);
    CHECK(ctl({"consent", "revoke", k_sites[2].klant, "--by", "test"}).find("consent revoked") !=
          std::string::npos);
    auto call1 = https_request(he1.port(), "/api/v1/meters", "liander", secret);
    REQUIRE(call1.status == 200);
    const auto j = boost::json::parse(call1.body);
    CHECK(j.at("meters").as_array().size() == 4);
    CHECK(j.at("niet_beschikbaar").as_array().size() == 1);
    CHECK(call1.body.find(std::string("\"klant_ean\":\"") + k_sites[2].klant +
                          "\",\"reden\":\"geen_toestemming\"") != std::string::npos);
    for (auto& s : sites) s->gw->kill_and_wait(SIGTERM);
    he1.proc->kill_and_wait(SIGTERM);
    he2.proc->kill_and_wait(SIGTERM);
}
