#include "field_tools.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "gw/core/clock.hpp"
#include "gw/drivers/modbus_link.hpp"
#include "gw/drivers/probe.hpp"
#include "gw/drivers/profile.hpp"
#include "gw/drivers/site_check.hpp"

namespace gw::field {

using namespace std::chrono;

namespace {

std::map<std::string, std::string> options(const std::vector<std::string>& args,
                                           std::initializer_list<const char*> allowed) {
    std::map<std::string, std::string> out;
    for (std::size_t i = 1; i < args.size(); i += 2) {
        bool ok = false;
        for (const char* a : allowed) ok = ok || args[i] == a;
        if (!ok) throw Usage("unknown option \"" + args[i] + "\"");
        if (i + 1 >= args.size()) throw Usage("option " + args[i] + " needs a value");
        out[args[i]] = args[i + 1];
    }
    return out;
}

long number(const std::string& text, const char* what, long lo, long hi) {
    std::size_t pos = 0;
    long v = lo - 1;
    try {
        v = std::stol(text, &pos);
    } catch (...) {
    }
    if (pos != text.size() || v < lo || v > hi)
        throw Usage(std::string(what) + ": expected a whole number from " + std::to_string(lo) +
                    " to " + std::to_string(hi) + ", got \"" + text + "\"");
    return v;
}

const LinkConfig& link_of(const Config& cfg, const std::string& id) {
    const LinkConfig* l = cfg.find_link(id);
    if (l == nullptr) {
        std::string known;
        for (const auto& x : cfg.links) known += (known.empty() ? "" : ", ") + x.id;
        throw Usage("no link \"" + id + "\" in " + cfg.file + " (links: " + known + ")");
    }
    return *l;
}

std::string where(const LinkConfig& l) {
    if (l.type == LinkType::tcp) return "tcp " + l.host + ":" + std::to_string(l.port);
    return "rtu " + l.device + " at " + std::to_string(l.baud) + " baud";
}

const char* unit_of(Reg r) {
    switch (r) {
        case Reg::p_l1:
        case Reg::p_l2:
        case Reg::p_l3:
        case Reg::p_total:
            return "W";
        case Reg::q_l1:
        case Reg::q_l2:
        case Reg::q_l3:
        case Reg::q_total:
            return "var";
        case Reg::e_import:
        case Reg::e_export:
            return "Wh";
        case Reg::eq_import:
        case Reg::eq_export:
            return "varh";
        default:
            return "V";
    }
}

std::string fixed(double v, int decimals) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string words_hex(const std::vector<std::uint16_t>& w) {
    std::string out;
    char buf[8];
    for (auto x : w) {
        std::snprintf(buf, sizeof buf, "%04X", x);
        out += (out.empty() ? "0x" : " ") + std::string(buf);
    }
    return out.empty() ? "-" : out;
}

std::string direction(double w) {
    return w >= 1 ? "import from the grid" : w <= -1 ? "export to the grid" : "no power flow";
}

/// A meter to read without a [[meter]] section: the profile's map (or a configured meter's,
/// custom maps included) on a link and unit.
MeterConfig ad_hoc(const Config& cfg, const std::string& link, int unit, const std::string& p) {
    MeterConfig m;
    m.link = link;
    m.unit_id = unit;
    m.profile = p;
    if (const MeterProfile* prof = find_profile(p)) {
        m.registers = prof->map;
    } else if (auto ean = Ean18::parse(p); ean && cfg.find_meter(*ean)) {
        m.registers = cfg.find_meter(*ean)->registers;
        m.profile = cfg.find_meter(*ean)->profile + " (map of meter " + p + ")";
    } else {
        std::string names;
        for (const auto& x : builtin_profiles())
            names += (names.empty() ? "" : ", ") + std::string(x.name);
        throw Usage("--profile: \"" + p + "\" is neither a built-in profile (" + names +
                    ") nor a meter EAN of " + cfg.file);
    }
    m.voltage = m.registers.has_phase_to_neutral() ? VoltageMode::phase_to_neutral
                                                   : VoltageMode::phase_to_phase;
    return m;
}

void print_read(const MeterConfig& m, const LinkConfig& l, const OneRead& r) {
    std::cout << "unit " << m.unit_id << " on link " << l.id << " (" << where(l) << "), profile "
              << m.profile << "\n";
    std::printf("%-10s %-8s %6s  %-8s %-20s %16s  %s\n", "register", "function", "addr", "type",
                "raw words", "decoded", "unit");
    for (const auto& v : r.registers) {
        std::printf("%-10s %-8s %6u  %-8s %-20s %16s  %s%s\n", std::string(reg_name(v.reg)).c_str(),
                    v.spec.function == RegFunction::holding ? "holding" : "input",
                    static_cast<unsigned>(v.spec.address),
                    std::string(data_type_name(v.spec.type)).c_str(), words_hex(v.words).c_str(),
                    v.value ? fixed(*v.value, 3).c_str() : "-", unit_of(v.reg),
                    v.problem.empty() ? "" : ("  (" + v.problem + ")").c_str());
    }
    if (r.error) std::cout << "read error: " << r.error->message << "\n";
    std::cout << "as the gateway takes it (ct_ratio " << fixed(m.ct_ratio, 2) << ", vt_ratio "
              << fixed(m.vt_ratio, 2) << ", sign "
              << (m.sign == SignConvention::import_positive ? "import_positive" : "export_positive")
              << "):\n";
    if (!r.sample) {
        std::cout << "  no valid sample: " << (r.sample_error ? r.sample_error->message : "")
                  << "\n";
        return;
    }
    const Sample& s = *r.sample;
    std::cout << "  P " << fixed(s.p_w / 1000, 3) << " kW (" << direction(s.p_w) << ")\n"
              << "  Q " << fixed(s.q_var / 1000, 3) << " kVAr\n"
              << "  U " << fixed(s.u_v[0], 1) << " / " << fixed(s.u_v[1], 1) << " / "
              << fixed(s.u_v[2], 1) << " V\n";
    auto energy = [](const char* what, const std::optional<double>& v, const char* u) {
        if (v) std::cout << "  " << what << " " << fixed(*v / 1000, 3) << " " << u << "\n";
    };
    energy("energy import", s.e_import_wh, "kWh");
    energy("energy export", s.e_export_wh, "kWh");
    energy("reactive import", s.eq_import_varh, "kVArh");
    energy("reactive export", s.eq_export_varh, "kVArh");
}

}  // namespace

int read_cmd(const Config& cfg, const std::vector<std::string>& args) {
    auto o = options(args, {"--meter", "--link", "--unit", "--profile"});
    MeterConfig m;
    if (o.count("--meter")) {
        if (o.count("--link") || o.count("--unit") || o.count("--profile"))
            throw Usage("read takes --meter EAN, or --link ID --unit N --profile P, not both");
        auto ean = Ean18::parse(o["--meter"]);
        if (!ean) throw Usage("--meter: " + ean.error().message);
        const MeterConfig* found = cfg.find_meter(*ean);
        if (found == nullptr) throw Usage("--meter: " + o["--meter"] + " is not in " + cfg.file);
        m = *found;
    } else if (o.count("--link") && o.count("--unit") && o.count("--profile")) {
        m = ad_hoc(cfg, o["--link"], static_cast<int>(number(o["--unit"], "--unit", 0, 247)),
                   o["--profile"]);
    } else {
        throw Usage("read needs --meter EAN, or --link ID --unit N --profile P");
    }
    const LinkConfig& l = link_of(cfg, m.link);
    auto link = make_register_reader(l);
    const SystemClock clock;
    const OneRead r = read_once(*link, m, clock.utc_now(), clock.steady_now());
    link->close();
    if (r.error && r.error->message.find("in use by another process") != std::string::npos) {
        std::cerr << "gatewayctl: " << r.error->message << "\n";
        return 2;
    }
    print_read(m, l, r);
    return r.sample ? 0 : 1;
}

int scan_cmd(const Config& cfg, const std::vector<std::string>& args) {
    auto o = options(args, {"--link", "--units", "--timeout-ms"});
    if (!o.count("--link")) throw Usage("scan needs --link ID");
    LinkConfig l = link_of(cfg, o["--link"]);
    int lo = 1, hi = 247;
    if (o.count("--units")) {
        const std::string& u = o["--units"];
        const auto dash = u.find('-');
        lo = static_cast<int>(number(u.substr(0, dash), "--units", 1, 247));
        hi = dash == std::string::npos
                 ? lo
                 : static_cast<int>(number(u.substr(dash + 1), "--units", 1, 247));
        if (hi < lo) throw Usage("--units: expected FROM-TO with FROM <= TO, got \"" + u + "\"");
    }
    if (o.count("--timeout-ms"))
        l.response_timeout_ms =
            static_cast<int>(number(o["--timeout-ms"], "--timeout-ms", 10, 60000));
    l.retries = 0;  // a silent unit costs one timeout
    const int units = hi - lo + 1;
    const double per_silent_s = (l.response_timeout_ms + l.request_delay_ms) / 1000.0;
    // A frame of about 8 request and 13 reply bytes, 11 bits each on a serial line.
    const double frame_ms = l.type == LinkType::rtu ? 21.0 * 11 * 1000 / l.baud : 1.0;
    std::cerr << "scanning unit ids " << lo << "-" << hi << " on link " << l.id << " (" << where(l)
              << "): at most " << fixed(units * per_silent_s, 1) << " s if none answers ("
              << l.response_timeout_ms
              << " ms timeout per silent unit); a unit that answers takes about "
              << fixed(frame_ms * 25, 0) << " ms more while its profile is found\n";
    auto link = make_register_reader(l);
    const SystemClock clock;
    const auto started = clock.steady_now();
    int found = 0;
    for (int unit = lo; unit <= hi; ++unit) {
        const Probe p = probe_unit(*link, unit, clock.steady_now());
        if (!p.answered) {
            // A link that cannot be opened at all (the gateway holds the line) ends the scan.
            if (p.detail.find("in use by another process") != std::string::npos ||
                p.detail.find("cannot connect") != std::string::npos) {
                std::cerr << "gatewayctl: " << p.detail << "\n";
                return 2;
            }
            continue;
        }
        ++found;
        std::cout << "unit " << unit << " " << (p.profile.empty() ? "unknown" : p.profile) << "\n";
        if (!p.how.empty()) std::cerr << "  unit " << unit << ": " << p.how << "\n";
    }
    link->close();
    const auto took = duration_cast<milliseconds>(clock.steady_now() - started).count();
    std::cerr << found << " unit(s) answered; the scan took "
              << fixed(static_cast<double>(took) / 1000.0, 1) << " s\n";
    return found > 0 ? 0 : 1;
}

int check_cmd(const Config& cfg, const std::vector<std::string>& args) {
    options(args, {});
    const SystemClock clock;
    std::vector<MeterReading> readings;
    std::map<std::string, std::unique_ptr<RegisterReader>> links;
    for (const auto& m : cfg.meters) {
        auto& link = links[m.link];
        if (!link) link = make_register_reader(link_of(cfg, m.link));
        const OneRead r = read_once(*link, m, clock.utc_now(), clock.steady_now());
        if (r.error && r.error->message.find("in use by another process") != std::string::npos) {
            std::cerr << "gatewayctl: " << r.error->message << "\n";
            return 2;
        }
        MeterReading mr{&m};
        mr.sample = r.sample;
        mr.link = r.sample ? LinkState::ok : LinkState::down;
        if (r.sample_error) mr.last_error = r.sample_error->message;
        if (r.sample)
            std::cout << "meter " << m.meter_ean.str() << " (" << meter_type_name(m.type) << "): P "
                      << fixed(r.sample->p_w / 1000, 3) << " kW (" << direction(r.sample->p_w)
                      << ")\n";
        readings.push_back(std::move(mr));
    }
    for (auto& [id, link] : links) link->close();
    const auto problems = check_site(readings);
    for (const auto& p : problems) std::cout << p.kind << ": " << p.message << "\n";
    if (problems.empty())
        std::cout << "ok: every meter answers, and every sign setting agrees with what the site "
                     "does\n";
    return problems.empty() ? 0 : 1;
}

}  // namespace gw::field
