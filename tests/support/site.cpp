// Process-test fixtures.
#include "site.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

namespace gw::test {

using namespace std::chrono;

SimProcess::SimProcess(TempDir& dir, std::vector<std::string> args, const std::string& log_name) {
    std::vector<std::string> argv{GW_METER_SIM, "--print-s", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    proc = std::make_unique<Process>(argv, dir.file(log_name));
    auto line = proc->wait_for_line("listening", seconds{5});
    if (!line)
        throw std::runtime_error("meter-sim did not start: " + read_file(dir.file(log_name)));
    if (line->find("tcp") != std::string::npos)
        port = std::stoi(line->substr(line->rfind(':') + 1));
}

std::unique_ptr<Process> start_gateway(
    const std::string& config, const std::string& log,
    const std::vector<std::pair<std::string, std::string>>& env) {
    return std::make_unique<Process>(std::vector<std::string>{GW_METER_GATEWAY, "--config", config},
                                     log, env);
}

int wait_api_port(const std::string& log, milliseconds timeout) {
    static const std::regex listening("HTTPS pull API listening on 127\\.0\\.0\\.1:([0-9]+)");
    const auto deadline = steady_clock::now() + timeout;
    while (steady_clock::now() < deadline) {
        const std::string text = read_file(log);
        std::smatch m;
        if (std::regex_search(text, m, listening)) return std::stoi(m[1]);
        std::this_thread::sleep_for(milliseconds{20});
    }
    return 0;
}

std::map<std::string, StoredInterval> stored_intervals(const std::string& db) {
    std::map<std::string, StoredInterval> out;
    sqlite3* h = nullptr;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(h);
        return out;
    }
    sqlite3_busy_timeout(h, 5000);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(
        h,
        "SELECT meter_ean, end_s, p_w, q_var, u1_v, u2_v, u3_v, quality, samples, coverage, "
        "forward_pending FROM intervals",
        -1, &st, nullptr);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        StoredInterval r{sqlite3_column_double(st, 2),
                         sqlite3_column_double(st, 3),
                         sqlite3_column_double(st, 4),
                         sqlite3_column_double(st, 5),
                         sqlite3_column_double(st, 6),
                         sqlite3_column_double(st, 9),
                         reinterpret_cast<const char*>(sqlite3_column_text(st, 7)),
                         sqlite3_column_int64(st, 8),
                         sqlite3_column_int64(st, 10) == 1};
        const std::time_t end = static_cast<std::time_t>(sqlite3_column_int64(st, 1));
        char when[32];
        std::tm tm{};
        ::gmtime_r(&end, &tm);
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        out[std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) + "/" + when] =
            r;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

long stored_count(const std::string& db, const std::string& meter) {
    long n = 0;
    for (const auto& [id, r] : stored_intervals(db)) n += id.rfind(meter, 0) == 0;
    return n;
}

std::string integrity(const std::string& db) {
    sqlite3* h = nullptr;
    std::string out = "cannot open";
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, nullptr);
        out.clear();
        while (st && sqlite3_step(st) == SQLITE_ROW)
            out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return out;
}

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

bool wait_port(int port, milliseconds timeout) {
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
        std::this_thread::sleep_for(milliseconds{20});
    }
    return false;
}

Broker::Broker(TempDir& d, bool with_tls, const std::string& passwd)
    : dir(d), port(free_port()), tls(with_tls) {
    std::ofstream conf(d.file("mosquitto.conf"));
    conf << "listener " << port << " 127.0.0.1\n"
         << "persistence true\npersistence_location " << d.path() << "/\n"
         << "log_dest stderr\n";
    if (::geteuid() == 0)
        conf << "user root\n";  // else it drops to 'mosquitto', who cannot read our temp dir
    if (passwd.empty())
        conf << "allow_anonymous true\n";
    else
        conf << "allow_anonymous false\npassword_file " << passwd << "\n";
    if (with_tls)
        conf << "cafile " GW_TEST_DATA "/tls/ca.crt\ncertfile " GW_TEST_DATA
                "/tls/broker.crt\nkeyfile " GW_TEST_DATA "/tls/broker.key\n";
    conf.close();
    start();
}

void Broker::start() {
    proc = std::make_unique<Process>(
        std::vector<std::string>{"mosquitto", "-c", dir.file("mosquitto.conf")},
        dir.file("mosquitto.log"));
    if (!wait_port(port, seconds{5}))
        throw std::runtime_error("mosquitto did not start: " +
                                 read_file(dir.file("mosquitto.log")));
}

void Broker::stop() {
    proc->kill_and_wait(SIGTERM);
}

std::string Broker::uri() const {
    return (tls ? "ssl://127.0.0.1:" : "tcp://127.0.0.1:") + std::to_string(port);
}

Subscriber::Subscriber(const Broker& b, TempDir& dir, const std::string& topic,
                       const std::string& id) {
    // stdbuf: line-buffered through the pipe, so that the -d protocol lines arrive as they happen.
    std::vector<std::string> argv{"stdbuf",
                                  "-oL",
                                  "mosquitto_sub",
                                  "-h",
                                  "127.0.0.1",
                                  "-p",
                                  std::to_string(b.port),
                                  "-v",
                                  "-q",
                                  "1",
                                  "-c",
                                  "-i",
                                  id,
                                  "-t",
                                  topic,
                                  "-d"};
    if (b.tls) argv.insert(argv.end(), {"--cafile", GW_TEST_DATA "/tls/ca.crt"});
    proc = std::make_unique<Process>(argv, dir.file("sub.log"));
    // Subscribed before anything is published: wait for the broker's SUBACK (printed with -d).
    const auto deadline = steady_clock::now() + seconds{5};
    while (steady_clock::now() < deadline)
        if (auto l = proc->read_line(milliseconds{100});
            l && l->find("SUBACK") != std::string::npos)
            return;
    throw std::runtime_error("mosquitto_sub did not subscribe");
}

void Subscriber::collect(milliseconds for_at_most) {
    const auto deadline = steady_clock::now() + for_at_most;
    while (steady_clock::now() < deadline)
        if (auto l = proc->read_line(milliseconds{20})) {
            // -d also prints the protocol exchange: keep the messages (topic and payload) only.
            if (l->rfind("Client ", 0) == 0 || l->rfind("Subscribed", 0) == 0) continue;
            lines.push_back(*l);
        }
}

std::set<std::string> Subscriber::ids() const {
    std::set<std::string> out;
    static const std::regex id("\"id\":\"([0-9]+/[0-9TZ:-]+)\"");
    for (const auto& l : lines) {
        std::smatch m;
        if (std::regex_search(l, m, id)) out.insert(m[1]);
    }
    return out;
}

bool Subscriber::saw(const std::string& line) const {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

}  // namespace gw::test
