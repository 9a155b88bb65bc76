// gatewayctl: the installer's admin CLI. Works on the same SQLite file while the daemon runs.
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "field_tools.hpp"
#include "gw/api/secret.hpp"
#include "gw/core/clock.hpp"
#include "gw/core/quantity.hpp"
#include "gw/core/text.hpp"
#include "gw/daemon/setup.hpp"
#include "gw/store/store.hpp"

namespace {

using namespace std::chrono;

constexpr const char* k_usage =
    "usage: gatewayctl --config FILE COMMAND\n"
    "commands:\n"
    "  client add NAME --role ROLE           create an API client; prints its secret once (last "
    "line).\n"
    "                                        ROLE: reader (grid operator: data), installer\n"
    "                                        (commissioning page, live values, metrics) or admin\n"
    "  client rotate NAME [--overlap 7d]     new secret (printed once); the old one stays valid "
    "for the overlap\n"
    "  client revoke NAME                    revoke a client and all its secrets\n"
    "  client list                           list clients\n"
    "  consent grant KLANT_EAN [--by NAME]   grant data access for a customer\n"
    "  consent revoke KLANT_EAN [--by NAME]  revoke it; takes effect on the next API request\n"
    "  consent list                          current consent and its history\n"
    "  status                                store and meter overview\n"
    "  intervals --meter METER_EAN [--last N]  the newest stored intervals of a meter\n"
    "field commands (they talk to the meters; on an RS-485 line the running gateway holds they\n"
    "refuse: use its commissioning page, or stop it first):\n"
    "  read --meter METER_EAN                one read of a configured meter: every register, raw\n"
    "                                        and decoded, and the sample the gateway would take\n"
    "  read --link ID --unit N --profile P   the same for any unit on a link (P: a built-in\n"
    "                                        profile, or a meter EAN whose map to use)\n"
    "  scan --link ID [--units 1-247] [--timeout-ms N]  the unit ids that answer, one line each:\n"
    "                                        unit N PROFILE (or unknown)\n"
    "  check                                 the link and sign checks; exit 0 when all hold\n";

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Options after the positional words: --name value pairs.
std::map<std::string, std::string> options(const std::vector<std::string>& args, std::size_t from,
                                           std::initializer_list<const char*> allowed) {
    std::map<std::string, std::string> out;
    for (std::size_t i = from; i < args.size(); i += 2) {
        const std::string& k = args[i];
        bool ok = false;
        for (const char* a : allowed) ok = ok || k == a;
        if (!ok) throw UsageError("unknown option \"" + k + "\"");
        if (i + 1 >= args.size()) throw UsageError("option " + k + " needs a value");
        out[k] = args[i + 1];
    }
    return out;
}

seconds parse_duration(const std::string& text) {
    std::size_t pos = 0;
    long long n = -1;
    try {
        n = std::stoll(text, &pos);
    } catch (...) {
    }
    const std::string unit = text.substr(pos);
    if (n < 0 || pos == 0)
        throw UsageError("expected a duration like 7d, 12h, 30m or 600s, got \"" + text + "\"");
    if (unit == "d") return hours{24 * n};
    if (unit == "h") return hours{n};
    if (unit == "m") return minutes{n};
    if (unit == "s" || unit.empty()) return seconds{n};
    throw UsageError("expected a duration like 7d, 12h, 30m or 600s, got \"" + text + "\"");
}

gw::Ean18 ean_arg(const std::string& text, const char* what) {
    auto e = gw::Ean18::parse(text);
    if (!e)
        throw UsageError(std::string(what) + " \"" + text +
                         "\" is not a valid EAN-18: " + e.error().message);
    return *e;
}

bool valid_client_name(const std::string& n) {
    return gw::is_identifier(n, 64);
}

template <class T>
T must(gw::Result<T> r) {
    if (!r) throw std::runtime_error(r.error().message);
    return std::move(r).value();
}
void must(const gw::Status& s) {
    if (!s) throw std::runtime_error(s.error().message);
}

std::string opt_time(const std::optional<gw::SysS>& t) {
    return t ? gw::format_utc(*t) : "-";
}

int client_cmd(gw::Store& store, const std::vector<std::string>& a, gw::SysS now) {
    if (a.size() < 2) throw UsageError("client needs a subcommand: add, rotate, revoke or list");
    const std::string& sub = a[1];
    if (sub == "list") {
        options(a, 2, {});
        for (const auto& c : must(store.clients())) {
            const auto secrets = must(store.valid_secrets(c.name, now));
            std::cout << c.name << "\trole=" << gw::role_name(c.role)
                      << "\tcreated=" << gw::format_utc(c.created_at) << "\t"
                      << (c.revoked_at ? "revoked=" + gw::format_utc(*c.revoked_at) : "active")
                      << "\tvalid_secrets=" << secrets.size();
            for (const auto& s : secrets)
                if (s.expires_at)
                    std::cout << " (one expires " << gw::format_utc(*s.expires_at) << ")";
            std::cout << "\n";
        }
        return 0;
    }
    if (a.size() < 3) throw UsageError("client " + sub + " needs a NAME");
    const std::string& name = a[2];
    if (!valid_client_name(name))
        throw UsageError("client name \"" + name +
                         "\": expected 1-64 letters, digits, '-', '_' or '.'");
    if (sub == "add") {
        auto o = options(a, 3, {"--role"});
        if (!o.count("--role")) throw UsageError("client add needs --role reader|installer|admin");
        const auto parsed = gw::parse_role(o["--role"]);
        if (!parsed)
            throw UsageError("--role: expected reader, installer or admin, got \"" + o["--role"] +
                             "\"");
        const gw::Role role = *parsed;
        const std::string secret = gw::generate_secret();
        must(store.add_client(name, role, gw::hash_secret(secret), now));
        std::cout << "created API client \"" << name << "\" (" << o["--role"]
                  << "). Its secret follows; it is shown only this once:\n"
                  << secret << "\n";
        return 0;
    }
    if (sub == "rotate") {
        auto o = options(a, 3, {"--overlap"});
        const seconds overlap =
            o.count("--overlap") ? parse_duration(o["--overlap"]) : hours{24 * 7};
        const std::string secret = gw::generate_secret();
        must(store.rotate_secret(name, gw::hash_secret(secret), now, now + overlap));
        std::cout << "rotated the secret of \"" << name << "\"; the previous one stays valid until "
                  << gw::format_utc(now + overlap)
                  << ". The new secret follows; it is shown only this once:\n"
                  << secret << "\n";
        return 0;
    }
    if (sub == "revoke") {
        options(a, 3, {});
        must(store.revoke_client(name, now));
        std::cout << "revoked API client \"" << name << "\"\n";
        return 0;
    }
    throw UsageError("unknown client subcommand \"" + sub + "\"");
}

int consent_cmd(gw::Store& store, const gw::Config& cfg, const std::vector<std::string>& a,
                gw::SysS now) {
    if (a.size() < 2) throw UsageError("consent needs a subcommand: grant, revoke or list");
    const std::string& sub = a[1];
    if (sub == "list") {
        options(a, 2, {});
        std::cout << "current:\n";
        for (const auto& c : cfg.customers) {
            std::cout << "  " << c.klant_ean.str() << "\t"
                      << (must(store.consent_active(c.klant_ean)) ? "granted" : "none") << "\t"
                      << c.name << "\n";
        }
        std::cout << "history:\n";
        for (const auto& e : must(store.consent_history(nullptr)))
            std::cout << "  " << gw::format_utc(e.at) << "\t" << e.klant_ean.str() << "\t"
                      << (e.granted ? "grant" : "revoke") << "\tby " << e.actor << "\n";
        return 0;
    }
    if (sub != "grant" && sub != "revoke")
        throw UsageError("unknown consent subcommand \"" + sub + "\"");
    if (a.size() < 3) throw UsageError("consent " + sub + " needs a KLANT_EAN");
    const gw::Ean18 klant = ean_arg(a[2], "KLANT_EAN");
    auto o = options(a, 3, {"--by"});
    const char* user = std::getenv("SUDO_USER") ? std::getenv("SUDO_USER") : std::getenv("USER");
    const std::string actor = o.count("--by") ? o["--by"] : (user ? user : "gatewayctl");
    if (cfg.find_customer(klant) == nullptr)
        std::cerr << "warning: " << klant.str() << " is not a customer in " << cfg.file << "\n";
    must(store.record_consent(klant, sub == "grant", now, actor));
    std::cout << "consent " << (sub == "grant" ? "granted" : "revoked") << " for " << klant.str()
              << " by " << actor << "\n";
    return 0;
}

int status_cmd(gw::Store& store, const gw::Config& cfg) {
    const auto st = must(store.stats());
    std::cout << "gateway     " << cfg.gateway.id << "\n"
              << "store       " << store.path() << " (schema v" << st.schema_version << ", "
              << st.file_bytes << " bytes)\n"
              << "intervals   " << st.intervals << " (oldest " << opt_time(st.oldest_interval)
              << ", newest " << opt_time(st.newest_interval) << ")\n"
              << "mqtt        " << (cfg.mqtt.enabled ? "enabled" : "disabled") << ", backlog "
              << st.pending_forward << " (oldest unsent " << opt_time(st.oldest_pending) << ")\n"
              << "meters:\n";
    for (const auto& m : cfg.meters) {
        std::cout << "  " << m.meter_ean.str() << "  " << gw::meter_type_name(m.type) << "  klant "
                  << m.klant_ean.str() << "  newest "
                  << opt_time(must(store.latest_end(m.meter_ean))) << "\n";
    }
    return 0;
}

int intervals_cmd(gw::Store& store, const std::vector<std::string>& a) {
    auto o = options(a, 1, {"--meter", "--last"});
    if (!o.count("--meter")) throw UsageError("intervals needs --meter METER_EAN");
    const gw::Ean18 meter = ean_arg(o["--meter"], "--meter");
    long long last = 12;
    if (o.count("--last")) {
        try {
            last = std::stoll(o["--last"]);
        } catch (...) {
            last = 0;
        }
        if (last < 1 || last > 100000)
            throw UsageError("--last: expected a number from 1 to 100000");
    }
    auto rows = must(store.latest_intervals(meter, last));
    std::cout << "tijd                  P[kW]  Q[kVAr]  U1[V]  U2[V]  U3[V]  kwaliteit   monsters  "
                 "dekking\n";
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
        auto val = [](gw::Quantity q, const std::optional<double>& v) {
            return v ? gw::format_served(q, *v) : "-";
        };
        std::cout << gw::format_utc(it->end) << std::setw(7)
                  << val(gw::Quantity::active_power, it->p_w) << std::setw(9)
                  << val(gw::Quantity::reactive_power, it->q_var) << std::setw(7)
                  << val(gw::Quantity::voltage_l1, it->u1_v) << std::setw(7)
                  << val(gw::Quantity::voltage_l2, it->u2_v) << std::setw(7)
                  << val(gw::Quantity::voltage_l3, it->u3_v) << "  " << std::left << std::setw(10)
                  << gw::quality_name(it->quality) << std::right << std::setw(10) << it->samples
                  << std::setw(8) << std::fixed << std::setprecision(1) << it->coverage * 100 << "%"
                  << (it->flags & gw::k_flag_cross_check ? "  cross-check!" : "") << "\n";
    }
    return 0;
}

/// Run as root, gatewayctl becomes the owner of the store's directory (the daemon's user), so
/// that the database and its -wal/-shm files it creates stay writable for the daemon.
bool drop_to_store_owner(const std::string& db_path) {
    if (::geteuid() != 0) return true;
    const auto slash = db_path.rfind('/');
    const std::string dir = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : db_path.substr(0, slash);
    struct stat sb {};
    if (::stat(dir.c_str(), &sb) != 0 || sb.st_uid == 0) return true;
    if (::setgroups(0, nullptr) != 0 || ::setgid(sb.st_gid) != 0 || ::setuid(sb.st_uid) != 0) {
        std::cerr << "gatewayctl: cannot switch to the owner of " << dir << ": "
                  << std::strerror(errno) << "\n";
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << k_usage;
        return 0;
    }
    if (args.size() == 1 && args[0] == "--version") {
        std::cout << "gatewayctl " << gw::version() << "\n";
        return 0;
    }
    if (args.size() < 3 || args[0] != "--config") {
        std::cerr << k_usage;
        return 64;
    }
    auto res = gw::load_gateway_config(args[1]);
    if (!res.config) {
        gw::print_diagnostics(res.errors, "error");
        return 2;
    }
    const std::vector<std::string> cmd(args.begin() + 2, args.end());
    try {  // the field commands need no store
        if (cmd[0] == "read") return gw::field::read_cmd(*res.config, cmd);
        if (cmd[0] == "scan") return gw::field::scan_cmd(*res.config, cmd);
        if (cmd[0] == "check") return gw::field::check_cmd(*res.config, cmd);
    } catch (const gw::field::Usage& e) {
        std::cerr << "gatewayctl: " << e.what() << "\n" << k_usage;
        return 64;
    } catch (const std::exception& e) {
        std::cerr << "gatewayctl: " << e.what() << "\n";
        return 1;
    }
    if (!drop_to_store_owner(res.config->storage.path)) return 1;
    try {
        gw::OpenOptions open;
        open.create = true;  // an installer sets up clients and consent before the first start
        auto store = gw::Store::open(res.config->storage.path, open);
        if (!store) {
            std::cerr << "gatewayctl: " << store.error().message << "\n";
            return 3;
        }
        const gw::SystemClock clock;
        const auto now = time_point_cast<seconds>(clock.utc_now());
        must((*store)->sync_master_data(*res.config, now));
        if (cmd[0] == "client") return client_cmd(**store, cmd, now);
        if (cmd[0] == "consent") return consent_cmd(**store, *res.config, cmd, now);
        if (cmd[0] == "status") {
            options(cmd, 1, {});
            return status_cmd(**store, *res.config);
        }
        if (cmd[0] == "intervals") return intervals_cmd(**store, cmd);
        throw UsageError("unknown command \"" + cmd[0] + "\"");
    } catch (const UsageError& e) {
        std::cerr << "gatewayctl: " << e.what() << "\n" << k_usage;
        return 64;
    } catch (const std::exception& e) {
        std::cerr << "gatewayctl: " << e.what() << "\n";
        return 1;
    }
}
