// meter-headend: the fleet head-end's entry point (SPEC 8). Wiring only.
#include <cstring>
#include <iostream>
#include <string>

#include "gw/core/log.hpp"
#include "gw/headend/headend.hpp"

namespace {

void usage(std::ostream& os) {
    os << "usage: meter-headend --config FILE        run the head-end\n"
          "       meter-headend --check-config FILE  validate FILE, print every problem, exit "
          "non-zero on errors\n"
          "       meter-headend --version\n";
}

void print(const std::vector<gw::Diagnostic>& diags, const char* severity) {
    for (const auto& d : diags) std::cerr << severity << ": " << d.str() << "\n";
}

int check_config(const std::string& path) {
    auto res = gw::load_headend_config(path);
    print(res.errors, "error");
    if (!res.config) {
        std::cerr << path << ": " << res.errors.size() << " error(s)\n";
        return 1;
    }
    const auto warnings = gw::check_referenced_files(*res.config);
    print(warnings, "warning");
    std::cout << path << ": OK (head-end " << res.config->id
              << (warnings.empty() ? ")" : ", with warnings)") << "\n";
    return 0;
}

int run(const std::string& path) {
    auto res = gw::load_headend_config(path);
    if (!res.config) {
        print(res.errors, "error");
        std::cerr << "meter-headend: not started: " << res.errors.size()
                  << " configuration error(s)\n";
        return 2;
    }
    gw::log::set_level(res.config->log_level);
    if (auto missing = gw::check_referenced_files(*res.config); !missing.empty()) {
        print(missing, "error");
        std::cerr << "meter-headend: not started: files named in the configuration are missing\n";
        return 2;
    }
    const gw::SystemClock clock;
    gw::Headend headend(*res.config, clock);
    return headend.run();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
        std::cout << "meter-headend " << gw::headend_version() << "\n";
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
