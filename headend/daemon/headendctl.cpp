// headendctl: the head-end's admin CLI: API clients, consent, and the fleet's status.
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "gw/api/admin_cli.hpp"
#include "gw/core/clock.hpp"
#include "gw/headend/headend.hpp"

namespace {

using namespace std::chrono;
using gw::cli::must;

const std::string k_usage = std::string(
                                "usage: headendctl --config FILE COMMAND\n"
                                "commands:\n") +
                            gw::cli::k_access_usage +
                            "  status                                per gateway: last message, "
                            "manifest, completeness of the last day, open gaps; and the ingest "
                            "counters\n";

std::string opt_time(const std::optional<gw::SysS>& t) {
    return t ? gw::format_utc(*t) : "-";
}

int status_cmd(gw::PgStore& store, gw::SysS now) {
    const auto gateways = must(store.gateway_status(now));
    std::cout << gateways.size() << " gateway(s)\n";
    for (const auto& g : gateways) {
        std::cout << "gateway " << g.gateway_id << "  version "
                  << (g.version.empty() ? "-" : g.version) << "  state "
                  << (g.state.empty() ? "-" : g.state) << " since " << opt_time(g.state_at)
                  << "\n  manifest " << opt_time(g.manifest_at) << "  last message "
                  << opt_time(g.last_message_at) << "\n";
        for (const auto& m : g.meters) {
            const double pct = m.last_day_expected > 0
                                   ? 100.0 * static_cast<double>(m.last_day) /
                                         static_cast<double>(m.last_day_expected)
                                   : 100.0;
            std::cout << "  meter " << m.meter_ean.str() << "  " << gw::meter_type_name(m.type)
                      << "  klant " << m.klant_ean.str() << "  last day " << m.last_day << "/"
                      << m.last_day_expected << " (" << std::fixed << std::setprecision(1)
                      << std::min(pct, 100.0) << "%)  newest " << opt_time(m.newest) << "\n";
        }
        for (const auto& gap : g.gaps)
            std::cout << "  gap " << gap.meter_ean.str() << " (" << gw::format_utc(gap.from) << ", "
                      << gw::format_utc(gap.to) << "]  " << (gap.unfillable ? "unfillable" : "open")
                      << "  requests " << gap.attempts << "  last " << opt_time(gap.last_request)
                      << "\n";
    }
    std::cout << "ingest:\n";
    for (const auto& c : must(store.ingest_counters()))
        std::cout << "  " << c.instance << "  received " << c.received << "  inserted "
                  << c.inserted << "  duplicates " << c.duplicates << "  conflicts " << c.conflicts
                  << "  malformed " << c.malformed << "  updated " << opt_time(c.updated_at)
                  << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << k_usage;
        return 0;
    }
    if (args.size() == 1 && args[0] == "--version") {
        std::cout << "headendctl " << gw::headend_version() << "\n";
        return 0;
    }
    if (args.size() < 3 || args[0] != "--config") {
        std::cerr << k_usage;
        return 64;
    }
    auto res = gw::load_headend_config(args[1]);
    if (!res.config) {
        for (const auto& d : res.errors) std::cerr << "error: " << d.str() << "\n";
        return 2;
    }
    const std::vector<std::string> cmd(args.begin() + 2, args.end());
    try {
        auto store = gw::PgStore::open(res.config->pg_conninfo);
        if (!store) {
            std::cerr << "headendctl: " << store.error().message << "\n";
            return 3;
        }
        const gw::SystemClock clock;
        const auto now = time_point_cast<seconds>(clock.utc_now());
        if (cmd[0] == "client") return gw::cli::client_command(**store, cmd, now, std::cout);
        if (cmd[0] == "consent") {
            gw::cli::KnownCustomers known{{}, "any gateway's manifest"};
            for (const auto& m : must((*store)->fleet_meters()))
                if (known.list.empty() || known.list.back().first != m.klant_ean)
                    known.list.emplace_back(m.klant_ean, "gateway " + m.gateway_id);
            return gw::cli::consent_command(**store, known, cmd, now, std::cout, std::cerr);
        }
        if (cmd[0] == "status") {
            gw::cli::options(cmd, 1, {});
            return status_cmd(**store, now);
        }
        throw gw::cli::UsageError("unknown command \"" + cmd[0] + "\"");
    } catch (const gw::cli::UsageError& e) {
        std::cerr << "headendctl: " << e.what() << "\n" << k_usage;
        return 64;
    } catch (const std::exception& e) {
        std::cerr << "headendctl: " << e.what() << "\n";
        return 1;
    }
}
