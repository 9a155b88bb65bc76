// The [modbus_server] proxy: real Modbus TCP clients (libmodbus, and pymodbus which we did not
// write) read a meter through the gateway and get what the meter serves, from the latest poll;
// exceptions for what it cannot answer; 0x0B, never stale values, while the meter is down.
#include <doctest/doctest.h>
#include <modbus.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>

#include "gw/drivers/bus_poller.hpp"
#include "gw/drivers/read_plan.hpp"
#include "gw/modbus_server/modbus_server.hpp"
#include "modbus_fixture.hpp"

using namespace std::chrono;
using namespace gw::test::modbus;

namespace {

/// A libmodbus TCP client of one unit.
struct Client {
    modbus_t* ctx = nullptr;
    Client(int port, int unit) {
        ctx = modbus_new_tcp("127.0.0.1", port);
        REQUIRE(ctx != nullptr);
        modbus_set_response_timeout(ctx, 2, 0);
        REQUIRE(modbus_connect(ctx) == 0);
        modbus_set_slave(ctx, unit);
    }
    ~Client() {
        modbus_close(ctx);
        modbus_free(ctx);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    void unit(int u) { modbus_set_slave(ctx, u); }
    /// The registers, or the exception code (negative) / -1000 for another error.
    int read(gw::RegFunction fn, int start, int count, std::vector<std::uint16_t>& out) {
        out.assign(static_cast<std::size_t>(count), 0);
        const int n = fn == gw::RegFunction::holding
                          ? modbus_read_registers(ctx, start, count, out.data())
                          : modbus_read_input_registers(ctx, start, count, out.data());
        if (n == count) return n;
        if (errno > MODBUS_ENOBASE && errno < MODBUS_ENOBASE + 20) return -(errno - MODBUS_ENOBASE);
        return -1000;
    }
};

/// The simulator with two meters, the gateway's poller on it, and the server in front.
struct Rig {
    gw::test::TempDir& dir;
    Sim sim;
    gw::MeterConfig sdm = meter_for("eastron-sdm630", 1, "871685900000000028");
    gw::MeterConfig umg = meter_for("janitza-umg96rm", 2, "871685900000000035");
    std::atomic<int> samples0{0};
    std::atomic<int> polls0{0};
    std::unique_ptr<gw::BusPoller> poller;
    boost::asio::io_context io;
    std::unique_ptr<gw::ModbusServer> server;
    std::thread io_thread;

    explicit Rig(gw::test::TempDir& d, int max_connections = 8)
        : dir(d),
          sim(d, {"--tcp", "127.0.0.1:0", "--unit", "1:eastron-sdm630:fixed", "--unit",
                  "2:janitza-umg96rm:fixed", "--p-kw", "-48.3", "--q-kvar", "5.2", "--u-v", "231.4",
                  "--speed", "0"}) {
        poller = std::make_unique<gw::BusPoller>(tcp_link(sim.port),
                                                 std::vector<gw::MeterConfig>{sdm, umg}, k_clock,
                                                 [this](gw::PollResult&& r) {
                                                     if (r.meter == 0 && r.sample) ++samples0;
                                                     if (r.meter == 0) ++polls0;
                                                 });
        gw::ModbusServerConfig c;
        c.enabled = true;
        c.listen_host = "127.0.0.1";
        c.listen_port = 0;
        c.max_connections = max_connections;
        c.max_connections_per_address = max_connections;
        c.idle_timeout_s = 30;
        server = std::make_unique<gw::ModbusServer>(
            io, c,
            std::vector<gw::ServedUnit>{{10, poller.get(), 0, false, {{40100, 40109}}},
                                        {11, poller.get(), 1, true, {}}},
            k_clock);
        REQUIRE(server->start().ok());
        io_thread = std::thread([this] {
            auto guard = boost::asio::make_work_guard(io);
            io.run();
        });
        poller->start();
        for (int i = 0; i < 100 && samples0 < 2; ++i) std::this_thread::sleep_for(milliseconds{50});
        REQUIRE(samples0 >= 2);
    }
    ~Rig() {
        poller->stop();
        boost::asio::post(io, [this] { server->stop(); });
        io.stop();
        io_thread.join();
    }
    Rig(const Rig&) = delete;
    Rig& operator=(const Rig&) = delete;
};

/// Decodes what `plan` read as `words` into the map's values.
gw::RawValues decode(const gw::MeterConfig& m, const gw::ReadPlan& plan,
                     const std::vector<std::vector<std::uint16_t>>& words) {
    std::optional<gw::Error> err;
    return gw::decode_blocks(m.registers, plan, words, err);
}

/// Reads every block of `plan` from `port`/`unit` with libmodbus.
std::vector<std::vector<std::uint16_t>> read_plan(int port, int unit, const gw::ReadPlan& plan) {
    Client c(port, unit);
    std::vector<std::vector<std::uint16_t>> words(plan.blocks.size());
    for (std::size_t b = 0; b < plan.blocks.size(); ++b)
        REQUIRE(c.read(plan.blocks[b].function, plan.blocks[b].start, plan.blocks[b].count,
                       words[b]) == plan.blocks[b].count);
    return words;
}

/// The values of `plan` two reads of a meter must share: power and voltage exactly (the
/// scenario holds them), energy to within what the meter counts between the two reads.
void check_same(const gw::ReadPlan& plan, const gw::RawValues& a, const gw::RawValues& b) {
    for (const gw::ReadBlock& blk : plan.blocks)
        for (gw::Reg reg : blk.members) {
            const auto r = static_cast<std::size_t>(reg);
            CAPTURE(gw::reg_name(reg));
            REQUIRE(a[r].has_value());
            REQUIRE(b[r].has_value());
            const bool energy = r >= static_cast<std::size_t>(gw::Reg::e_import);
            if (energy)
                CHECK(*a[r] == doctest::Approx(*b[r]).epsilon(1e-3));
            else
                CHECK(*a[r] == *b[r]);
        }
}

/// Raw bytes to the server: returns what came back before the server closed or 300 ms passed.
std::string raw_exchange(int port, const std::vector<std::uint8_t>& bytes, bool& closed) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::send(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
    timeval tv{0, 300'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string got;
    char buf[300];
    closed = false;
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) {
            closed = true;
            break;
        }
        if (n < 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return got;
}

}  // namespace

TEST_CASE("the Modbus TCP server answers with what the meter serves, from the latest poll") {
    gw::test::TempDir dir;
    Rig rig(dir);
    const int port = rig.server->port();
    const gw::ReadPlan& plan = rig.poller->plan(0);
    const auto requests_before = rig.poller->requests();
    const auto via_proxy = read_plan(port, 10, plan);
    const auto direct = read_plan(rig.sim.port, 1, plan);
    check_same(plan, decode(rig.sdm, plan, via_proxy), decode(rig.sdm, plan, direct));
    const auto served = decode(rig.sdm, plan, via_proxy);
    CHECK(*served[static_cast<std::size_t>(gw::Reg::p_total)] == doctest::Approx(-48'300));
    CHECK(rig.server->counters().from_cache == plan.transactions());
    CHECK(rig.server->counters().passed == 0);
    // No bus traffic for the client: the poller's own requests only (about one poll a 200 ms).
    CHECK(rig.poller->pass_reads() == 0);
    (void)requests_before;
}

TEST_CASE("the Modbus TCP server: exceptions for what it cannot answer, pass-through on request") {
    gw::test::TempDir dir;
    Rig rig(dir);
    const int port = rig.server->port();
    Client c(port, 99);
    std::vector<std::uint16_t> w;
    CHECK(c.read(gw::RegFunction::input, 0, 2, w) == -0x0A);  // no such unit: no path
    c.unit(10);
    CHECK(c.read(gw::RegFunction::holding, 40000, 2, w) == -0x02);  // not polled, no pass-through
    const std::uint16_t value = 7;
    CHECK(modbus_write_register(c.ctx, 0, value) == -1);
    CHECK(errno == MODBUS_ENOBASE + 0x01);  // writes are refused unless allowed
    CHECK(modbus_write_registers(c.ctx, 0, 1, &value) == -1);
    CHECK(errno == MODBUS_ENOBASE + 0x01);
    const std::uint16_t across[2] = {1, 2};  // 40109 is allowed, 40110 is not: all or nothing
    CHECK(modbus_write_registers(c.ctx, 40109, 2, across) == -1);
    CHECK(errno == MODBUS_ENOBASE + 0x01);
    // Allowed: passed to the meter, which then holds the values.
    CHECK(modbus_write_register(c.ctx, 40100, 1234) == 1);
    const std::uint16_t three[3] = {11, 22, 33};
    CHECK(modbus_write_registers(c.ctx, 40101, 3, three) == 3);
    {
        Client meter(rig.sim.port, 1);
        std::vector<std::uint16_t> held;
        REQUIRE(meter.read(gw::RegFunction::holding, 40100, 4, held) == 4);
        CHECK(held == std::vector<std::uint16_t>{1234, 11, 22, 33});
    }
    CHECK(rig.server->counters().written == 2);
    CHECK(rig.poller->pass_reads() == 2);
    // Unit 11 passes reads of unpolled registers to the bus: the meter's own value.
    c.unit(11);
    const auto& u1 = *rig.umg.registers[gw::Reg::p_l1];  // not polled: the plan reads p_total
    CHECK(c.read(u1.function, u1.address, 2, w) == 2);
    std::vector<std::uint16_t> direct;
    Client d(rig.sim.port, 2);
    REQUIRE(d.read(u1.function, u1.address, 2, direct) == 2);
    CHECK(w == direct);
    CHECK(rig.poller->pass_reads() == 3);
    CHECK(rig.server->counters().passed == 1);
    // A malformed count gets exception 03, a PDU of the wrong length too.
    bool closed = false;
    const std::string bad_count =
        raw_exchange(port, {0, 1, 0, 0, 0, 6, 10, 3, 0, 0, 0, 126}, closed);
    CHECK(bad_count == std::string("\x00\x01\x00\x00\x00\x03\x0a\x83\x03", 9));
    // Not Modbus: a wrong protocol id, or a length past 254, closes the connection.
    const std::string not_modbus =
        raw_exchange(port, {0, 1, 0, 5, 0, 6, 10, 3, 0, 0, 0, 1}, closed);
    CHECK(not_modbus.empty());
    CHECK(closed);
    const std::string too_long = raw_exchange(port, {0, 1, 0, 0, 1, 44, 10, 3}, closed);
    CHECK(too_long.empty());
    CHECK(closed);
    CHECK(rig.server->counters().bad_frames == 2);
    // And it still serves.
    c.unit(10);
    const auto& p = *rig.sdm.registers[gw::Reg::p_total];
    CHECK(c.read(p.function, p.address, 2, w) == 2);
}

TEST_CASE("the Modbus TCP server answers 0x0B, never stale values, while the meter is down") {
    gw::test::TempDir dir;
    Rig rig(dir);
    const int port = rig.server->port();
    Client c(port, 10);
    const auto& p = *rig.sdm.registers[gw::Reg::p_total];
    std::vector<std::uint16_t> w;
    REQUIRE(c.read(p.function, p.address, 2, w) == 2);
    rig.sim.proc->kill_and_wait(SIGKILL);
    // The first failed poll makes it 0x0B: within a poll period and a response timeout.
    const auto killed = steady_clock::now();
    int got = 2;
    while (got == 2 && steady_clock::now() - killed < seconds{3}) {
        got = c.read(p.function, p.address, 2, w);
        std::this_thread::sleep_for(milliseconds{20});
    }
    const auto took = duration_cast<milliseconds>(steady_clock::now() - killed).count();
    CHECK(got == -0x0B);
    MESSAGE("stale after ", took, " ms (poll_ms 200)");
    CHECK(took <= 200 + 250 + 100);  // a period, a poll that may be in flight, the client's pace
    CHECK(rig.server->counters().stale >= 1);
}

TEST_CASE("a client polling the server at 10 Hz leaves the gateway's own sample rate alone") {
    gw::test::TempDir dir;
    Rig rig(dir);
    const auto& p = *rig.sdm.registers[gw::Reg::p_total];
    // Both meters' plans: the bus requests one round of polls makes.
    const auto per_round = rig.poller->plan(0).transactions() + rig.poller->plan(1).transactions();
    auto count_samples = [&](bool with_client) {
        const int before = rig.samples0;
        const auto requests_before = rig.poller->requests();
        const int polls_before = rig.polls0;
        std::unique_ptr<Client> c;
        if (with_client) c = std::make_unique<Client>(rig.server->port(), 10);
        std::vector<std::uint16_t> w;
        const auto start = steady_clock::now();
        int reads = 0;
        while (steady_clock::now() - start < seconds{3}) {
            if (c) CHECK(c->read(p.function, p.address, 2, w) == 2);
            ++reads;
            std::this_thread::sleep_until(start + milliseconds{100} * reads);
        }
        // No request on the bus beyond the gateway's own polls (the other meter's polls
        // interleave: allow one round in flight at either end).
        const auto requests = rig.poller->requests() - requests_before;
        const auto rounds = static_cast<std::uint64_t>(rig.polls0 - polls_before);
        CHECK(requests <= (rounds + 1) * per_round);
        return rig.samples0 - before;
    };
    const int alone = count_samples(false);
    const int with_client = count_samples(true);
    MESSAGE("samples in 3 s: ", alone, " alone, ", with_client, " with a 10 Hz client");
    CHECK(std::abs(alone - with_client) <= 2);  // 15 expected in each; scheduling jitter
    CHECK(rig.server->counters().from_cache >= 29);
    CHECK(rig.poller->pass_reads() == 0);
}

TEST_CASE(
    "the Modbus TCP server: pymodbus reads the same values, and full means longest idle goes") {
    gw::test::TempDir dir;
    Rig rig(dir, 2);
    const int port = rig.server->port();
    const auto& u = *rig.sdm.registers[gw::Reg::u_l1n];
    // pymodbus' client, through the server and straight from the meter.
    const std::string script =
        "import sys\n"
        "from pymodbus.client import ModbusTcpClient\n"
        "def read(port, unit):\n"
        "    c = ModbusTcpClient('127.0.0.1', port=port)\n"
        "    c.connect()\n"
        "    r = c.read_input_registers(" +
        std::to_string(u.address) +
        ", 6, slave=unit)\n"
        "    c.close()\n"
        "    return r.registers\n"
        "print('regs', read(int(sys.argv[1]), 10) == read(int(sys.argv[2]), 1), "
        "read(int(sys.argv[1]), 10))\n";
    std::ofstream(dir.file("client.py")) << script;
    gw::test::Process py({"/usr/bin/python3", dir.file("client.py"), std::to_string(port),
                          std::to_string(rig.sim.port)},
                         dir.file("py.log"));
    auto line = py.wait_for_line("regs", seconds{20});
    REQUIRE_MESSAGE(line.has_value(), gw::test::read_file(dir.file("py.log")));
    CHECK(line->rfind("regs True [", 0) == 0);

    // Two connections allowed: a third closes the one idle longest.
    Client a(port, 10), b(port, 10);
    std::vector<std::uint16_t> w;
    REQUIRE(a.read(u.function, u.address, 2, w) == 2);
    std::this_thread::sleep_for(milliseconds{20});
    REQUIRE(b.read(u.function, u.address, 2, w) == 2);
    Client third(port, 10);
    REQUIRE(third.read(u.function, u.address, 2, w) == 2);
    CHECK(b.read(u.function, u.address, 2, w) == 2);
    CHECK(a.read(u.function, u.address, 2, w) == -1000);  // closed for the newcomer
    CHECK(rig.server->counters().evicted >= 1);
}
