// The simulator and link fixtures of the Modbus tests: meter-sim as a child process with its
// truth file, link and meter configurations, a poll collector.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <vector>

#include "gw/drivers/bus_poller.hpp"
#include "gw/drivers/decode.hpp"
#include "gw/drivers/profile.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace gw::test::modbus {

using namespace std::chrono;
using gw::Reg;

inline const gw::SystemClock k_clock;

struct Sim {
    gw::test::TempDir& dir;
    std::unique_ptr<gw::test::Process> proc;
    std::string truth;
    int port = 0;

    Sim(gw::test::TempDir& d, std::vector<std::string> args,
        const std::string& listen_prefix = "listening")
        : dir(d),
          truth(d.file("truth-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) +
                       ".jsonl")) {
        std::vector<std::string> argv{GW_METER_SIM, "--truth", truth, "--print-s", "0"};
        argv.insert(argv.end(), args.begin(), args.end());
        proc = std::make_unique<gw::test::Process>(argv, d.file("sim.log"));
        auto line = proc->wait_for_line(listen_prefix, seconds{5});
        REQUIRE_MESSAGE(line.has_value(),
                        "meter-sim did not start: " << gw::test::read_file(d.file("sim.log")));
        const auto colon = line->rfind(':');
        if (line->find("tcp") != std::string::npos) port = std::stoi(line->substr(colon + 1));
    }
    static int& counter() {
        static int n = 0;
        return n;
    }
    void command(const std::string& c) {
        proc->write_line(c);
        auto reply = proc->wait_for_line("ok", seconds{5});
        REQUIRE_MESSAGE(reply.has_value(), "no ack for " << c);
    }
    /// The newest truth line of `unit`: register name -> served value.
    std::map<std::string, double> last_truth(int unit) {
        std::map<std::string, double> out;
        std::ifstream in(truth);
        std::string line, last;
        const std::string tag = "\"unit\":" + std::to_string(unit) + ",";
        while (std::getline(in, line))
            if (line.find(tag) != std::string::npos) last = line;
        static const std::regex kv("\"([a-z0-9_]+)\":(-?[0-9.eE+-]+)");
        for (auto it = std::sregex_iterator(last.begin(), last.end(), kv);
             it != std::sregex_iterator(); ++it)
            out[(*it)[1]] = std::stod((*it)[2]);
        return out;
    }
};

inline gw::LinkConfig tcp_link(int port) {
    gw::LinkConfig l;
    l.id = "lan";
    l.type = gw::LinkType::tcp;
    l.host = "127.0.0.1";
    l.port = static_cast<std::uint16_t>(port);
    l.response_timeout_ms = 250;
    l.retries = 0;
    l.reconnect_max_ms = 400;
    return l;
}

inline gw::LinkConfig rtu_link(const std::string& device) {
    gw::LinkConfig l;
    l.id = "rs485";
    l.type = gw::LinkType::rtu;
    l.device = device;
    l.baud = 19200;
    l.response_timeout_ms = 300;
    l.request_delay_ms = 2;
    l.retries = 0;
    return l;
}

inline gw::MeterConfig meter_for(const std::string& profile, int unit,
                                 const char* ean = "871685900000000028") {
    gw::MeterConfig m;
    m.meter_ean = *gw::Ean18::parse(ean);
    m.unit_id = unit;
    m.profile = profile;
    m.registers = gw::find_profile(profile)->map;
    m.poll_ms = 200;
    return m;
}

inline std::vector<std::string> fixed_args(const std::string& profile) {
    return {"--profile", profile, "--scenario", "fixed", "--p-kw",  "-48.3",
            "--q-kvar",  "5.2",   "--u-v",      "231.4", "--speed", "0"};
}

/// Reads every register of the meter's map in one plan and checks each against the truth.
inline void check_all_registers(gw::BusPoller& poller, gw::RegisterReader& link,
                                const gw::MeterConfig& m, Sim& sim) {
    std::vector<Reg> all;
    for (std::size_t r = 0; r < gw::k_reg_count; ++r)
        if (m.registers.has(static_cast<Reg>(r))) all.push_back(static_cast<Reg>(r));
    const auto plan = gw::plan_reads(m.registers, all, 0);
    std::vector<std::vector<std::uint16_t>> words(plan.blocks.size());
    for (std::size_t b = 0; b < plan.blocks.size(); ++b) {
        words[b].resize(plan.blocks[b].count);
        auto st = link.read(m.unit_id, plan.blocks[b].function, plan.blocks[b].start,
                            plan.blocks[b].count, words[b].data(), k_clock.steady_now());
        REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
    }
    // A serial device is opened exclusively: let the poller have it.
    if (link.config().type == gw::LinkType::rtu) link.close();
    std::optional<gw::Error> err;
    const auto raw = gw::decode_blocks(m.registers, plan, words, err);
    CHECK_FALSE(err.has_value());
    const auto truth = sim.last_truth(m.unit_id);
    for (Reg r : all) {
        CAPTURE(gw::reg_name(r));
        REQUIRE(truth.count(std::string(gw::reg_name(r))));
        REQUIRE(raw[static_cast<std::size_t>(r)].has_value());
        CHECK(*raw[static_cast<std::size_t>(r)] ==
              doctest::Approx(truth.at(std::string(gw::reg_name(r)))).epsilon(1e-12));
    }
    // And the sample the gateway builds from the same meter.
    auto res = poller.poll_once(0);
    REQUIRE_MESSAGE(res.sample.has_value(), (res.error ? res.error->message : ""));
    CHECK(res.sample->p_w == doctest::Approx(truth.at("p_w")).epsilon(1e-12));
    CHECK(res.sample->q_var == doctest::Approx(truth.at("q_var")).epsilon(1e-12));
    CHECK(res.sample->p_w == doctest::Approx(-48'300).epsilon(1e-4));
    CHECK(res.sample->u_v[0] == doctest::Approx(truth.at("u_l1n")).epsilon(1e-12));
    CHECK(res.sample->u_v[2] == doctest::Approx(truth.at("u_l3n")).epsilon(1e-12));
    if (m.registers.has(Reg::e_export)) CHECK(*res.sample->e_export_wh == truth.at("e_export"));
    CHECK(res.transactions == poller.plan(0).transactions());
}

/// Collects poll results from a running BusPoller.
struct Collector {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<gw::PollResult> results;
    gw::BusPoller::Sink sink() {
        return [this](gw::PollResult&& r) {
            std::lock_guard lock(mu);
            results.push_back(std::move(r));
            cv.notify_all();
        };
    }
    /// Waits (bounded) until `pred(results)` holds.
    template <class P>
    bool wait(P pred, milliseconds timeout = milliseconds{6000}) {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, timeout, [&] { return pred(results); });
    }
    gw::MeterCounters last_counters(std::size_t meter) {
        std::lock_guard lock(mu);
        for (auto it = results.rbegin(); it != results.rend(); ++it)
            if (it->meter == meter) return it->counters;
        return {};
    }
};

}  // namespace gw::test::modbus
