// MQTT store-and-forward against a real mosquitto on 127.0.0.1 (plain and TLS with a test CA):
// normal delivery, broker outage, gateway SIGKILL with unacknowledged messages, retained
// status and last will, wrong credentials, unknown CA, and MQTT disabled.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "gw/forwarding/mqtt_forwarder.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/store/store.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

using namespace std::chrono;

namespace {

constexpr const char* MA = "871685900000000035";

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

bool wait_port(int port, seconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(milliseconds{50});
    }
    return false;
}

struct Broker {
    gw::test::TempDir& dir;
    int port;
    bool tls;
    std::unique_ptr<gw::test::Process> proc;
    Broker(gw::test::TempDir& d, bool with_tls = false, const std::string& passwd = "") : dir(d), port(free_port()), tls(with_tls) {
        std::ofstream conf(d.file("mosquitto.conf"));
        conf << "listener " << port << " 127.0.0.1\n"
             << "persistence true\npersistence_location " << d.path() << "/\n"
             << "log_dest stderr\n";
        if (::geteuid() == 0) conf << "user root\n";  // else it drops to 'mosquitto', who cannot read our temp dir
        if (passwd.empty()) conf << "allow_anonymous true\n";
        else conf << "allow_anonymous false\npassword_file " << passwd << "\n";
        if (with_tls)
            conf << "cafile " GW_TEST_DATA "/tls/ca.crt\ncertfile " GW_TEST_DATA "/tls/broker.crt\nkeyfile " GW_TEST_DATA "/tls/broker.key\n";
        conf.close();
        start();
    }
    void start() {
        proc = std::make_unique<gw::test::Process>(std::vector<std::string>{"mosquitto", "-c", dir.file("mosquitto.conf")},
                                                   dir.file("mosquitto.log"));
        REQUIRE_MESSAGE(wait_port(port, seconds{5}), gw::test::read_file(dir.file("mosquitto.log")));
    }
    void stop() { proc->kill_and_wait(SIGTERM); }
    std::string uri() const { return (tls ? "ssl://127.0.0.1:" : "tcp://127.0.0.1:") + std::to_string(port); }
};

/// A persistent-session subscriber (QoS 1, fixed id): it collects what the broker delivers,
/// across broker restarts.
struct Subscriber {
    std::unique_ptr<gw::test::Process> proc;
    std::vector<std::string> lines;
    Subscriber(const Broker& b, gw::test::TempDir& dir) {
        std::vector<std::string> argv{"mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(b.port), "-v", "-q", "1",
                                      "-c", "-i", "test-sub", "-t", "meters/#"};
        if (b.tls) argv.insert(argv.end(), {"--cafile", GW_TEST_DATA "/tls/ca.crt"});
        proc = std::make_unique<gw::test::Process>(argv, dir.file("sub.log"));
        std::this_thread::sleep_for(milliseconds{300});  // subscribed before anything is published
    }
    void collect(milliseconds for_at_most) {
        const auto deadline = steady_clock::now() + for_at_most;
        while (steady_clock::now() < deadline)
            if (auto l = proc->read_line(milliseconds{50})) lines.push_back(*l);
    }
    std::set<std::string> ids() const {
        std::set<std::string> out;
        static const std::regex id("\"id\":\"([0-9]+/[0-9TZ:-]+)\"");
        for (const auto& l : lines) {
            std::smatch m;
            if (std::regex_search(l, m, id)) out.insert(m[1]);
        }
        return out;
    }
    bool saw(const std::string& line) const { return std::find(lines.begin(), lines.end(), line) != lines.end(); }
};

struct Site {
    gw::test::TempDir& dir;
    int sim_port = 0;
    std::unique_ptr<gw::test::Process> sim;
    std::string db;
    Site(gw::test::TempDir& d) : dir(d), db(d.file("gw.db")) {
        sim = std::make_unique<gw::test::Process>(
            std::vector<std::string>{GW_METER_SIM, "--tcp", "127.0.0.1:0", "--scenario", "swing", "--print-s", "0"},
            d.file("sim.log"));
        auto line = sim->wait_for_line("listening", seconds{5});
        REQUIRE(line.has_value());
        sim_port = std::stoi(line->substr(line->rfind(':') + 1));
    }
    void write_config(const std::string& mqtt_section) {
        gw::test::write_file(dir.file("gw.toml"), R"(
[gateway]
id = "site-0001"
interval_s = 2
log_level = "debug"
trust_clock = true
[storage]
path = ")" + db + R"("
[api]
enabled = false
)" + mqtt_section + R"(
[[customer]]
klant_ean = "871685900000000011"
[[link]]
id = "lan"
type = "tcp"
host = "127.0.0.1"
port = )" + std::to_string(sim_port) + R"(
response_timeout_ms = 300
[[meter]]
meter_ean = "871685900000000035"
klant_ean = "871685900000000011"
meter_type = "overdrachtspunt"
link = "lan"
unit_id = 1
profile = "eastron-sdm630"
poll_ms = 200
)");
    }
    std::unique_ptr<gw::test::Process> gateway() {
        return std::make_unique<gw::test::Process>(std::vector<std::string>{GW_METER_GATEWAY, "--config", dir.file("gw.toml")},
                                                   dir.file("gateway.log"));
    }
    /// (stored interval ids, still pending)
    std::pair<std::set<std::string>, std::int64_t> stored() {
        gw::OpenOptions existing;
        existing.create = false;
        auto s = gw::Store::open(db, existing);
        if (!s) return {};
        auto rows = (*s)->intervals(*gw::Ean18::parse(MA), gw::SysS{}, gw::SysS{hours{24 * 365 * 100}}, 0, 100000);
        std::set<std::string> ids;
        for (const auto& r : *rows) ids.insert(std::string(MA) + "/" + gw::format_utc(r.end));
        return {ids, (*s)->stats()->pending_forward};
    }
    std::string log() { return gw::test::read_file(dir.file("gateway.log")); }
};

std::string mqtt_section(const Broker& b, const std::string& extra = "") {
    return "[mqtt]\nenabled = true\nuri = \"" + b.uri() + "\"\nkeepalive_s = 5\nreconnect_max_s = 2\n" + extra;
}

/// Waits until every stored interval was seen by the subscriber and nothing is pending.
bool all_delivered(Site& site, Subscriber& sub, seconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        sub.collect(milliseconds{300});
        auto [ids, pending] = site.stored();
        const auto got = sub.ids();
        if (!ids.empty() && pending == 0 &&
            std::includes(got.begin(), got.end(), ids.begin(), ids.end()))
            return true;
    }
    return false;
}

}  // namespace

TEST_CASE("every interval is delivered, and the retained status says online") {
    gw::test::TempDir dir;
    Broker broker(dir);
    Subscriber sub(broker, dir);
    Site site(dir);
    site.write_config(mqtt_section(broker));
    auto gw = site.gateway();
    std::this_thread::sleep_for(seconds{5});
    CHECK(all_delivered(site, sub, seconds{10}));
    CHECK(sub.saw("meters/site-0001/status online"));
    CHECK(site.stored().first.size() >= 2);
    gw->kill_and_wait(SIGTERM);
    sub.collect(milliseconds{500});
    CHECK(sub.saw("meters/site-0001/status offline"));  // published on a clean stop
}

TEST_CASE("a broker outage of several intervals loses nothing and the backlog goes oldest first") {
    gw::test::TempDir dir;
    Broker broker(dir);
    Subscriber sub(broker, dir);
    Site site(dir);
    site.write_config(mqtt_section(broker));
    auto gw = site.gateway();
    REQUIRE(all_delivered(site, sub, seconds{15}));
    broker.stop();
    std::this_thread::sleep_for(seconds{7});  // three or more intervals while the broker is away
    const auto [during, pending] = site.stored();
    CHECK(pending >= 3);
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

TEST_CASE("a gateway killed with unacknowledged messages delivers them after restart and the last will says offline") {
    gw::test::TempDir dir;
    Broker broker(dir);
    Subscriber sub(broker, dir);
    Site site(dir);
    site.write_config(mqtt_section(broker));
    auto gw = site.gateway();
    REQUIRE(all_delivered(site, sub, seconds{15}));
    // The broker freezes: publishes go out, no PUBACK comes back.
    ::kill(broker.proc->pid(), SIGSTOP);
    std::this_thread::sleep_for(seconds{5});
    CHECK(site.stored().second >= 1);
    gw->kill_and_wait(SIGKILL);
    ::kill(broker.proc->pid(), SIGCONT);
    sub.collect(milliseconds{9000});  // keepalive 5 s: the broker gives up on the dead client
    CHECK(sub.saw("meters/site-0001/status offline"));  // the last will
    gw = site.gateway();
    CHECK(all_delivered(site, sub, seconds{20}));
    CHECK(sub.saw("meters/site-0001/status online"));
    gw->kill_and_wait(SIGTERM);
}

TEST_CASE("TLS with a test CA works, and an unknown CA is reported and nothing is lost") {
    gw::test::TempDir dir;
    Broker broker(dir, true);
    Subscriber sub(broker, dir);
    Site site(dir);
    site.write_config(mqtt_section(broker, "ca_file = \"" GW_TEST_DATA "/tls/ca.crt\"\n"));
    auto gw = site.gateway();
    CHECK(all_delivered(site, sub, seconds{15}));
    gw->kill_and_wait(SIGTERM);

    site.write_config(mqtt_section(broker, "ca_file = \"" GW_TEST_DATA "/tls/server.crt\"\n"));
    gw = site.gateway();
    std::this_thread::sleep_for(seconds{8});
    gw->kill_and_wait(SIGTERM);
    CHECK(site.stored().second >= 2);  // queued, not lost
    const std::string log = site.log();
    CHECK(log.find("cannot connect to " + broker.uri()) != std::string::npos);
    CHECK(log.find("TLS handshake") != std::string::npos);
}

TEST_CASE("wrong credentials are reported, and intervals keep being stored and go out once fixed") {
    gw::test::TempDir dir;
    const std::string passwd = dir.file("passwd");
    gw::test::Process mk({"mosquitto_passwd", "-b", "-c", passwd, "site-0001", "right"});
    for (int i = 0; i < 50 && mk.running(); ++i) std::this_thread::sleep_for(milliseconds{20});
    Broker broker(dir, false, passwd);
    gw::test::write_file(dir.file("mqtt.secret"), "wrong\n");
    Site site(dir);
    site.write_config(mqtt_section(broker, "username = \"site-0001\"\npassword_file = \"" + dir.file("mqtt.secret") + "\"\n"));
    auto gw = site.gateway();
    std::this_thread::sleep_for(seconds{5});
    const std::string log = site.log();
    const bool reported = log.find("bad user name or password") != std::string::npos || log.find("not authorized") != std::string::npos;
    CHECK(reported);
    CHECK(site.stored().second >= 2);
    gw->kill_and_wait(SIGTERM);
    gw::test::write_file(dir.file("mqtt.secret"), "right\n");
    gw = site.gateway();
    const auto deadline = steady_clock::now() + seconds{15};
    while (site.stored().second > 0 && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds{200});
    CHECK(site.stored().second == 0);
    gw->kill_and_wait(SIGTERM);
}

TEST_CASE("an acknowledged interval whose mark fails is not published again: the marks back off") {
    gw::test::TempDir dir;
    Broker broker(dir);
    Subscriber sub(broker, dir);
    Site site(dir);
    site.write_config(mqtt_section(broker));
    auto gw = site.gateway();
    REQUIRE(all_delivered(site, sub, seconds{15}));
    // The store refuses to record acknowledgements (as on a full disk), while intervals go on.
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(site.db.c_str(), &h) == SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    REQUIRE(sqlite3_exec(h, "CREATE TRIGGER no_marks BEFORE UPDATE OF forward_pending ON intervals "
                            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sub.collect(milliseconds{500});
    const std::size_t before = sub.lines.size();
    sub.collect(seconds{8});
    const std::size_t published = sub.lines.size() - before;
    CHECK(published <= 8);  // about one new interval every 2 s, each once: no storm
    REQUIRE(sqlite3_exec(h, "DROP TRIGGER no_marks;", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(h);
    CHECK(all_delivered(site, sub, seconds{20}));  // and everything goes out once the store takes marks again
    gw->kill_and_wait(SIGTERM);
    CHECK(site.log().find("acknowledged intervals cannot be marked in the store") != std::string::npos);
}

TEST_CASE("with MQTT disabled nothing is queued") {
    gw::test::TempDir dir;
    Site site(dir);
    site.write_config("[mqtt]\nenabled = false\n");
    auto gw = site.gateway();
    std::this_thread::sleep_for(seconds{5});
    gw->kill_and_wait(SIGTERM);
    auto [ids, pending] = site.stored();
    CHECK(ids.size() >= 2);
    CHECK(pending == 0);
}
