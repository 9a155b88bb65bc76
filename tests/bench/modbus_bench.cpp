// Benchmark (run on demand): Modbus read figures.
//  1. samples per second for one meter over Modbus TCP on loopback against meter-sim;
//  2. Modbus transactions per sample for each built-in profile, with the fixed gap tolerance of
//     old and with the cost-based planner;
//  3. bus time per sample at 9600 and 19200 baud, measured over a pty against meter-sim
//     emulating the wire time, against the wire minimum of the plan's transactions.
//  4. the Modbus TCP server's latency, from the latest poll and passed through to an RTU bus.
// Usage: modbus_bench [SECONDS]   (default 5 s of polling)
#include <modbus.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "gw/drivers/bus_poller.hpp"
#include "gw/drivers/modbus_link.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/modbus_server/modbus_server.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

using namespace std::chrono;

namespace {

constexpr int k_samples = 5;

}  // namespace

int main(int argc, char** argv) {
    const int seconds_to_run = argc > 1 ? std::atoi(argv[1]) : 5;
    std::printf(
        "modbus_bench\n\n1. one meter over Modbus TCP on 127.0.0.1 (eastron-sdm630, meter-sim, %d "
        "s)\n",
        seconds_to_run);
    {
        gw::test::Process sim(
            {GW_METER_SIM, "--tcp", "127.0.0.1:0", "--scenario", "fixed", "--print-s", "0"});
        auto line = sim.wait_for_line("listening", seconds{5});
        if (!line) {
            std::fprintf(stderr, "meter-sim did not start\n");
            return 1;
        }
        gw::LinkConfig link;
        link.id = "lan";
        link.host = "127.0.0.1";
        link.port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
        gw::MeterConfig m;
        m.meter_ean = *gw::Ean18::parse("871685900000000028");
        m.registers = gw::find_profile("eastron-sdm630")->map;
        const gw::SystemClock clock;
        gw::BusPoller poller(link, {m}, clock, [](gw::PollResult&&) {});
        std::uint64_t ok = 0, failed = 0;
        const auto t0 = steady_clock::now();
        const auto end = t0 + seconds{seconds_to_run};
        while (steady_clock::now() < end) {
            auto r = poller.poll_once(0);
            (r.sample ? ok : failed)++;
        }
        const double s = duration<double>(steady_clock::now() - t0).count();
        std::printf(
            "   %llu samples (%llu failed) in %.2f s: %.0f samples/s, %.0f us per sample, %zu "
            "transactions each\n",
            static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed), s,
            static_cast<double>(ok) / s, s * 1e6 / static_cast<double>(ok),
            poller.plan(0).transactions());
    }

    std::printf(
        "\n2./3. per profile: transactions and RTU bus time per sample, measured against\n"
        "   meter-sim --wire-time on a pty (it answers after the wire time of request, t3.5 and\n"
        "   reply, 11 bits a character), %d back-to-back samples each. 'before' is the fixed\n"
        "   gap tolerance of 8 registers, 'after' the cost-based planner (turnaround %d ms).\n"
        "   wire min: the frames and two t3.5 per transaction of that plan.\n",
        k_samples, gw::LinkConfig{}.turnaround_ms);
    std::printf("   %-20s %5s | %-30s | %-30s\n", "", "", "before (gap <= 8)",
                "after (cost-based)");
    std::printf("   %-20s %5s | %5s %8s %8s %6s | %5s %8s %8s %6s\n", "profile", "baud", "reads",
                "wire ms", "bus ms", "ratio", "reads", "wire ms", "bus ms", "ratio");
    gw::test::TempDir dir;
    double worst = 0;
    for (const auto& p : gw::builtin_profiles()) {
        for (int baud : {9600, 19200}) {
            gw::test::PtyPair pty(dir.path());
            gw::test::Process sim({GW_METER_SIM, "--rtu", pty.a(), "--baud", std::to_string(baud),
                                   "--wire-time", "--unit", "1:" + std::string(p.name),
                                   "--scenario", "fixed", "--print-s", "0"});
            if (!sim.wait_for_line("listening", seconds{5})) {
                std::fprintf(stderr, "meter-sim did not start\n");
                return 1;
            }
            gw::LinkConfig link;
            link.id = "rs485";
            link.type = gw::LinkType::rtu;
            link.device = pty.b();
            link.baud = baud;
            gw::MeterConfig m;
            m.registers = p.map;
            const auto wanted = gw::needed_registers(m);
            const gw::ReadPlan plans[2] = {
                gw::plan_reads(m.registers, wanted, 8),
                gw::plan_reads(m.registers, wanted, gw::read_cost(link), 32)};
            double wire_ms[2], bus_ms[2];
            for (int k = 0; k < 2; ++k) {
                gw::ModbusLink l(link);
                std::vector<std::uint16_t> buf(125);
                auto read_all = [&] {
                    for (const auto& b : plans[k].blocks)
                        if (!l.read(1, b.function, b.start, b.count, buf.data(), gw::SteadyMs{}))
                            return false;
                    return true;
                };
                if (!read_all()) {  // connects, and a first sample outside the timing
                    std::fprintf(stderr, "%s: read failed\n", std::string(p.name).c_str());
                    return 1;
                }
                const auto t0 = steady_clock::now();
                for (int n = 0; n < k_samples; ++n) (void)read_all();
                bus_ms[k] =
                    duration<double, std::milli>(steady_clock::now() - t0).count() / k_samples;
                wire_ms[k] = static_cast<double>(gw::wire_minimum(plans[k], link).count()) / 1000.0;
            }
            worst = std::max(worst, bus_ms[1] / wire_ms[1]);
            std::printf("   %-20s %5d | %5zu %8.1f %8.1f %6.3f | %5zu %8.1f %8.1f %6.3f\n",
                        std::string(p.name).c_str(), baud, plans[0].transactions(), wire_ms[0],
                        bus_ms[0], bus_ms[0] / wire_ms[0], plans[1].transactions(), wire_ms[1],
                        bus_ms[1], bus_ms[1] / wire_ms[1]);
        }
    }
    std::printf("\n   worst bus time / wire minimum (after): %.3f\n", worst);

    std::printf(
        "\n4. the Modbus TCP server ([modbus_server]) while the gateway polls an RTU meter\n"
        "   (eastron-sdm630 on a pty at 19200 baud with --wire-time, poll_ms 1000): a libmodbus\n"
        "   client reads p_total at 10 Hz for %d s; then a register the gateway does not poll,\n"
        "   passed through to the bus between the gateway's polls\n",
        seconds_to_run);
    {
        gw::test::PtyPair pty(dir.path());
        gw::test::Process sim({GW_METER_SIM, "--rtu", pty.a(), "--wire-time", "--unit",
                               "1:eastron-sdm630", "--scenario", "fixed", "--print-s", "0"});
        if (!sim.wait_for_line("listening", seconds{5})) return 1;
        gw::LinkConfig link;
        link.id = "rs485";
        link.type = gw::LinkType::rtu;
        link.device = pty.b();
        gw::MeterConfig m;
        m.meter_ean = *gw::Ean18::parse("871685900000000028");
        m.registers = gw::find_profile("eastron-sdm630")->map;
        m.poll_ms = 1000;
        const gw::SystemClock clock;
        std::atomic<int> samples{0};
        gw::BusPoller poller(link, {m}, clock,
                             [&](gw::PollResult&& r) { samples += r.sample ? 1 : 0; });
        boost::asio::io_context io;
        gw::ModbusServerConfig c;
        c.enabled = true;
        c.listen_host = "127.0.0.1";
        gw::ModbusServer server(io, c, {{1, &poller, 0, true}}, clock);
        if (!server.start()) return 1;
        std::thread io_thread([&] {
            auto guard = boost::asio::make_work_guard(io);
            io.run();
        });
        poller.start();
        while (samples < 1) std::this_thread::sleep_for(milliseconds{20});
        modbus_t* ctx = modbus_new_tcp("127.0.0.1", server.port());
        modbus_connect(ctx);
        modbus_set_slave(ctx, 1);
        modbus_set_response_timeout(ctx, 3, 0);
        auto measure = [&](std::uint16_t address, int n, milliseconds pace) {
            std::vector<double> us;
            std::uint16_t w[2];
            int failed = 0;
            const auto start = steady_clock::now();
            for (int i = 0; i < n; ++i) {
                const auto t = steady_clock::now();
                if (modbus_read_input_registers(ctx, address, 2, w) != 2) ++failed;
                us.push_back(duration<double, std::micro>(steady_clock::now() - t).count());
                std::this_thread::sleep_until(start + pace * (i + 1));
            }
            std::sort(us.begin(), us.end());
            std::printf(
                "   %-34s %4d reads, %d failed: p50 %8.0f us, p99 %8.0f us, max %8.0f us\n",
                address == 0x34 ? "from the latest poll (p_total)" : "passed through (p_l1)", n,
                failed, us[us.size() / 2], us[us.size() * 99 / 100], us.back());
        };
        const int before = samples;
        measure(0x34, 10 * seconds_to_run, milliseconds{100});
        const int during = samples - before;
        measure(0x0C, 5 * seconds_to_run, milliseconds{200});
        std::printf(
            "   the gateway's samples while the client read at 10 Hz: %d in %d s "
            "(poll_ms 1000)\n",
            during, seconds_to_run);
        modbus_close(ctx);
        modbus_free(ctx);
        poller.stop();
        boost::asio::post(io, [&] { server.stop(); });
        io.stop();
        io_thread.join();
    }
    return 0;
}
