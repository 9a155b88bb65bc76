// The rtu_over_tcp link: RTU frames with CRC over a TCP stream, against pymodbus' RTU framer on
// a TCP socket (an implementation we did not write), with the faults a serial-to-Ethernet
// converter brings: a garbled CRC, another unit's reply, a late reply, a dropped connection.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "gw/drivers/bus_poller.hpp"
#include "gw/drivers/rtu_frame.hpp"
#include "gw/drivers/rtu_over_tcp_link.hpp"
#include "modbus_fixture.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

using namespace std::chrono;
using namespace gw::test::modbus;

namespace {

const std::string k_peer = std::string(GW_TEST_DATA) + "/../support/rtu_over_tcp_peer.py";

/// The pymodbus peer with its fault list; `port` is its front.
struct Peer {
    std::unique_ptr<gw::test::Process> proc;
    int port = 0;
    Peer(gw::test::TempDir& dir, const std::string& faults, int late_ms = 350) {
        proc = std::make_unique<gw::test::Process>(
            std::vector<std::string>{"/usr/bin/python3", k_peer, faults, "--late-ms",
                                     std::to_string(late_ms)},
            dir.file("peer.log"));
        auto line = proc->wait_for_line("port ", seconds{15});
        REQUIRE_MESSAGE(line.has_value(), "the pymodbus peer did not start: "
                                              << gw::test::read_file(dir.file("peer.log")));
        port = std::stoi(line->substr(5));
    }
};

gw::LinkConfig converter(int port) {
    gw::LinkConfig l;
    l.id = "converter";
    l.type = gw::LinkType::rtu_over_tcp;
    l.host = "127.0.0.1";
    l.port = static_cast<std::uint16_t>(port);
    l.baud = 19200;
    l.response_timeout_ms = 300;
    l.retries = 0;
    l.reconnect_max_ms = 200;
    return l;
}

/// Reads `count` holding registers from `start` of unit 1.
gw::Result<std::vector<std::uint16_t>> holding(gw::RegisterReader& link, std::uint16_t start,
                                               std::uint16_t count) {
    std::vector<std::uint16_t> out(count);
    gw::Status st =
        link.read(1, gw::RegFunction::holding, start, count, out.data(), k_clock.steady_now());
    if (!st) return st.error();
    return out;
}

void check_holding(gw::RegisterReader& link, std::uint16_t start, std::uint16_t count) {
    auto got = holding(link, start, count);
    REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().message));
    for (std::uint16_t i = 0; i < count; ++i) CHECK((*got)[i] == 1000 + start + i);
}

/// The test's link, lent to a poller: both use one converter connection, as socat has one.
class Borrowed final : public gw::RegisterReader {
  public:
    explicit Borrowed(gw::RegisterReader& link) : link_(link) {}
    const gw::LinkConfig& config() const override { return link_.config(); }
    bool connected() const override { return link_.connected(); }
    gw::SteadyMs next_attempt() const override { return link_.next_attempt(); }
    void close() override {}
    gw::Status read(int unit, gw::RegFunction function, std::uint16_t start, std::uint16_t count,
                    std::uint16_t* out, gw::SteadyMs now) override {
        return link_.read(unit, function, start, count, out, now);
    }
    std::uint64_t requests() const override { return link_.requests(); }
    std::uint64_t wire_bytes() const override { return link_.wire_bytes(); }

  private:
    gw::RegisterReader& link_;
};

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("RTU framing: the CRC of the Modbus specification's example, and reply checks") {
    // "01 03 00 00 00 0A" has CRC C5CD, sent low byte first: C5 CD.
    const auto req = gw::rtu::read_request(1, gw::RegFunction::holding, 0, 10);
    REQUIRE(req.size() == 8);
    CHECK(req[6] == 0xC5);
    CHECK(req[7] == 0xCD);
    std::uint16_t out[2] = {};
    std::vector<std::uint8_t> ok{1, 3, 4, 0x03, 0xF2, 0x03, 0xF3};
    const auto crc = gw::rtu::crc16(ok);
    ok.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    ok.push_back(static_cast<std::uint8_t>(crc >> 8));
    CHECK(gw::rtu::check_reply(ok, 1, 3, 2, out).kind == gw::rtu::ReplyKind::ok);
    CHECK(out[0] == 1010);
    CHECK(gw::rtu::check_reply(ok, 2, 3, 2, out).kind == gw::rtu::ReplyKind::wrong_unit);
    CHECK(gw::rtu::check_reply(ok, 1, 3, 3, out).kind == gw::rtu::ReplyKind::malformed);
    auto bad = ok;
    bad.back() ^= 0x01;
    CHECK(gw::rtu::check_reply(bad, 1, 3, 2, out).kind == gw::rtu::ReplyKind::bad_crc);
}

TEST_CASE("rtu_over_tcp reads what pymodbus' RTU framer over TCP serves") {
    gw::test::TempDir dir;
    Peer peer(dir, "ok");
    gw::RtuOverTcpLink link(converter(peer.port));
    check_holding(link, 0, 10);
    check_holding(link, 150, 50);
    std::vector<std::uint16_t> in(3);
    REQUIRE(link.read(1, gw::RegFunction::input, 5, 3, in.data(), k_clock.steady_now()).ok());
    CHECK(in == std::vector<std::uint16_t>{2005, 2006, 2007});
    // Past the end of pymodbus' block: its exception 2, named.
    auto beyond = holding(link, 198, 5);
    REQUIRE_FALSE(beyond.ok());
    CHECK(beyond.error().code == gw::Errc::modbus_exception);
    CHECK(beyond.error().message.find("exception 2 (illegal data address)") != std::string::npos);
    // A unit nobody answers for: a timeout, and the link stays usable.
    std::uint16_t one = 0;
    auto silent = link.read(9, gw::RegFunction::holding, 0, 1, &one, k_clock.steady_now());
    REQUIRE_FALSE(silent.ok());
    CHECK(silent.error().code == gw::Errc::modbus_timeout);
    check_holding(link, 20, 4);
    CHECK(link.requests() == 6);
    // A write (FC16), and what pymodbus then holds.
    const std::uint16_t values[3] = {7, 8, 9};
    REQUIRE(link.write(1, 30, values, 3, k_clock.steady_now()).ok());
    auto after = holding(link, 29, 5);
    REQUIRE(after.ok());
    CHECK(*after == std::vector<std::uint16_t>{1029, 7, 8, 9, 1033});
}

TEST_CASE("rtu_over_tcp: a bad CRC, another unit's reply, a late reply and a dropped connection") {
    gw::test::TempDir dir;
    // One fault per reply, in this order; every read asks for a different range, so that an
    // answer taken for the wrong request would show in the values.
    Peer peer(dir, "ok,crc,ok,unit,ok,late,ok,drop,ok,split,ok", 350);
    gw::RtuOverTcpLink link(converter(peer.port));
    check_holding(link, 0, 2);

    auto crc = holding(link, 10, 2);
    REQUIRE_FALSE(crc.ok());
    CHECK(crc.error().code == gw::Errc::modbus_crc);
    check_holding(link, 20, 3);

    auto unit = holding(link, 30, 2);
    REQUIRE_FALSE(unit.ok());
    CHECK(unit.error().code == gw::Errc::modbus_bad_reply);
    CHECK(unit.error().message.find("a reply from unit 2, expected unit 1") != std::string::npos);
    check_holding(link, 40, 4);

    // The reply comes 50 ms after the 300 ms timeout: it is flushed, never taken for the next.
    const auto before = link.flushed_bytes();
    auto late = holding(link, 50, 2);
    REQUIRE_FALSE(late.ok());
    CHECK(late.error().code == gw::Errc::modbus_timeout);
    CHECK(link.flushed_bytes() - before == 9);  // the late reply: 5 + 2 x 2 bytes
    check_holding(link, 60, 2);                 // same length as the late one: values tell

    auto dropped = holding(link, 70, 2);
    REQUIRE_FALSE(dropped.ok());
    CHECK(dropped.error().code == gw::Errc::modbus_connect);
    CHECK(dropped.error().message.find("connection lost") != std::string::npos);
    CHECK_FALSE(link.connected());
    check_holding(link, 80, 2);  // reconnected at once
    CHECK(link.connected());

    check_holding(link, 90, 6);  // a reply that arrives in two pieces is one reply
    check_holding(link, 100, 2);
}

TEST_CASE("every built-in profile decodes over RTU over TCP, with socat as the converter") {
    gw::test::TempDir dir;
    for (const auto& p : gw::builtin_profiles()) {
        CAPTURE(p.name);
        gw::test::PtyPair pty(dir.path());
        auto args = fixed_args(std::string(p.name));
        args.insert(args.begin(), {"--rtu", pty.a(), "--unit", "3"});
        Sim sim(dir, args);
        // The converter: a TCP port whose bytes go to the serial line and back, unframed.
        const int port = free_port();
        gw::test::Process socat(
            {"socat", "TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr",
             pty.b() + ",raw,echo=0"},
            dir.file("socat.log"));
        auto m = meter_for(std::string(p.name), 3);
        gw::RtuOverTcpLink link(converter(port));
        std::uint16_t probe = 0;
        for (int i = 0; i < 50 && !link.connected(); ++i) {
            (void)link.read(3, gw::RegFunction::holding, 0, 1, &probe, k_clock.steady_now());
            if (!link.connected()) std::this_thread::sleep_for(milliseconds{50});
        }
        REQUIRE(link.connected());
        gw::BusPoller poller(std::make_unique<Borrowed>(link), {m}, k_clock,
                             [](gw::PollResult&&) {});
        check_all_registers(poller, link, m, sim);
    }
}

TEST_CASE("RTU framing keeps t3.5 and inter_frame_delay_ms between frames") {
    gw::test::TempDir dir;
    Peer peer(dir, "ok");
    gw::LinkConfig cfg = converter(peer.port);
    cfg.inter_frame_delay_ms = 40;
    gw::RtuOverTcpLink link(cfg);
    check_holding(link, 0, 2);  // connects
    const auto t0 = steady_clock::now();
    for (int i = 0; i < 5; ++i) check_holding(link, 0, 2);
    const auto took = duration_cast<milliseconds>(steady_clock::now() - t0);
    MESSAGE("5 reads with inter_frame_delay_ms = 40: ", took.count(), " ms");
    // Each request waits t3.5 (2 ms at 19200 baud) and 40 ms after the previous reply.
    CHECK(took >= milliseconds{5 * 42});
    cfg.inter_frame_delay_ms = 0;
    gw::RtuOverTcpLink quick(cfg);
    check_holding(quick, 0, 2);
    const auto t1 = steady_clock::now();
    for (int i = 0; i < 5; ++i) check_holding(quick, 0, 2);
    const auto took_quick = duration_cast<milliseconds>(steady_clock::now() - t1);
    MESSAGE("5 reads without: ", took_quick.count(), " ms");
    CHECK(took_quick < took);
}
