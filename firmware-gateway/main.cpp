// meter-gateway: the daemon's entry point. Wiring only; the parts live in the libraries.
#include <cstring>
#include <iostream>
#include <string>

#include "gw/api/api.hpp"
#include "gw/core/log.hpp"
#include "gw/daemon/gateway.hpp"
#include "gw/daemon/setup.hpp"
#include "gw/drivers/modbus_link.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/store/store.hpp"

namespace {

void usage(std::ostream& os) {
    os << "usage: meter-gateway --config FILE        run the gateway\n"
          "       meter-gateway --check-config FILE  validate FILE, print every problem, exit "
          "non-zero on errors\n"
          "       meter-gateway --profiles           list the built-in meter profiles\n"
          "       meter-gateway --openapi            print the pull API's OpenAPI document\n"
          "       meter-gateway --version\n";
}

int check_config(const std::string& path) {
    auto res = gw::load_gateway_config(path);
    gw::print_diagnostics(res.errors, "error");
    if (!res.config) {
        std::cerr << path << ": " << res.errors.size() << " error(s)\n";
        return 1;
    }
    const auto warnings = gw::check_referenced_files(*res.config);
    gw::print_diagnostics(warnings, "warning");
    std::cout << path << ": OK (" << res.config->meters.size() << " meter(s), "
              << res.config->customers.size() << " customer(s)"
              << (warnings.empty() ? "" : ", with warnings") << ")\n";
    return 0;
}

int list_profiles() {
    for (const auto& p : gw::builtin_profiles()) {
        std::cout << p.name << "\t" << p.make << " " << p.model << "\n\tsource: " << p.source
                  << "\n";
        if (!p.notes.empty()) std::cout << "\tnotes: " << p.notes << "\n";
        std::cout << "\tsignature: ";
        if (p.signature.empty()) std::cout << "none (a scan can only guess this family)";
        for (std::size_t i = 0; i < p.signature.size(); ++i) {
            const gw::Signature& s = p.signature[i];
            std::cout << (i > 0 ? "; " : "")
                      << (s.function == gw::RegFunction::holding ? "holding " : "input ")
                      << s.address << " = ";
            if (!s.text.empty()) std::cout << '"' << s.text << "...\"";
            for (std::size_t c = 0; c < s.codes.size(); ++c)
                std::cout << (c > 0 ? " or " : "") << s.codes[c];
            std::cout << " (" << s.what << ")";
        }
        std::cout << "\n";
    }
    return 0;
}

int run(const std::string& path) {
    auto res = gw::load_gateway_config(path);
    if (!res.config) {
        gw::print_diagnostics(res.errors, "error");
        std::cerr << "meter-gateway: not started: " << res.errors.size()
                  << " configuration error(s)\n";
        return 2;
    }
    const gw::Config& cfg = *res.config;
    gw::log::set_level(cfg.gateway.log_level);
    if (auto missing = gw::check_referenced_files(cfg); !missing.empty()) {
        gw::print_diagnostics(missing, "error");
        std::cerr << "meter-gateway: not started: files named in the configuration are missing\n";
        return 2;
    }
    for (const auto& link : cfg.links) {
        if (link.type != gw::LinkType::rtu) continue;
        if (gw::Status st = gw::check_serial_device(link.device); !st) {
            gw::log::error("main", "not started: link ", link.id, ": ", st.error().message);
            return 2;
        }
    }
    // Only proven damage moves a file aside. A store that cannot be opened for a passing reason
    // (a full disk, an I/O error) does not stop the gateway: it polls on and holds intervals.
    gw::OpenOptions options;
    options.move_damaged_aside = true;
    options.allow_unavailable = true;
    auto store = gw::Store::open(cfg.storage.path, options);
    if (!store) {
        gw::log::error("main", "not started: ", store.error().message);
        return 3;
    }
    const gw::SystemClock clock;
    gw::Gateway gateway(cfg, std::move(store).value(), clock);
    return gateway.run();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
        std::cout << "meter-gateway " << gw::version() << "\n";
        return 0;
    }
    if (argc == 2 && std::strcmp(argv[1], "--profiles") == 0) return list_profiles();
    if (argc == 2 && std::strcmp(argv[1], "--openapi") == 0) {
        std::cout << gw::Api::openapi_document(gw::version()) << "\n";
        return 0;
    }
    if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        usage(std::cout);
        return 0;
    }
    if (argc == 3 && std::strcmp(argv[1], "--check-config") == 0) return check_config(argv[2]);
    if (argc == 3 && std::strcmp(argv[1], "--config") == 0) return run(argv[2]);
    usage(std::cerr);
    return 64;
}
