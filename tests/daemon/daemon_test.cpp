// The real meter-gateway process against meter-sim: stored intervals equal the simulator's truth,
// a SIGKILL loses nothing committed, a dead meter does not stop the other, a failing store is
// retried.
#include <doctest/doctest.h>
#include <modbus.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <thread>

#include "gw/api/secret.hpp"
#include "gw/core/quantity.hpp"
#include "gw/daemon/gateway.hpp"
#include "gw/daemon/setup.hpp"
#include "gw/store/store.hpp"
#include "https_client.hpp"
#include "site.hpp"

using namespace std::chrono;

namespace {

constexpr const char* k_meter_a = "871685900000000028";
constexpr const char* k_meter_b = "871685900000000035";

struct Truth {
    std::int64_t t_ms;
    std::map<std::string, double> v;
};

std::vector<Truth> read_truth(const std::string& file) {
    std::vector<Truth> out;
    std::ifstream in(file);
    static const std::regex kv("\"([a-z0-9_]+)\":(-?[0-9.eE+-]+)");
    for (std::string line; std::getline(in, line);) {
        Truth t{};
        for (auto it = std::sregex_iterator(line.begin(), line.end(), kv);
             it != std::sregex_iterator(); ++it)
            t.v[(*it)[1]] = std::stod((*it)[2]);
        t.t_ms = static_cast<std::int64_t>(t.v["t_ms"]);
        out.push_back(std::move(t));
    }
    return out;
}

/// Two simulated meters (SDM630 and EM24 on their own TCP ports) and a gateway config for them.
struct Site {
    std::unique_ptr<gw::test::SimProcess> sim_a, sim_b;
    gw::test::SiteConfig cfg;
    std::string db;
    /// `dead_b`: the second meter's link points at a port where nothing listens. `b_extra`: more
    /// options for the second meter's simulator (a fault, say).
    Site(gw::test::TempDir& dir, int interval_s = 5, bool dead_b = false,
         const std::vector<std::string>& b_extra = {})
        : db(dir.file("gw.db")) {
        const std::vector<std::string> common{"--scenario", "swing",     "--peak-kw",
                                              "40",         "--noise-v", "0.1"};
        auto args = [&](const char* profile, const char* truth) {
            std::vector<std::string> a{"--tcp", "127.0.0.1:0", "--profile",
                                       profile, "--truth",     dir.file(truth)};
            a.insert(a.end(), common.begin(), common.end());
            return a;
        };
        sim_a = std::make_unique<gw::test::SimProcess>(dir, args("eastron-sdm630", "truth-a.jsonl"),
                                                       "sim-a.log");
        if (!dead_b) {
            auto b = args("carlo-gavazzi-em24", "truth-b.jsonl");
            b.insert(b.end(), b_extra.begin(), b_extra.end());
            sim_b = std::make_unique<gw::test::SimProcess>(dir, b, "sim-b.log");
        }
        cfg.interval_s = interval_s;
        cfg.db = db;
        cfg.links = {gw::test::LinkSpec{"a", "tcp", sim_a->port},
                     gw::test::LinkSpec{"b", "tcp", dead_b ? 1 : sim_b->port}};
        cfg.meters = {
            gw::test::MeterSpec{k_meter_a, "bruto_productie", "a", 1, "eastron-sdm630"},
            gw::test::MeterSpec{k_meter_b, "overdrachtspunt", "b", 1, "carlo-gavazzi-em24"}};
        cfg.write(dir.file("gw.toml"));
    }
};

std::unique_ptr<gw::test::Process> start_gateway(
    gw::test::TempDir& dir, const std::string& cfg_file,
    const std::vector<std::pair<std::string, std::string>>& env = {}) {
    return gw::test::start_gateway(cfg_file, dir.file("gateway.log"), env);
}

std::vector<gw::IntervalRecord> stored(const std::string& db, const char* meter) {
    gw::OpenOptions existing;
    existing.create = false;  // the daemon creates it
    auto s = gw::Store::open(db, existing);
    if (!s.ok() && s.error().message.find("does not exist") != std::string::npos) return {};
    REQUIRE(s.ok());
    auto rows = (*s)->intervals(*gw::Ean18::parse(meter), gw::SysS{},
                                gw::SysS{hours{24 * 365 * 100}}, 0, 100000);
    REQUIRE(rows.ok());
    return *rows;
}

/// Waits (bounded) until the meter has at least n stored intervals.
bool wait_intervals(const std::string& db, const char* meter, std::size_t n, seconds timeout) {
    return gw::test::wait_until(
        [&] { return gw::test::stored_count(db, meter) >= static_cast<long>(n); }, timeout);
}

}  // namespace

TEST_CASE("each stored interval matches what the simulator served") {
    gw::test::TempDir dir;
    Site site(dir);
    const std::string& db = site.db;
    auto gateway = start_gateway(dir, dir.file("gw.toml"));
    const bool got = wait_intervals(db, k_meter_a, 4, seconds{40}) &&
                     wait_intervals(db, k_meter_b, 4, seconds{10});
    gateway->kill_and_wait(SIGTERM);
    REQUIRE_MESSAGE(got, gw::test::read_file(dir.file("gateway.log")));

    for (auto [meter, truth_file] :
         {std::pair{k_meter_a, "truth-a.jsonl"}, std::pair{k_meter_b, "truth-b.jsonl"}}) {
        CAPTURE(meter);
        const auto truth = read_truth(dir.file(truth_file));
        auto s = gw::Store::open(db);
        REQUIRE(s.ok());
        int checked = 0;
        for (const auto& r : stored(db, meter)) {
            if (r.quality != gw::Quality::gemeten) continue;
            const std::int64_t end_ms = r.end.time_since_epoch().count() * 1000,
                               start_ms = end_ms - 5000;
            double p = 0, u1 = 0;
            int n = 0;
            for (const auto& t : truth)
                if (t.t_ms >= start_ms && t.t_ms < end_ms) {
                    p += t.v.at("p_w");
                    u1 += t.v.at("u_l1n");
                    ++n;
                }
            REQUIRE(n > 30);
            p /= n;
            u1 /= n;
            CAPTURE(gw::format_utc(r.end));
            CHECK(std::fabs(*r.p_w - p) < 200.0);  // sampling at 5 Hz against 10 Hz truth
            const auto served_kw =
                static_cast<double>(gw::served_scaled(gw::Quantity::active_power, *r.p_w));
            CHECK(std::fabs(served_kw - p / 1000) <= 0.5 + 0.2);
            const auto served_v =
                static_cast<double>(gw::served_scaled(gw::Quantity::voltage_l1, *r.u1_v)) / 10;
            CHECK(std::fabs(served_v - u1) <= 0.1);
            CHECK(r.samples >= 20);
            // The energy reading is a value the meter served in the second before the end.
            auto readings = (*s)->energy_readings(r.meter_ean, r.end - seconds{1}, r.end, 0, 10);
            REQUIRE(readings.ok());
            REQUIRE(readings->size() == 1);
            bool seen = false;
            for (const auto& t : truth)
                if (t.t_ms >= end_ms - 1500 && t.t_ms <= end_ms &&
                    t.v.at("e_import") == *readings->front().e_import_wh &&
                    t.v.at("e_export") == *readings->front().e_export_wh)
                    seen = true;
            CHECK_MESSAGE(
                seen, "stored energy reading is not a served value near " << gw::format_utc(r.end));
            ++checked;
        }
        CHECK(checked >= 2);
    }
}

TEST_CASE(
    "after SIGKILL every committed interval is intact and the interrupted one is onvolledig") {
    gw::test::TempDir dir;
    Site site(dir);
    const std::string& db = site.db;
    auto gateway = start_gateway(dir, dir.file("gw.toml"));
    REQUIRE(wait_intervals(db, k_meter_a, 2, seconds{30}));
    // Kill about 2.5 s into an interval.
    for (;;) {
        const auto ms =
            duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() % 5000;
        if (ms >= 2400 && ms < 2600) break;
        std::this_thread::sleep_for(milliseconds{20});
    }
    const auto killed_in =
        gw::IntervalGrid(5).end_of(time_point_cast<milliseconds>(system_clock::now()));
    const auto before = stored(db, k_meter_a);
    gateway->kill_and_wait(SIGKILL);
    gateway = start_gateway(dir, dir.file("gw.toml"));
    REQUIRE(wait_intervals(db, k_meter_a, before.size() + 2, seconds{30}));
    gateway->kill_and_wait(SIGTERM);
    const auto after = stored(db, k_meter_a);
    // Everything committed before the kill is there, unchanged.
    for (const auto& b : before) {
        auto it =
            std::find_if(after.begin(), after.end(), [&](const auto& a) { return a.end == b.end; });
        REQUIRE(it != after.end());
        CHECK(*it->p_w == *b.p_w);
        CHECK(it->samples == b.samples);
        CHECK(it->quality == b.quality);
    }
    auto interrupted =
        std::find_if(after.begin(), after.end(), [&](const auto& a) { return a.end == killed_in; });
    REQUIRE(interrupted != after.end());
    CHECK(interrupted->quality == gw::Quality::onvolledig);
    CHECK(interrupted->coverage < 0.6);
    auto s = gw::Store::open(db);
    REQUIRE(s.ok());
    CHECK(*(*s)->integrity_check() == "ok");
}

TEST_CASE(
    "a meter that never answers does not stop the other, and its intervals are missing, not zero") {
    gw::test::TempDir dir;
    Site site(dir, 5, /*dead_b=*/true);
    const std::string& db = site.db;
    const int dead_port = 1;
    auto gateway = start_gateway(dir, dir.file("gw.toml"));
    REQUIRE(wait_intervals(db, k_meter_a, 3, seconds{30}));
    gateway->kill_and_wait(SIGTERM);
    CHECK(stored(db, k_meter_b).empty());
    const std::string log = gw::test::read_file(dir.file("gateway.log"));
    CHECK(log.find("cannot connect to 127.0.0.1:" + std::to_string(dead_port)) !=
          std::string::npos);
    auto s = gw::Store::open(db);
    REQUIRE(s.ok());
    bool link_event = false, error_event = false;
    const auto events = (*s)->recent_events(1000);
    REQUIRE(events.ok());
    for (const auto& e : *events) {
        link_event |= e.meter_ean == k_meter_b && e.kind == "link_down";
        error_event |= e.meter_ean == k_meter_b && e.kind == "sample_errors";
    }
    CHECK(link_event);
    CHECK_FALSE(error_event);  // error events go with stored intervals; the dead meter has none
}

TEST_CASE(
    "a meter that answers every read with a Modbus exception is down, though its link is up") {
    gw::test::TempDir dir;
    Site site(dir, 5, false, {"--fault", "* exception 11"});
    site.cfg.api = true;
    site.cfg.write(dir.file("gw.toml"));
    const std::string secret = gw::generate_secret();
    {
        auto s = gw::Store::open(site.db);
        REQUIRE(s.ok());
        REQUIRE((*s)->add_client("ops", gw::Role::admin, gw::hash_secret(secret, 1000), gw::SysS{})
                    .ok());
        REQUIRE(
            (*s)->add_client("liander", gw::Role::reader, gw::hash_secret(secret, 1000), gw::SysS{})
                .ok());
        REQUIRE((*s)->record_consent(*gw::Ean18::parse(gw::test::k_klant), true, gw::SysS{}, "test")
                    .ok());
    }
    auto gateway = start_gateway(dir, dir.file("gw.toml"));
    const int port = gw::test::wait_api_port(dir.file("gateway.log"), seconds{10});
    REQUIRE(port > 0);
    // The link state of each meter, once both have been polled a full window.
    std::map<std::string, std::string> state;
    std::int64_t exceptions = 0;
    CHECK(gw::test::wait_until(
        [&] {
            auto r = gw::test::https_request(port, "/api/v1/status", "ops", secret);
            if (r.status != 200) return false;
            const auto meters = boost::json::parse(r.body).at("meters").as_array();
            for (const auto& m : meters) {
                state[std::string(m.at("meter_ean").as_string())] =
                    std::string(m.at("link_state").as_string());
                if (m.at("meter_ean") == k_meter_b)
                    exceptions = m.at("counters").at("exceptions").as_int64();
            }
            return state[k_meter_a] == "ok" && state[k_meter_b] == "down" && exceptions >= 10;
        },
        seconds{20}));
    CHECK(state[k_meter_a] == "ok");
    CHECK(state[k_meter_b] == "down");
    CHECK(exceptions >= 10);
    auto details = gw::test::https_request(port, std::string("/api/v1/meters/") + k_meter_b,
                                           "liander", secret);
    INFO(details.body);
    REQUIRE(details.status == 200);
    CHECK(boost::json::parse(details.body).at("link_state") == "down");
    gateway->kill_and_wait(SIGTERM);
}

TEST_CASE("a failing store keeps closed intervals in memory and commits them when it recovers") {
    gw::test::TempDir dir;
    Site site(dir);
    site.cfg.api = true;  // the status tells how many intervals are held
    site.cfg.write(dir.file("gw.toml"));
    const std::string& db = site.db;
    const std::string secret = gw::generate_secret();
    {
        auto s = gw::Store::open(db);
        REQUIRE(s.ok());
        REQUIRE((*s)->add_client("ops", gw::Role::admin, gw::hash_secret(secret, 1000), gw::SysS{})
                    .ok());
    }
    auto gateway = start_gateway(dir, dir.file("gw.toml"));
    const int port = gw::test::wait_api_port(dir.file("gateway.log"), seconds{10});
    REQUIRE(port > 0);
    REQUIRE(wait_intervals(db, k_meter_a, 1, seconds{20}));
    // Fault injection (the real full disk is in the fault suite): every insert fails.
    auto exec = [&](const char* sql) {
        sqlite3* h = nullptr;
        REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
        sqlite3_busy_timeout(h, 5000);
        REQUIRE(sqlite3_exec(h, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(h);
    };
    exec(
        "CREATE TRIGGER full BEFORE INSERT ON intervals BEGIN SELECT RAISE(ABORT, 'database or "
        "disk is full'); END;");
    const auto during = stored(db, k_meter_a).size();
    // Two rounds of intervals close while the store refuses them: four held (two meters).
    CHECK(gw::test::wait_until(
        [&] {
            auto r = gw::test::https_request(port, "/api/v1/status", "ops", secret);
            return r.status == 200 &&
                   r.body.find("\"uncommitted_in_memory\":4") != std::string::npos;
        },
        seconds{20}));
    CHECK(stored(db, k_meter_a).size() == during);
    CHECK(gateway->running());
    exec("DROP TRIGGER full;");
    REQUIRE(wait_intervals(db, k_meter_a, during + 3, seconds{20}));
    gateway->kill_and_wait(SIGTERM);
    const auto rows = stored(db, k_meter_a);
    for (std::size_t i = 1; i < rows.size(); ++i)
        CHECK(rows[i].end - rows[i - 1].end == seconds{5});  // no gap
    const std::string log = gw::test::read_file(dir.file("gateway.log"));
    CHECK(log.find("COMMIT FAILED") != std::string::npos);
    CHECK(log.find("every waiting interval is committed") != std::string::npos);
}

TEST_CASE("a clean stop keeps the open interval aside, not as data, and the restart continues it") {
    gw::test::TempDir dir;
    Site site(dir, 10);
    const std::string& db = site.db;
    auto gateway = start_gateway(dir, dir.file("gw.toml"));
    REQUIRE(wait_intervals(db, k_meter_a, 1, seconds{25}));
    for (;;) {  // stop about 4 s into a 10 s interval
        const auto ms =
            duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() % 10000;
        if (ms >= 4000 && ms < 4300) break;
        std::this_thread::sleep_for(milliseconds{20});
    }
    const auto open_end =
        gw::IntervalGrid(10).end_of(time_point_cast<milliseconds>(system_clock::now()));
    gateway->kill_and_wait(SIGTERM);
    // Nothing of the unfinished interval is data: not stored, so not served and not published.
    auto before = stored(db, k_meter_a);
    REQUIRE_FALSE(before.empty());
    CHECK(before.back().end < open_end);
    gateway = start_gateway(dir, dir.file("gw.toml"));
    REQUIRE(wait_intervals(db, k_meter_a, before.size() + 1, seconds{25}));
    gateway->kill_and_wait(SIGTERM);
    const auto rows = stored(db, k_meter_a);
    auto it =
        std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.end == open_end; });
    REQUIRE(it != rows.end());
    CHECK(it->samples >= 35);    // both runs: about 20 at 5 Hz before the stop, under 30 after
    CHECK(it->coverage > 0.85);  // only the restart's gap is missing
    const std::string log = gw::test::read_file(dir.file("gateway.log"));
    CHECK(log.find("continuing interval " + gw::format_utc(open_end)) != std::string::npos);
}

TEST_CASE(
    "under systemd the daemon reports READY and pings the watchdog while its bus threads "
    "progress") {
    gw::test::TempDir dir;
    Site site(dir);
    // systemd's side of the notify protocol: a datagram socket named in NOTIFY_SOCKET.
    const std::string path = dir.file("notify");
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 200'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto gateway = start_gateway(dir, dir.file("gw.toml"),
                                 {{"NOTIFY_SOCKET", path}, {"WATCHDOG_USEC", "1000000"}});
    std::vector<std::string> messages;
    auto pings = [&] { return std::count(messages.begin(), messages.end(), "WATCHDOG=1"); };
    const auto deadline = steady_clock::now() + seconds{8};
    while (pings() < 5 && steady_clock::now() < deadline) {  // a ping every 0.5 s
        char buf[256];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);  // waits at most 0.2 s
        if (n > 0) messages.emplace_back(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    REQUIRE_FALSE(messages.empty());
    CHECK(messages.front().rfind("READY=1", 0) == 0);
    CHECK(pings() >= 5);
}

namespace {

/// The real clocks, with synchronisation as the test says (the host's own state does not matter).
struct SwitchableClock final : gw::Clock {
    gw::SystemClock real;
    std::atomic<bool> synced{false};
    gw::SysMs utc_now() const override { return real.utc_now(); }
    gw::SteadyMs steady_now() const override { return real.steady_now(); }
    bool synchronised() const override { return synced; }
};

}  // namespace

TEST_CASE(
    "until the clock is synchronised no intervals are stamped and the status says why, and then "
    "they are") {
    // The daemon in this process (a library plus a thin main), with a clock that says whether it is
    // synchronised: the same test checks the same thing on every machine.
    gw::test::TempDir dir;
    Site site(dir, 1);
    site.cfg.trust_clock = false;
    site.cfg.write(dir.file("gw.toml"));
    auto res = gw::load_gateway_config(dir.file("gw.toml"));
    REQUIRE(res.config.has_value());
    const gw::Config cfg = *res.config;
    auto store = gw::Store::open(cfg.storage.path);
    REQUIRE(store.ok());
    SwitchableClock clock;
    gw::Gateway gateway(cfg, std::move(store).value(), clock);
    std::thread runner([&] { gateway.run(); });
    auto on_io = [&](auto fn) {  // reads the daemon's state on its own thread
        std::promise<decltype(fn())> p;
        boost::asio::post(gateway.io(), [&] { p.set_value(fn()); });
        return p.get_future().get();
    };
    // Samples come in, but none is stamped into an interval.
    CHECK(gw::test::wait_until(
        [&] { return on_io([&] { return gateway.meters()[0].untrusted_samples; }) >= 10; },
        seconds{10}));
    const auto live = on_io([&] { return gateway.live(); });
    CHECK_FALSE(live.clock_trusted);
    CHECK(live.clock_status.find("not synchronised") != std::string::npos);
    CHECK(gw::test::stored_count(cfg.storage.path, k_meter_a) == 0);
    // Once the clock is synchronised, intervals follow.
    clock.synced = true;
    CHECK(gw::test::wait_until(
        [&] { return gw::test::stored_count(cfg.storage.path, k_meter_a) >= 2; }, seconds{15}));
    CHECK(on_io([&] { return gateway.live().clock_trusted; }));
    gateway.stop();
    runner.join();
}

TEST_CASE("the daemon shares a meter over [modbus_server]: its latest poll, 0x0B once it is down") {
    gw::test::TempDir dir;
    Site site(dir, 5);
    site.cfg.extra = std::string("\n[modbus_server]\nlisten = \"127.0.0.1:0\"\n") +
                     "[[modbus_server.unit]]\nunit_id = 5\nmeter = \"" + k_meter_b + "\"\n";
    site.cfg.write(dir.file("gw.toml"));
    auto gw_proc = start_gateway(dir, dir.file("gw.toml"));
    int port = 0;
    REQUIRE(gw::test::wait_until(
        [&] {
            static const std::regex line("Modbus TCP server on 127\\.0\\.0\\.1:([0-9]+)");
            const std::string log = gw::test::read_file(dir.file("gateway.log"));
            std::smatch m;
            if (std::regex_search(log, m, line)) port = std::stoi(m[1]);
            return port != 0;
        },
        seconds{10}));
    modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
    REQUIRE(ctx != nullptr);
    REQUIRE(modbus_connect(ctx) == 0);
    modbus_set_response_timeout(ctx, 2, 0);
    // The EM24's total active power (input 0x28, INT32 low word first, W x 10) and its voltages.
    std::uint16_t w[2] = {};
    modbus_set_slave(ctx, 5);
    REQUIRE(gw::test::wait_until([&] { return modbus_read_input_registers(ctx, 0x28, 2, w) == 2; },
                                 seconds{5}));
    std::uint16_t u[6] = {};
    REQUIRE(modbus_read_input_registers(ctx, 0x00, 6, u) == 6);
    const double u1 = static_cast<std::int32_t>((std::uint32_t{u[1]} << 16) | u[0]) * 0.1;
    CHECK(u1 > 200);
    CHECK(u1 < 260);
    modbus_set_slave(ctx, 6);
    CHECK(modbus_read_input_registers(ctx, 0x28, 2, w) == -1);
    CHECK(errno == MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_PATH);
    // The meter goes away: within a poll period and a poll, the answer is 0x0B.
    site.sim_b->proc->kill_and_wait(SIGKILL);
    modbus_set_slave(ctx, 5);
    CHECK(gw::test::wait_until(
        [&] {
            return modbus_read_input_registers(ctx, 0x28, 2, w) == -1 &&
                   errno == MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_TARGET;
        },
        seconds{3}));
    modbus_close(ctx);
    modbus_free(ctx);
    gw_proc->kill_and_wait(SIGTERM);
}
