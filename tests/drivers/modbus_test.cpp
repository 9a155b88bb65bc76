// libmodbus against meter-sim, over TCP on 127.0.0.1 and over RTU through a socat pty pair:
// every profile decodes to what the simulator serves; faults are counted and recovered from.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "gw/drivers/bus_poller.hpp"
#include "gw/drivers/decode.hpp"
#include "gw/drivers/modbus_link.hpp"
#include "gw/drivers/probe.hpp"
#include "gw/drivers/profile.hpp"
#include "modbus_fixture.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

using namespace std::chrono;
using gw::Reg;

using namespace gw::test::modbus;

TEST_CASE("every built-in profile decodes over Modbus TCP to what the simulator serves") {
    gw::test::TempDir dir;
    for (const auto& p : gw::builtin_profiles()) {
        CAPTURE(p.name);
        Sim sim(dir, [&] {
            auto a = fixed_args(std::string(p.name));
            a.insert(a.begin(), {"--tcp", "127.0.0.1:0"});
            return a;
        }());
        auto m = meter_for(std::string(p.name), 1);
        gw::BusPoller poller(tcp_link(sim.port), {m}, k_clock, [](gw::PollResult&&) {});
        gw::ModbusLink link(tcp_link(sim.port));
        check_all_registers(poller, link, m, sim);
    }
}

TEST_CASE("every built-in profile decodes over Modbus RTU through a pty pair") {
    gw::test::TempDir dir;
    for (const auto& p : gw::builtin_profiles()) {
        CAPTURE(p.name);
        gw::test::PtyPair pty(dir.path());
        auto args = fixed_args(std::string(p.name));
        args.insert(args.begin(), {"--rtu", pty.a(), "--unit", "7"});
        Sim sim(dir, args);
        auto m = meter_for(std::string(p.name), 7);
        gw::BusPoller poller(rtu_link(pty.b()), {m}, k_clock, [](gw::PollResult&&) {});
        gw::ModbusLink link(rtu_link(pty.b()));
        check_all_registers(poller, link, m, sim);
    }
}

TEST_CASE("two meters with different unit ids share one RTU line and are both read") {
    gw::test::TempDir dir;
    gw::test::PtyPair pty(dir.path());
    Sim sim(dir, {"--rtu", pty.a(), "--unit", "1:eastron-sdm630:fixed", "--unit",
                  "2:carlo-gavazzi-em24:fixed", "--p-kw", "-12.5", "--speed", "0"});
    auto a = meter_for("eastron-sdm630", 1, "871685900000000028");
    auto b = meter_for("carlo-gavazzi-em24", 2, "871685900000000035");
    Collector got;
    gw::BusPoller poller(rtu_link(pty.b()), {a, b}, k_clock, got.sink());
    poller.start();
    const bool both = got.wait([](const auto& rs) {
        int na = 0, nb = 0;
        for (const auto& r : rs) (r.meter == 0 ? na : nb) += r.sample.has_value();
        return na >= 3 && nb >= 3;
    });
    poller.stop();
    CHECK(both);
    for (const auto& r : got.results) {
        REQUIRE_MESSAGE(r.sample.has_value(), (r.error ? r.error->message : ""));
        CHECK(r.sample->p_w ==
              doctest::Approx(sim.last_truth(r.meter == 0 ? 1 : 2).at("p_w")).epsilon(1e-12));
    }
    CHECK(got.last_counters(0).errors() == 0);
    CHECK(got.last_counters(1).errors() == 0);
}

namespace {

struct FaultCase {
    std::string name;
    const char* profile;
    std::string inject, clear;
    std::uint64_t gw::MeterCounters::*counter;
};

/// Injects a fault, waits until it is counted twice, clears it, and checks that the first poll
/// stamped after the clearing succeeds (recovery within one poll period).
void run_fault(Sim& sim, const gw::LinkConfig& link, const FaultCase& fc, int unit) {
    auto m = meter_for(fc.profile, unit);
    Collector got;
    gw::BusPoller poller(link, {m}, k_clock, got.sink());
    poller.start();
    REQUIRE(got.wait([](const auto& rs) { return !rs.empty() && rs.back().sample.has_value(); }));
    sim.command(fc.inject);
    const bool counted =
        got.wait([&](const auto& rs) { return rs.back().counters.*fc.counter >= 2; });
    CHECK_MESSAGE(counted, "fault " << fc.name << " was not counted");
    CHECK(poller.meters().size() == 1);  // still running: no crash
    sim.command(fc.clear);
    const auto cleared = k_clock.utc_now();
    const auto cleared_steady = steady_clock::now();
    std::size_t first_after = 0;
    const bool recovered = got.wait([&](const auto& rs) {
        for (std::size_t i = 0; i < rs.size(); ++i)
            if (rs[i].at > cleared) {
                first_after = i;
                return true;
            }
        return false;
    });
    const auto took = steady_clock::now() - cleared_steady;
    poller.stop();
    REQUIRE(recovered);
    const auto& r = got.results[first_after];
    CHECK_MESSAGE(r.sample.has_value(),
                  "first poll after the fault failed: " << (r.error ? r.error->message : ""));
    // one poll period, plus a timeout for a request in flight and a reconnect
    CHECK(took < milliseconds{m.poll_ms + link.response_timeout_ms + link.reconnect_max_ms + 500});
    const auto& c = got.results.back().counters;
    CHECK(c.*fc.counter >= 2);
}

}  // namespace

TEST_CASE("injected faults over TCP are counted, never fatal, and reads recover") {
    using C = gw::MeterCounters;
    const std::vector<FaultCase> cases{
        {"no answer", "eastron-sdm630", "fault * timeout", "fault * none", &C::timeouts},
        {"slow answer", "eastron-sdm630", "fault * slow 600", "fault * none", &C::timeouts},
        {"exception reply", "eastron-sdm630", "fault * exception 2", "fault * none",
         &C::exceptions},
        {"malformed reply", "eastron-sdm630", "fault * corrupt", "fault * none", &C::bad_replies},
        {"short reply", "eastron-sdm630", "fault * short", "fault * none", &C::bad_replies},
        {"dropped connection", "eastron-sdm630", "fault * drop", "fault * none", &C::link_errors},
        {"NaN float", "eastron-sdm630", "value * p_total nan", "value * p_total clear",
         &C::not_finite},
        {"infinite float", "janitza-umg96rm", "value * u_l2n inf", "value * u_l2n clear",
         &C::not_finite},
        {"int32 sentinel", "carlo-gavazzi-em24", "value * p_total na", "value * p_total clear",
         &C::not_available},
        {"uint32 all ones", "abb-m4m", "value * u_l1n ones", "value * u_l1n clear",
         &C::not_available},
        {"implausible power", "siemens-pac3200", "value * p_total 5e12", "value * p_total clear",
         &C::implausible},
    };
    for (const auto& fc : cases) {
        CAPTURE(fc.name);
        gw::test::TempDir dir;
        auto args = fixed_args(fc.profile);
        args.insert(args.begin(), {"--tcp", "127.0.0.1:0"});
        Sim sim(dir, args);
        run_fault(sim, tcp_link(sim.port), fc, 1);
    }
}

TEST_CASE("a corrupted RTU frame is a counted CRC error") {
    gw::test::TempDir dir;
    gw::test::PtyPair pty(dir.path());
    auto args = fixed_args("eastron-sdm630");
    args.insert(args.begin(), {"--rtu", pty.a(), "--unit", "3"});
    Sim sim(dir, args);
    using C = gw::MeterCounters;
    run_fault(sim, rtu_link(pty.b()),
              {"CRC", "eastron-sdm630", "fault * corrupt", "fault * none", &C::crc_errors}, 3);
    run_fault(sim, rtu_link(pty.b()),
              {"RTU short", "eastron-sdm630", "fault * short", "fault * none", &C::bad_replies}, 3);
    run_fault(sim, rtu_link(pty.b()),
              {"RTU silent", "eastron-sdm630", "fault * timeout", "fault * none", &C::timeouts}, 3);
}

TEST_CASE(
    "a meter that keeps timing out is polled less often and does not starve its bus neighbour") {
    gw::test::TempDir dir;
    gw::test::PtyPair pty(dir.path());
    Sim sim(dir, {"--rtu", pty.a(), "--unit", "1:eastron-sdm630:fixed", "--unit",
                  "2:eastron-sdm630:fixed", "--speed", "0", "--fault", "2 timeout"});
    auto a = meter_for("eastron-sdm630", 1, "871685900000000028");
    auto b = meter_for("eastron-sdm630", 2, "871685900000000035");
    Collector got;
    gw::BusPoller poller(rtu_link(pty.b()), {a, b}, k_clock, got.sink());
    poller.start();
    got.wait([](const auto& rs) {
        int n = 0;
        for (const auto& r : rs) n += r.meter == 0;
        return n >= 15;  // 3 s of the healthy meter at 200 ms
    });
    poller.stop();
    int healthy = 0, dead = 0;
    for (const auto& r : got.results) (r.meter == 0 ? healthy : dead)++;
    MESSAGE("healthy polls " << healthy << ", silent meter polls " << dead);
    CHECK(healthy >= 15);
    CHECK(dead <=
          healthy / 2);  // backed off (without backoff: ~equal, each eating a 300 ms timeout)
    CHECK(got.last_counters(0).errors() == 0);
    CHECK(got.last_counters(1).timeouts == static_cast<std::uint64_t>(dead));
}

TEST_CASE("a Modbus TCP peer that reboots is reconnected without a restart") {
    gw::test::TempDir dir;
    auto args = fixed_args("eastron-sdm630");
    args.insert(args.begin(), {"--tcp", "127.0.0.1:0"});
    auto sim = std::make_unique<Sim>(dir, args);
    const int port = sim->port;
    Collector got;
    gw::BusPoller poller(tcp_link(port), {meter_for("eastron-sdm630", 1)}, k_clock, got.sink());
    poller.start();
    REQUIRE(got.wait([](const auto& rs) { return !rs.empty() && rs.back().sample.has_value(); }));
    sim->proc->kill_and_wait(SIGKILL);
    REQUIRE(got.wait([](const auto& rs) { return rs.back().counters.link_errors >= 2; }));
    CHECK_FALSE(got.results.back().link_up);
    args[1] = "127.0.0.1:" + std::to_string(port);
    sim = std::make_unique<Sim>(dir, args);  // the "rebooted" peer on the same port
    const bool back = got.wait([](const auto& rs) { return rs.back().sample.has_value(); });
    poller.stop();
    CHECK(back);
    CHECK(got.results.back().link_up);
}

TEST_CASE(
    "an RTU line that goes and comes back (a re-plugged adapter) is reopened within a few poll "
    "periods") {
    gw::test::TempDir dir;
    const std::string a = dir.file("line-a"), b = dir.file("line-b");
    auto line = std::make_unique<gw::test::PtyPair>(dir.path(), a, b);
    auto args = fixed_args("eastron-sdm630");
    args.insert(args.begin(), {"--rtu", a});
    auto sim = std::make_unique<Sim>(dir, args);
    // The link as a configuration file gives it: the RTU defaults of the backoff.
    auto cfg =
        gw::parse_config(R"(
[gateway]
id = "t"
[storage]
path = "/tmp/unused.db"
[api]
enabled = false
[[customer]]
klant_ean = "871685900000000011"
[[link]]
id = "rs485"
type = "rtu"
device = ")" + b + R"("
response_timeout_ms = 300
[[meter]]
meter_ean = "871685900000000028"
klant_ean = "871685900000000011"
meter_type = "bruto_productie"
link = "rs485"
unit_id = 1
profile = "eastron-sdm630"
)",
                         "t.toml", [](std::string_view n) { return &gw::find_profile(n)->map; });
    REQUIRE(cfg.config.has_value());
    CHECK(cfg.config->links[0].reconnect_max_ms == 2000);
    Collector got;
    gw::BusPoller poller(cfg.config->links[0], {cfg.config->meters[0]}, k_clock, got.sink());
    poller.start();
    REQUIRE(got.wait([](const auto& rs) { return !rs.empty() && rs.back().sample.has_value(); }));

    // The meter and its line go (the simulator killed, socat stopped: both device nodes vanish,
    // as when a USB adapter is pulled) for long enough that the reconnect backoff reaches its
    // cap...
    sim->proc->kill_and_wait(SIGKILL);
    line.reset();
    REQUIRE(got.wait([](const auto& rs) { return !rs.back().link_up; }));
    // Failed attempts 100, 200, 400, 800, 1600 ms apart, then the 2 s cap: wait for the seventh.
    REQUIRE(got.wait([](const auto& rs) { return rs.back().counters.link_errors >= 7; },
                     milliseconds{15'000}));
    CHECK_FALSE(got.results.back().link_up);  // the state a status shows meanwhile
    // ...and come back under the same names: samples again within a few poll periods.
    line = std::make_unique<gw::test::PtyPair>(dir.path(), a, b);
    sim = std::make_unique<Sim>(dir, args);
    const auto back_at = steady_clock::now();
    const std::size_t before = got.results.size();
    const bool back = got.wait(
        [&](const auto& rs) {
            return rs.size() > before && rs.back().sample.has_value() && rs.back().link_up;
        },
        milliseconds{10'000});
    const auto took = steady_clock::now() - back_at;
    poller.stop();
    REQUIRE(back);
    CHECK(took < seconds{4});  // the backoff cap (2 s) plus a poll period (1 s), with room
}

TEST_CASE("a serial device that is missing or not permitted is a clear error naming it") {
    auto missing = gw::check_serial_device("/dev/ttyUSB-does-not-exist");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("serial device /dev/ttyUSB-does-not-exist does not exist") !=
          std::string::npos);
    auto not_char = gw::check_serial_device("/etc/hostname");
    REQUIRE_FALSE(not_char.ok());
    CHECK(not_char.error().message.find("not a character device") != std::string::npos);
    if (::geteuid() == 0) {
        gw::test::TempDir dir;
        ::chmod(dir.path().c_str(), 0755);  // nobody may look up the link, just not open the device
        gw::test::PtyPair pty(dir.path());
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
            auto st = gw::check_serial_device(pty.b());
            ::_exit(!st.ok() && st.error().message.find("no permission to open serial device") !=
                                    std::string::npos
                        ? 0
                        : 11);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK(WEXITSTATUS(status) == 0);
    }
    // And a link on a missing device reports the device on connect, without crashing.
    gw::ModbusLink link(rtu_link("/dev/ttyUSB-does-not-exist"));
    std::uint16_t buf[2];
    auto st = link.read(1, gw::RegFunction::input, 0, 2, buf, k_clock.steady_now());
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("/dev/ttyUSB-does-not-exist") != std::string::npos);
}

TEST_CASE("a scan names every built-in profile, by its identification register where it has one") {
    gw::test::TempDir dir;
    for (const auto& p : gw::builtin_profiles()) {
        CAPTURE(p.name);
        Sim sim(dir, [&] {
            auto a = fixed_args(std::string(p.name));
            a.insert(a.begin(), {"--tcp", "127.0.0.1:0", "--unit", "4"});
            return a;
        }());
        gw::ModbusLink link(tcp_link(sim.port));
        const gw::Probe found = gw::probe_unit(link, 4, k_clock.steady_now());
        CHECK(found.answered);
        CHECK(found.profile == p.name);
        CAPTURE(found.how);
        CHECK(found.how.rfind(p.signature.empty() ? "guessed" : "signature", 0) == 0);
    }
}

TEST_CASE("on RTU a reply later than the timeout is flushed, never taken for the next request") {
    gw::test::TempDir dir;
    gw::test::PtyPair pty(dir.path());
    auto args = fixed_args("eastron-sdm630");
    args.insert(args.begin(), {"--rtu", pty.a(), "--unit", "1"});
    Sim sim(dir, args);
    gw::ModbusLink link(rtu_link(pty.b()));  // response timeout 300 ms, no retries
    std::uint16_t w[2] = {};
    REQUIRE(link.read(1, gw::RegFunction::input, 0x34, 2, w, k_clock.steady_now()).ok());
    sim.command("fault * slow 380");
    // Voltage L1: its reply comes 80 ms after the link gave up.
    auto late = link.read(1, gw::RegFunction::input, 0x00, 2, w, k_clock.steady_now());
    REQUIRE_FALSE(late.ok());
    CHECK(late.error().code == gw::Errc::modbus_timeout);
    CHECK(link.flushed_bytes() == 9);  // the late reply: unit, function, count, 4 bytes, CRC
    sim.command("fault * none");
    // Total power, the same length as the late reply: its value tells which one we got.
    REQUIRE(link.read(1, gw::RegFunction::input, 0x34, 2, w, k_clock.steady_now()).ok());
    const auto& spec = *gw::find_profile("eastron-sdm630")->map[gw::Reg::p_total];
    const auto p = gw::decode_value(spec, std::vector<std::uint16_t>{w[0], w[1]});
    REQUIRE(p.ok());
    CHECK(*p == doctest::Approx(-48'300).epsilon(1e-6));
}
