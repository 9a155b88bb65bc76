// libFuzzer target: what the field sends the gateway. Byte 0 picks the parser, the rest is the
// input: a Modbus TCP request PDU to the [modbus_server] (byte 1 the unit id), an RTU reply frame
// to the RTU-over-TCP link's checks, or an MQTT backfill request. Each must answer, never crash:
// a server reply is the request's function code with data, or that code | 0x80 and one
// exception code.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "gw/drivers/bus_poller.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/drivers/rtu_frame.hpp"
#include "gw/forwarding/mqtt_forwarder.hpp"
#include "gw/modbus_server/modbus_server.hpp"

namespace {

/// A link that never answers: pass-through reads wait in the (never started) poller's queue.
class Silent final : public gw::RegisterReader {
  public:
    explicit Silent(gw::LinkConfig c) : c_(std::move(c)) {}
    const gw::LinkConfig& config() const override { return c_; }
    bool connected() const override { return false; }
    gw::SteadyMs next_attempt() const override { return {}; }
    void close() override {}
    gw::Status read(int, gw::RegFunction, std::uint16_t, std::uint16_t, std::uint16_t*,
                    gw::SteadyMs) override {
        return gw::make_error(gw::Errc::modbus_timeout, "silent");
    }
    gw::Status write(int, std::uint16_t, const std::uint16_t*, std::uint16_t,
                     gw::SteadyMs) override {
        return gw::make_error(gw::Errc::modbus_timeout, "silent");
    }
    std::uint64_t requests() const override { return 0; }
    std::uint64_t wire_bytes() const override { return 0; }

  private:
    gw::LinkConfig c_;
};

struct World {
    gw::ManualClock clock{gw::SysMs{std::chrono::seconds{1'795'435'200}}};
    gw::Config cfg;
    std::unique_ptr<gw::BusPoller> poller;
    boost::asio::io_context io;
    std::unique_ptr<gw::ModbusServer> server;

    World() {
        gw::LinkConfig link;
        link.id = "lan";
        gw::MeterConfig m;
        m.meter_ean = *gw::Ean18::parse("871685900000000028");
        m.klant_ean = *gw::Ean18::parse("871685900000000011");
        m.registers = gw::find_profile("eastron-sdm630")->map;
        cfg.meters = {m};
        cfg.gateway.id = "site";
        poller = std::make_unique<gw::BusPoller>(std::make_unique<Silent>(link), cfg.meters, clock,
                                                 [](gw::PollResult&&) {});
        // One good poll's worth of registers in the cache, fresh at the clock's time.
        const gw::ReadPlan& plan = poller->plan(0);
        std::vector<std::vector<std::uint16_t>> words;
        for (const auto& b : plan.blocks) words.emplace_back(b.count, 0x4242);
        const_cast<gw::RegisterCache&>(poller->cache())
            .store(0, plan, words, clock.steady_now(), std::chrono::hours{1});
        gw::ModbusServerConfig sc;
        sc.max_queued = 4;
        server = std::make_unique<gw::ModbusServer>(
            io, sc,
            std::vector<gw::ServedUnit>{{1, poller.get(), 0, true, {{100, 120}}},
                                        {2, poller.get(), 0, false, {}}},
            clock);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static World w;
    if (size < 2) return 0;
    const std::vector<std::uint8_t> rest(data + 2, data + size);
    switch (data[0] % 3) {
        case 0: {
            if (rest.empty() || rest.size() > 253) return 0;
            const auto reply = w.server->answer(data[1], rest);
            if (reply.empty()) return 0;  // queued for the bus
            const bool exception = reply.size() == 2 && reply[0] == (rest[0] | 0x80);
            if (!exception && reply[0] != rest[0]) std::abort();
            break;
        }
        case 1: {
            std::uint16_t out[125];
            const std::uint16_t count = data[1] % 126;
            (void)gw::rtu::reply_length(rest, 3);
            const auto r = gw::rtu::check_reply(rest, 1, 3, count, out);
            if (r.kind == gw::rtu::ReplyKind::ok && rest.size() != 5U + 2U * count) std::abort();
            (void)gw::rtu::check_write_reply(rest, 1, data[1], count);
            break;
        }
        default: {
            const std::string payload(rest.begin(), rest.end());
            auto req = gw::parse_backfill(w.cfg, payload);
            if (req && req->from >= req->to) std::abort();
            break;
        }
    }
    return 0;
}
