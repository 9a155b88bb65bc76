// meter-sim: a Modbus TCP/RTU meter simulator on libmodbus, for tests, demos and commissioning.
#include <arpa/inet.h>
#include <fcntl.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gw/core/config.hpp"
#include "gw/core/time.hpp"
#include "gw/drivers/profile.hpp"
#include "simulator.hpp"

namespace {

using namespace std::chrono;
using gw::sim::FaultKind;
using gw::sim::SimUnit;

constexpr const char* k_help =
    R"(meter-sim: simulates 3-phase meters as a Modbus TCP server or an RTU device.

usage: meter-sim [options]

where it listens (one of):
  --tcp HOST:PORT          Modbus TCP server, e.g. 127.0.0.1:1502 (port 0: a free port, printed)
  --rtu DEVICE             Modbus RTU on a serial device or pseudo-terminal (e.g. one end of a socat pair)
  --baud N --parity N|E|O --stop-bits 1|2   serial settings (default 19200 E 1)
  --wire-time              on --rtu: answer only after the wire time of the request, t3.5 and
                           the reply at --baud (11 bits a character), as on a real line, so
                           that bus time is measured, not assumed

what it serves:
  --profile NAME           register map of every unit (default eastron-sdm630; see --profiles)
  --config FILE            also accept meter EANs of FILE's [[meter]] sections as profile names
                           (serves that meter's register map, custom maps included)
  --unit ID[:PROFILE[:SCENARIO]]   a unit id to serve (repeatable; default: unit 1)
  --scenario fixed|solar|swing     default scenario (default solar):
                           solar: a production meter over a sunny day (export, peak --peak-kw)
                           swing: a transfer point swinging between import and export
                           fixed: --p-kw, --q-kvar and --u-v, constant
  --peak-kw X  --p-kw X  --q-kvar X  --u-v X  --noise-v X  --seed N
  --start ISO8601          scenario time at start (default: now)
  --speed X                scenario seconds per real second (default 1; e.g. 60 for a fast day;
                           0 freezes the scenario: values and energy counters stay constant)
  --tick-ms N              how often values change and energy is integrated (default 100)

the truth it serves:
  --truth FILE             append one JSON line per unit and tick: every served register as the
                           reader must decode it, the totals a reader computes, and the energy
                           counters (exact integral of the served power)
  --print-s N              print a summary line per unit every N seconds on stdout (default 5; 0: never)

faults (also typed on stdin while running; each command answers "ok ..." on stdout):
  --fault "UNIT|* KIND [ARG]"   KIND: none | timeout (no answer) | slow MS | exception CODE |
                           corrupt (bad CRC on RTU, wrong transaction id on TCP) |
                           short (reply one register short) | drop (TCP: close the connection)
  value UNIT|* REG nan|inf|na|ones|NUMBER|clear   (stdin) serve a special or fixed value in REG
  quit                     (stdin) stop

On start it prints "listening tcp HOST:PORT" or "listening rtu DEVICE" on stdout.
)";

struct Options {
    std::string tcp, rtu, profile = "eastron-sdm630", config_file, truth_file;
    int baud = 19200, stop_bits = 1, tick_ms = 100, print_s = 5;
    bool wire_time = false;
    char parity = 'E';
    double speed = 1;
    std::optional<std::int64_t> start_ms;
    gw::sim::ScenarioParams scenario;
    std::vector<std::string> units, faults;
};

[[noreturn]] void die(const std::string& msg) {
    std::cerr << "meter-sim: " << msg << "\n";
    std::exit(2);
}

std::optional<gw::Config> g_config;

const gw::RegisterMap* map_for(const std::string& name) {
    if (const auto* p = gw::find_profile(name)) return &p->map;
    if (g_config) {
        auto ean = gw::Ean18::parse(name);
        if (ean)
            if (const auto* m = g_config->find_meter(*ean)) return &m->registers;
    }
    return nullptr;
}

std::vector<std::unique_ptr<SimUnit>> make_units(const Options& o) {
    std::vector<std::unique_ptr<SimUnit>> units;
    std::vector<std::string> specs = o.units.empty() ? std::vector<std::string>{"1"} : o.units;
    for (const auto& spec : specs) {
        std::vector<std::string> parts;
        std::stringstream ss(spec);
        for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
        int id = 0;
        try {
            id = std::stoi(parts.at(0));
        } catch (...) {
            die("--unit \"" + spec + "\": expected ID[:PROFILE[:SCENARIO]]");
        }
        if (id < 0 || id > 255) die("--unit " + spec + ": unit id must be 0..255");
        const std::string profile = parts.size() > 1 ? parts[1] : o.profile;
        const gw::RegisterMap* map = map_for(profile);
        if (map == nullptr) die("unknown profile \"" + profile + "\" (see --profiles)");
        gw::sim::ScenarioParams sc = o.scenario;
        if (parts.size() > 2 && !gw::sim::parse_scenario_kind(parts[2], sc.kind))
            die("--unit " + spec + ": scenario must be fixed, solar or swing");
        for (const auto& u : units)
            if (u->id() == id) die("unit " + std::to_string(id) + " given twice");
        units.push_back(std::make_unique<SimUnit>(id, profile, *map, sc));
        // The family's identification register, so that a scan recognises it.
        if (const gw::MeterProfile* p = gw::find_profile(profile); p && !p->signature.empty())
            units.back()->set_identity({p->signature.front().function, p->signature.front().address,
                                        p->signature.front().words()});
    }
    return units;
}

/// Applies one command line ("fault ...", "value ...", "quit"); returns a reply for stdout.
std::string command(const std::string& line, std::vector<std::unique_ptr<SimUnit>>& units,
                    bool& quit) {
    std::istringstream in(line);
    std::string verb, who;
    in >> verb;
    if (verb.empty()) return "";
    if (verb == "quit") {
        quit = true;
        return "ok quit";
    }
    in >> who;
    std::vector<SimUnit*> targets;
    for (auto& u : units)
        if (who == "*" || who == std::to_string(u->id())) targets.push_back(u.get());
    if (targets.empty()) return "error: no unit \"" + who + "\"";
    if (verb == "fault") {
        std::string kind;
        int arg = 0;
        in >> kind >> arg;
        gw::sim::Fault f;
        if (kind == "none")
            f.kind = FaultKind::none;
        else if (kind == "timeout")
            f.kind = FaultKind::timeout;
        else if (kind == "slow")
            f = {FaultKind::slow, arg > 0 ? arg : 2000};
        else if (kind == "exception")
            f = {FaultKind::exception, arg > 0 ? arg : 4};
        else if (kind == "corrupt")
            f.kind = FaultKind::corrupt;
        else if (kind == "short")
            f.kind = FaultKind::short_reply;
        else if (kind == "drop")
            f.kind = FaultKind::drop;
        else
            return "error: unknown fault \"" + kind + "\"";
        for (auto* u : targets) u->fault = f;
        return "ok fault " + who + " " + kind;
    }
    if (verb == "value") {
        std::string reg, what;
        in >> reg >> what;
        auto r = gw::reg_from_name(reg);
        if (!r) return "error: unknown register \"" + reg + "\"";
        gw::sim::ValueOverride ov;
        if (what == "nan")
            ov.special = gw::SpecialValue::nan;
        else if (what == "inf")
            ov.special = gw::SpecialValue::infinity;
        else if (what == "na")
            ov.special = gw::SpecialValue::not_available;
        else if (what == "ones")
            ov.special = gw::SpecialValue::all_ones;
        else if (what == "clear") {
            for (auto* u : targets) u->overrides.erase(*r);
            return "ok value " + who + " " + reg + " clear";
        } else {
            try {
                ov.number = std::stod(what);
            } catch (...) {
                return "error: value must be nan, inf, na, ones, clear or a number";
            }
        }
        for (auto* u : targets) u->overrides[*r] = ov;
        return "ok value " + who + " " + reg + " " + what;
    }
    return "error: unknown command \"" + verb + "\"";
}

std::uint16_t crc16(const std::uint8_t* p, std::size_t n) {
    std::uint16_t crc = 0xFFFF;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int b = 0; b < 8; ++b)
            crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
    }
    return crc;
}

/// The register data a read request asks for, from the unit's tables (big-endian bytes).
std::vector<std::uint8_t> register_bytes(SimUnit& u, int function, int start, int count) {
    const std::uint16_t* table =
        function == 3 ? u.mapping()->tab_registers : u.mapping()->tab_input_registers;
    std::vector<std::uint8_t> out;
    for (int i = 0; i < count && start + i < 65536; ++i) {
        out.push_back(static_cast<std::uint8_t>(table[start + i] >> 8));
        out.push_back(static_cast<std::uint8_t>(table[start + i] & 0xFF));
    }
    return out;
}

bool write_all(int fd, const std::vector<std::uint8_t>& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

SimUnit* find_unit(std::vector<std::unique_ptr<SimUnit>>& units, int id) {
    for (auto& u : units)
        if (u->id() == id) return u.get();
    return nullptr;
}

/// Sends a read reply carrying `data` (register bytes) by hand: RTU with CRC or TCP with the
/// request's MBAP header; `corrupt` breaks the CRC (RTU) or the transaction id (TCP).
bool send_registers(int fd, bool rtu, const std::uint8_t* req, const SimUnit& u, int function,
                    const std::vector<std::uint8_t>& data, bool corrupt) {
    std::vector<std::uint8_t> pdu{static_cast<std::uint8_t>(function),
                                  static_cast<std::uint8_t>(data.size())};
    pdu.insert(pdu.end(), data.begin(), data.end());
    std::vector<std::uint8_t> frame;
    if (rtu) {
        frame.push_back(static_cast<std::uint8_t>(u.id()));
        frame.insert(frame.end(), pdu.begin(), pdu.end());
        std::uint16_t crc = crc16(frame.data(), frame.size());
        if (corrupt) crc ^= 0x0101;
        frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
        frame.push_back(static_cast<std::uint8_t>(crc >> 8));
    } else {
        std::uint16_t tid = static_cast<std::uint16_t>((req[0] << 8) | req[1]);
        if (corrupt) tid ^= 0x5A5A;
        const std::size_t l = pdu.size() + 1;
        frame = {static_cast<std::uint8_t>(tid >> 8),
                 static_cast<std::uint8_t>(tid & 0xFF),
                 0,
                 0,
                 static_cast<std::uint8_t>(l >> 8),
                 static_cast<std::uint8_t>(l & 0xFF),
                 static_cast<std::uint8_t>(u.id())};
        frame.insert(frame.end(), pdu.begin(), pdu.end());
    }
    return write_all(fd, frame);
}

/// Answers one request. `header` is 7 (TCP MBAP) or 1 (RTU address). Returns false to drop the
/// connection.
bool answer(modbus_t* ctx, int fd, bool rtu, const std::uint8_t* req, int len, SimUnit& u) {
    const int h = rtu ? 1 : 7;
    const int function = req[h];
    if (function == 6 || function == 16) {  // writes land in the unit's tables
        modbus_set_slave(ctx, u.id());
        return modbus_reply(ctx, req, len, u.mapping()) >= 0 || rtu;
    }
    if (function != 3 && function != 4) {
        modbus_reply_exception(ctx, req, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
        return true;
    }
    switch (u.fault.kind) {
        case FaultKind::timeout:
            return true;
        case FaultKind::drop:
            return rtu;
        case FaultKind::slow:
            std::this_thread::sleep_for(milliseconds{u.fault.param});
            break;
        case FaultKind::exception:
            modbus_reply_exception(ctx, req, static_cast<unsigned>(u.fault.param));
            return true;
        case FaultKind::corrupt:
        case FaultKind::short_reply: {
            const int start = (req[h + 1] << 8) | req[h + 2];
            int count = (req[h + 3] << 8) | req[h + 4];
            if (u.fault.kind == FaultKind::short_reply && count > 1) --count;
            return send_registers(fd, rtu, req, u, function,
                                  register_bytes(u, function, start, count),
                                  u.fault.kind == FaultKind::corrupt);
        }
        case FaultKind::none:
            break;
    }
    // A read of exactly the identification register answers the model code or name, even where
    // the family's measurement table overlaps it (Carlo Gavazzi's 0x000B: one word alone).
    if (const auto& id = u.identity();
        id && function == (id->function == gw::RegFunction::holding ? 3 : 4) &&
        ((req[h + 1] << 8) | req[h + 2]) == id->address &&
        ((req[h + 3] << 8) | req[h + 4]) == static_cast<int>(id->words.size())) {
        std::vector<std::uint8_t> data;
        for (std::uint16_t w : id->words) {
            data.push_back(static_cast<std::uint8_t>(w >> 8));
            data.push_back(static_cast<std::uint8_t>(w & 0xFF));
        }
        return send_registers(fd, rtu, req, u, function, data, false);
    }
    modbus_set_slave(ctx, u.id());
    return modbus_reply(ctx, req, len, u.mapping()) >= 0 || rtu;
}

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

struct Runner {
    Options opt;
    std::vector<std::unique_ptr<SimUnit>> units;
    std::ofstream truth;
    steady_clock::time_point t0 = steady_clock::now();
    std::int64_t start_ms = 0;
    steady_clock::time_point next_tick, next_print, last_update = steady_clock::now();
    std::string stdin_buf;
    bool quit = false;

    void tick() {
        const auto now = steady_clock::now();
        if (now < next_tick) return;
        const double real_ms = duration<double, std::milli>(now - t0).count();
        const auto t_ms = start_ms + static_cast<std::int64_t>(real_ms * opt.speed);
        // Speed 0 freezes everything, energy included, so a test sees constant registers.
        const double step_ms =
            opt.speed > 0 ? duration<double, std::milli>(now - last_update).count() : 0.0;
        last_update = now;
        for (auto& u : units) {
            u->update(t_ms, step_ms);
            if (truth.is_open()) truth << u->truth_json() << "\n";
        }
        if (truth.is_open()) truth.flush();
        next_tick = now + milliseconds{opt.tick_ms};
        if (opt.print_s > 0 && now >= next_print) {
            for (auto& u : units) std::cout << u->summary() << "\n";
            std::cout.flush();
            next_print = now + seconds{opt.print_s};
        }
    }

    int timeout_ms() const {
        const auto left = duration_cast<milliseconds>(next_tick - steady_clock::now()).count();
        return static_cast<int>(std::max<long long>(0, std::min<long long>(left, 1000)));
    }

    /// Returns false at end of input: then stdin is no longer watched, and the simulator runs on.
    bool read_stdin() {
        char buf[512];
        const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) return false;
        stdin_buf.append(buf, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = stdin_buf.find('\n')) != std::string::npos;) {
            const std::string line = stdin_buf.substr(0, nl);
            stdin_buf.erase(0, nl + 1);
            const std::string reply = command(line, units, quit);
            if (!reply.empty()) std::cout << reply << std::endl;
        }
        return true;
    }
};

int run_tcp(Runner& r) {
    const auto colon = r.opt.tcp.rfind(':');
    if (colon == std::string::npos) die("--tcp: expected HOST:PORT");
    const std::string host = r.opt.tcp.substr(0, colon);
    const int port = std::atoi(r.opt.tcp.c_str() + colon + 1);
    modbus_t* ctx = modbus_new_tcp(host.c_str(), port);
    if (std::getenv("METER_SIM_DEBUG")) modbus_set_debug(ctx, 1);
    if (ctx == nullptr) die("cannot create TCP context");
    const int server = modbus_tcp_listen(ctx, 32);
    if (server < 0) die("cannot listen on " + r.opt.tcp + ": " + modbus_strerror(errno));
    sockaddr_in addr{};
    socklen_t alen = sizeof addr;
    ::getsockname(server, reinterpret_cast<sockaddr*>(&addr), &alen);
    std::cout << "listening tcp " << host << ":" << ntohs(addr.sin_port) << std::endl;

    std::vector<int> clients;
    std::uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    bool stdin_open = true;
    while (!g_stop && !r.quit) {
        r.tick();
        std::vector<pollfd> fds{{server, POLLIN, 0}};
        if (stdin_open) fds.push_back({STDIN_FILENO, POLLIN, 0});
        const std::size_t first_client = fds.size();
        for (int c : clients) fds.push_back({c, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), r.timeout_ms()) < 0) continue;
        int accepted = -1;
        if (fds[0].revents & POLLIN) accepted = ::accept(server, nullptr, nullptr);
        if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP))) stdin_open = r.read_stdin();
        std::vector<int> keep;
        for (std::size_t i = first_client; i < fds.size(); ++i) {
            const int fd = fds[i].fd;
            bool alive = true;
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                r.tick();
                modbus_set_socket(ctx, fd);
                const int len = modbus_receive(ctx, query);
                if (len <= 0) {
                    alive = false;
                } else {
                    SimUnit* u = find_unit(r.units, query[6]);
                    if (u == nullptr)
                        modbus_reply_exception(ctx, query, MODBUS_EXCEPTION_GATEWAY_TARGET);
                    else
                        alive = answer(ctx, fd, false, query, len, *u);
                }
            }
            if (alive)
                keep.push_back(fd);
            else
                ::close(fd);
        }
        if (accepted >= 0) keep.push_back(accepted);
        clients = keep;
    }
    for (int c : clients) ::close(c);
    ::close(server);
    modbus_free(ctx);
    return 0;
}

int run_rtu(Runner& r) {
    modbus_t* ctx = modbus_new_rtu(r.opt.rtu.c_str(), r.opt.baud, r.opt.parity, 8, r.opt.stop_bits);
    if (ctx == nullptr || modbus_connect(ctx) != 0)
        die("cannot open " + r.opt.rtu + ": " + modbus_strerror(errno));
    const int fd = modbus_get_socket(ctx);
    std::cout << "listening rtu " << r.opt.rtu << std::endl;
    // libmodbus' RTU receive answers one unit id only; several meters share a real bus, so we
    // frame requests ourselves and let modbus_reply answer as the addressed unit.
    std::vector<std::uint8_t> buf;
    auto last_byte = steady_clock::now();
    bool stdin_open = true;
    while (!g_stop && !r.quit) {
        r.tick();
        std::vector<pollfd> fds{{fd, POLLIN, 0}};
        if (stdin_open) fds.push_back({STDIN_FILENO, POLLIN, 0});
        ::poll(fds.data(), fds.size(), buf.empty() ? r.timeout_ms() : std::min(r.timeout_ms(), 5));
        if (stdin_open && fds.size() > 1 && (fds[1].revents & (POLLIN | POLLHUP)))
            stdin_open = r.read_stdin();
        if (fds[0].revents & POLLIN) {
            std::uint8_t tmp[256];
            const ssize_t n = ::read(fd, tmp, sizeof tmp);
            if (n > 0) {
                buf.insert(buf.end(), tmp, tmp + n);
                last_byte = steady_clock::now();
            }
        }
        // Frame length from the function code; a partial frame followed by silence is noise.
        while (buf.size() >= 2) {
            const int fn = buf[1];
            std::size_t need = 0;
            if (fn >= 1 && fn <= 6)
                need = 8;
            else if ((fn == 15 || fn == 16) && buf.size() >= 7)
                need = 9u + buf[6];
            else if (fn == 15 || fn == 16)
                break;
            else {
                buf.clear();  // unknown function: resynchronise on silence
                break;
            }
            if (buf.size() < need) break;
            std::vector<std::uint8_t> frame(buf.begin(), buf.begin() + static_cast<long>(need));
            buf.erase(buf.begin(), buf.begin() + static_cast<long>(need));
            const std::uint16_t crc = crc16(frame.data(), need - 2);
            if ((crc & 0xFF) != frame[need - 2] || (crc >> 8) != frame[need - 1])
                continue;  // corrupted: ignore
            SimUnit* u = find_unit(r.units, frame[0]);
            if (u == nullptr) continue;  // another device on the bus
            r.tick();
            if (r.opt.wire_time) {
                // A pty delivers at once: wait what the line takes. The request, the meter's
                // t3.5 to see its end, the reply (an FC03/04 answer or an exception).
                const std::size_t count = (std::size_t{frame[4]} << 8) | frame[5];
                const std::size_t reply = (fn == 3 || fn == 4) && count <= 125 ? 5 + 2 * count : 5;
                const auto t35 = r.opt.baud > 19200 ? microseconds{1750}
                                                    : microseconds{38'500'000LL / r.opt.baud};
                std::this_thread::sleep_until(
                    last_byte +
                    microseconds{static_cast<long long>((need + reply) * 11'000'000ULL /
                                                        static_cast<unsigned>(r.opt.baud))} +
                    t35);
            }
            answer(ctx, fd, true, frame.data(), static_cast<int>(need), *u);
        }
        if (!buf.empty() && steady_clock::now() - last_byte > milliseconds{50}) buf.clear();
    }
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}

double number_arg(const std::string& flag, const char* v) {
    try {
        std::size_t pos = 0;
        const double d = std::stod(v, &pos);
        if (pos == std::strlen(v)) return d;
    } catch (...) {
    }
    die(flag + ": expected a number, got \"" + std::string(v) + "\"");
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) die(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::cout << k_help;
            return 0;
        } else if (a == "--profiles") {
            for (const auto& p : gw::builtin_profiles())
                std::cout << p.name << "\t" << p.make << " " << p.model << "\n";
            return 0;
        } else if (a == "--tcp")
            o.tcp = next();
        else if (a == "--rtu")
            o.rtu = next();
        else if (a == "--wire-time")
            o.wire_time = true;
        else if (a == "--baud")
            o.baud = static_cast<int>(number_arg(a, next()));
        else if (a == "--parity")
            o.parity = next()[0];
        else if (a == "--stop-bits")
            o.stop_bits = static_cast<int>(number_arg(a, next()));
        else if (a == "--profile")
            o.profile = next();
        else if (a == "--config")
            o.config_file = next();
        else if (a == "--unit")
            o.units.push_back(next());
        else if (a == "--scenario") {
            if (!gw::sim::parse_scenario_kind(next(), o.scenario.kind))
                die("--scenario: expected fixed, solar or swing");
        } else if (a == "--peak-kw")
            o.scenario.peak_kw = number_arg(a, next());
        else if (a == "--p-kw")
            o.scenario.p_kw = number_arg(a, next());
        else if (a == "--q-kvar")
            o.scenario.q_kvar = number_arg(a, next());
        else if (a == "--u-v")
            o.scenario.u_v = number_arg(a, next());
        else if (a == "--noise-v")
            o.scenario.noise_v = number_arg(a, next());
        else if (a == "--seed")
            o.scenario.seed = static_cast<std::uint64_t>(number_arg(a, next()));
        else if (a == "--start") {
            auto t = gw::parse_utc(next());
            if (!t) die("--start: " + t.error().message);
            o.start_ms = t->time_since_epoch().count();
        } else if (a == "--speed")
            o.speed = number_arg(a, next());
        else if (a == "--tick-ms")
            o.tick_ms = static_cast<int>(number_arg(a, next()));
        else if (a == "--truth")
            o.truth_file = next();
        else if (a == "--print-s")
            o.print_s = static_cast<int>(number_arg(a, next()));
        else if (a == "--fault")
            o.faults.push_back(next());
        else
            die("unknown option \"" + a + "\" (see --help)");
    }
    if (o.tcp.empty() == o.rtu.empty())
        die("give exactly one of --tcp HOST:PORT or --rtu DEVICE (see --help)");
    if (o.tick_ms < 1 || o.speed < 0) die("--tick-ms must be positive and --speed not negative");
    if (!o.config_file.empty()) {
        auto res = gw::load_config(o.config_file, [](std::string_view n) -> const gw::RegisterMap* {
            const auto* p = gw::find_profile(n);
            return p ? &p->map : nullptr;
        });
        if (!res.config) {
            for (const auto& e : res.errors) std::cerr << "error: " << e.str() << "\n";
            die("--config " + o.config_file + " is not valid");
        }
        g_config = std::move(res.config);
    }

    ::signal(SIGTERM, on_signal);
    ::signal(SIGINT, on_signal);
    ::signal(SIGPIPE, SIG_IGN);

    Runner r;
    r.opt = o;
    r.units = make_units(o);
    for (const auto& f : o.faults) {
        const std::string reply = command("fault " + f, r.units, r.quit);
        if (reply.rfind("ok", 0) != 0) die("--fault \"" + f + "\": " + reply);
    }
    if (!o.truth_file.empty()) {
        r.truth.open(o.truth_file, std::ios::app);
        if (!r.truth) die("cannot write " + o.truth_file);
    }
    r.start_ms = o.start_ms
                     ? *o.start_ms
                     : duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    r.t0 = steady_clock::now();
    r.last_update = r.t0;
    r.next_tick = r.t0;
    r.next_print = r.t0;
    r.tick();
    return o.tcp.empty() ? run_rtu(r) : run_tcp(r);
}
