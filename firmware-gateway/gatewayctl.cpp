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
#include "gw/api/admin_cli.hpp"
#include "gw/core/clock.hpp"
#include "gw/core/quantity.hpp"
#include "gw/core/text.hpp"
#include "gw/daemon/setup.hpp"
#include "gw/store/store.hpp"

namespace {

using namespace std::chrono;

constexpr const char* k_usage_template =
    "usage: gatewayctl --config FILE COMMAND\n"
    "commands:\n"
    "%ACCESS%"
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

using gw::cli::ean_arg;
using gw::cli::must;
using gw::cli::options;
using gw::cli::UsageError;

std::string opt_time(const std::optional<gw::SysS>& t) {
    return t ? gw::format_utc(*t) : "-";
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

std::string usage_text() {
    std::string u = k_usage_template;
    u.replace(u.find("%ACCESS%"), 8, gw::cli::k_access_usage);
    return u;
}
const std::string k_usage = usage_text();

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
        if (cmd[0] == "client") return gw::cli::client_command(**store, cmd, now, std::cout);
        if (cmd[0] == "consent") {
            gw::cli::KnownCustomers known{{}, res.config->file};
            for (const auto& c : res.config->customers)
                known.list.emplace_back(c.klant_ean, c.name);
            return gw::cli::consent_command(**store, known, cmd, now, std::cout, std::cerr);
        }
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
