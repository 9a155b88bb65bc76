// MQTT store-and-forward of the real daemon against a real mosquitto on 127.0.0.1 (plain and
// TLS with a test CA): delivery, a broker outage, a gateway killed with unacknowledged
// messages, the retained status and last will, wrong credentials, an unknown CA, a store that
// cannot record acknowledgements, and MQTT disabled. Every wait is for an event, with a deadline.
#include <doctest/doctest.h>
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <regex>

#include "gw/core/time.hpp"
#include "site.hpp"

using namespace std::chrono;
using namespace gw::test;

namespace {

/// One meter on a simulator, 2-second intervals, and the gateway's MQTT section as the test says.
struct Site {
    TempDir& dir;
    SimProcess sim;
    SiteConfig cfg;
    explicit Site(TempDir& d) : dir(d), sim(d, {"--tcp", "127.0.0.1:0", "--scenario", "swing"}) {
        cfg.id = "site-0001";
        cfg.interval_s = 2;
        cfg.db = d.file("gw.db");
        cfg.links = {LinkSpec{"lan", "tcp", sim.port, "", 300}};
        cfg.meters = {MeterSpec{k_meter_b}};
    }
    void mqtt(const Broker& b, const std::string& extra = "") {
        cfg.mqtt_uri = b.uri();
        cfg.mqtt_extra = "keepalive_s = 5\nreconnect_max_s = 2\n" + extra;
        cfg.write(dir.file("gw.toml"));
    }
    std::unique_ptr<Process> gateway() {
        return start_gateway(dir.file("gw.toml"), dir.file("gateway.log"));
    }
    long stored() { return static_cast<long>(stored_intervals(cfg.db).size()); }
    long pending() {
        long n = 0;
        for (const auto& [id, r] : stored_intervals(cfg.db)) n += r.pending;
        return n;
    }
    std::string log() { return read_file(dir.file("gateway.log")); }
};

/// Waits until at least `min` intervals are stored, every one was seen by the subscriber, and
/// nothing is pending.
bool all_delivered(Site& site, Subscriber& sub, milliseconds timeout, long min = 1) {
    return sub.collect_until(
        [&] {
            const auto rows = stored_intervals(site.cfg.db);
            if (static_cast<long>(rows.size()) < min) return false;
            const auto got = sub.ids();
            for (const auto& [id, r] : rows)
                if (r.pending || !got.count(id)) return false;
            return true;
        },
        timeout);
}

/// A broker, a subscriber to it, the site, and its gateway forwarding to the broker.
struct Running {
    TempDir dir;
    Broker broker{dir};
    Subscriber sub{broker, dir};
    Site site{dir};
    std::unique_ptr<Process> gw;
    Running() {
        site.mqtt(broker);
        gw = site.gateway();
    }
};

}  // namespace

TEST_CASE("every interval is delivered, and the retained status says online") {
    Running r;
    auto& [dir, broker, sub, site, gw] = r;
    CHECK(all_delivered(site, sub, seconds{15}, 2));
    CHECK(sub.saw("meters/site-0001/status online"));
    gw->kill_and_wait(SIGTERM);
    CHECK(sub.collect_until([&] { return sub.saw("meters/site-0001/status offline"); },
                            seconds{3}));  // a clean stop
}

TEST_CASE("a broker outage of several intervals loses nothing and the backlog goes oldest first") {
    Running r;
    auto& [dir, broker, sub, site, gw] = r;
    REQUIRE(all_delivered(site, sub, seconds{15}));
    broker.stop();
    REQUIRE(wait_until([&] { return site.pending() >= 3; },
                       seconds{15}));  // three intervals while it is away
    broker.start();
    CHECK(all_delivered(site, sub, seconds{20}));
    CHECK(site.log().find("intervals stay queued") != std::string::npos);
    // oldest first: the ids of the backlog arrive in time order
    std::vector<std::string> order;
    static const std::regex tijd("\"tijd\":\"([^\"]+)\"");
    for (const auto& l : sub.lines) {
        std::smatch m;
        if (std::regex_search(l, m, tijd)) order.push_back(m[1]);
    }
    CHECK(std::is_sorted(order.begin(), order.end()));
    gw->kill_and_wait(SIGTERM);
}

TEST_CASE(
    "a gateway killed with unacknowledged messages delivers them after restart and the last will "
    "says offline") {
    Running r;
    auto& [dir, broker, sub, site, gw] = r;
    REQUIRE(all_delivered(site, sub, seconds{15}));
    // The broker freezes: publishes go out, no PUBACK comes back.
    ::kill(broker.proc->pid(), SIGSTOP);
    REQUIRE(wait_until([&] { return site.pending() >= 1; }, seconds{10}));
    gw->kill_and_wait(SIGKILL);
    ::kill(broker.proc->pid(), SIGCONT);
    // keepalive 5 s: the broker gives up on the dead client and sends its will.
    CHECK(
        sub.collect_until([&] { return sub.saw("meters/site-0001/status offline"); }, seconds{15}));
    gw = site.gateway();
    CHECK(all_delivered(site, sub, seconds{20}));
    CHECK(sub.saw("meters/site-0001/status online"));
    gw->kill_and_wait(SIGTERM);
}

TEST_CASE("TLS with a test CA works, and an unknown CA is reported and nothing is lost") {
    TempDir dir;
    Broker broker(dir, true);
    Subscriber sub(broker, dir);
    Site site(dir);
    site.mqtt(broker, "ca_file = \"" GW_TEST_DATA "/tls/ca.crt\"\n");
    auto gw = site.gateway();
    CHECK(all_delivered(site, sub, seconds{15}));
    gw->kill_and_wait(SIGTERM);

    site.mqtt(broker, "ca_file = \"" GW_TEST_DATA "/tls/server.crt\"\n");
    gw = site.gateway();
    const long before = site.stored();
    CHECK(wait_until([&] { return site.stored() >= before + 2 && site.pending() >= 2; },
                     seconds{15}));  // queued, not lost
    gw->kill_and_wait(SIGTERM);
    const std::string log = site.log();
    CHECK(log.find("cannot connect to " + broker.uri()) != std::string::npos);
    CHECK(log.find("TLS handshake") != std::string::npos);
}

TEST_CASE("wrong credentials are reported, and intervals keep being stored and go out once fixed") {
    TempDir dir;
    const std::string passwd = dir.file("passwd");
    Process mk({"mosquitto_passwd", "-b", "-c", passwd, "site-0001", "right"});
    REQUIRE(wait_until([&] { return !mk.running(); }, seconds{5}));
    Broker broker(dir, false, passwd);
    write_file(dir.file("mqtt.secret"), "wrong\n");
    Site site(dir);
    site.mqtt(broker,
              "username = \"site-0001\"\npassword_file = \"" + dir.file("mqtt.secret") + "\"\n");
    auto gw = site.gateway();
    CHECK(wait_until(
        [&] {
            const std::string log = site.log();
            return log.find("bad user name or password") != std::string::npos ||
                   log.find("not authorized") != std::string::npos;
        },
        seconds{10}));
    CHECK(wait_until([&] { return site.pending() >= 2; }, seconds{10}));
    gw->kill_and_wait(SIGTERM);
    write_file(dir.file("mqtt.secret"), "right\n");
    gw = site.gateway();
    CHECK(wait_until([&] { return site.pending() == 0; }, seconds{15}));
    gw->kill_and_wait(SIGTERM);
}

TEST_CASE("an acknowledged interval whose mark fails is not published again: the marks back off") {
    Running r;
    auto& [dir, broker, sub, site, gw] = r;
    REQUIRE(all_delivered(site, sub, seconds{15}));
    // The store refuses to record acknowledgements (as on a full disk), while intervals go on.
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(site.cfg.db.c_str(), &h) == SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    REQUIRE(sqlite3_exec(h,
                         "CREATE TRIGGER no_marks BEFORE UPDATE OF forward_pending ON intervals "
                         "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sub.collect(milliseconds{50});
    const std::size_t before = sub.lines.size();
    const long stored_before = site.stored();
    REQUIRE(wait_until([&] { return site.stored() >= stored_before + 4; }, seconds{15}));
    sub.collect(milliseconds{100});
    const std::size_t published = sub.lines.size() - before;
    CHECK(published <= 4);  // at most each new interval once before the first failed mark: no storm
    REQUIRE(sqlite3_exec(h, "DROP TRIGGER no_marks;", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(h);
    CHECK(all_delivered(site, sub,
                        seconds{20}));  // and everything goes out once the store takes marks again
    gw->kill_and_wait(SIGTERM);
    CHECK(site.log().find("acknowledged intervals cannot be marked in the store") !=
          std::string::npos);
}

TEST_CASE("with MQTT disabled nothing is queued") {
    TempDir dir;
    Site site(dir);
    site.cfg.write(dir.file("gw.toml"));
    auto gw = site.gateway();
    CHECK(wait_until([&] { return site.stored() >= 2; }, seconds{10}));
    gw->kill_and_wait(SIGTERM);
    CHECK(site.pending() == 0);
}

TEST_CASE(
    "the retained manifest, and a backfill request through the broker sends intervals again") {
    Running r;
    auto& [dir, broker, sub, site, gw] = r;
    REQUIRE(all_delivered(site, sub, seconds{20}, 3));
    const auto manifest = std::find_if(sub.lines.begin(), sub.lines.end(), [](const auto& l) {
        return l.rfind("meters/site-0001/manifest {", 0) == 0;
    });
    REQUIRE(manifest != sub.lines.end());
    CHECK(manifest->find(std::string("\"meter_ean\":\"") + k_meter_b + "\"") != std::string::npos);
    CHECK(manifest->find("\"interval_s\":2") != std::string::npos);

    // Ask for every stored interval again: (first end - 2 s, last end].
    const auto rows = stored_intervals(site.cfg.db);
    const std::string first = rows.begin()->first.substr(rows.begin()->first.find('/') + 1);
    const std::string last = rows.rbegin()->first.substr(rows.rbegin()->first.find('/') + 1);
    auto at = gw::parse_utc(first);
    REQUIRE(at.ok());
    const std::string from = gw::format_utc(time_point_cast<seconds>(*at) - seconds{2});
    const std::string request = std::string(R"({"meter_ean":")") + k_meter_b + R"(","from":")" +
                                from + R"(","to":")" + last + "\"}";
    Process pub({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port), "-q", "1",
                 "-t", "meters/site-0001/cmd/backfill", "-m", request},
                dir.file("pub.log"));
    auto times_seen = [&](const std::string& id) {
        long n = 0;
        for (const auto& l : sub.lines)
            if (l.find("\"id\":\"" + id + "\"") != std::string::npos) ++n;
        return n;
    };
    const bool again = sub.collect_until(
        [&] {
            for (const auto& [id, row] : rows)
                if (times_seen(id) < 2) return false;
            return true;
        },
        seconds{10});
    CHECK(again);
    CHECK(site.log().find("queued again") != std::string::npos);
    // A request the gateway cannot take is refused in its log, and nothing breaks.
    Process bad({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port), "-q", "1",
                 "-t", "meters/site-0001/cmd/backfill", "-m", "{\"meter_ean\":\"x\"}"},
                dir.file("pub2.log"));
    CHECK(wait_until([&] { return site.log().find("backfill request on") != std::string::npos; },
                     seconds{5}));
    CHECK(all_delivered(site, sub, seconds{10}));
}
