// The client and consent commands of gatewayctl and headendctl.
#include "gw/api/admin_cli.hpp"

#include <algorithm>
#include <cstdlib>

#include "gw/api/secret.hpp"
#include "gw/core/text.hpp"

namespace gw::cli {

using namespace std::chrono;

const char* const k_access_usage =
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
    "  consent list                          current consent and its history\n";

std::map<std::string, std::string> options(const std::vector<std::string>& args, std::size_t from,
                                           std::initializer_list<const char*> allowed) {
    std::map<std::string, std::string> out;
    for (std::size_t i = from; i < args.size(); i += 2) {
        const std::string& k = args[i];
        const bool ok =
            std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; });
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

Ean18 ean_arg(const std::string& text, const char* what) {
    auto e = Ean18::parse(text);
    if (!e)
        throw UsageError(std::string(what) + " \"" + text +
                         "\" is not a valid EAN-18: " + e.error().message);
    return *e;
}

int client_command(AccessAdmin& store, const std::vector<std::string>& a, SysS now,
                   std::ostream& out) {
    if (a.size() < 2) throw UsageError("client needs a subcommand: add, rotate, revoke or list");
    const std::string& sub = a[1];
    if (sub == "list") {
        options(a, 2, {});
        for (const auto& c : must(store.clients())) {
            const auto secrets = must(store.valid_secrets(c.name, now));
            out << c.name << "\trole=" << role_name(c.role)
                << "\tcreated=" << format_utc(c.created_at) << "\t"
                << (c.revoked_at ? "revoked=" + format_utc(*c.revoked_at) : "active")
                << "\tvalid_secrets=" << secrets.size();
            for (const auto& s : secrets)
                if (s.expires_at) out << " (one expires " << format_utc(*s.expires_at) << ")";
            out << "\n";
        }
        return 0;
    }
    if (a.size() < 3) throw UsageError("client " + sub + " needs a NAME");
    const std::string& name = a[2];
    if (!is_identifier(name, 64))
        throw UsageError("client name \"" + name +
                         "\": expected 1-64 letters, digits, '-', '_' or '.'");
    if (sub == "add") {
        auto o = options(a, 3, {"--role"});
        if (!o.count("--role")) throw UsageError("client add needs --role reader|installer|admin");
        const auto role = parse_role(o["--role"]);
        if (!role)
            throw UsageError("--role: expected reader, installer or admin, got \"" + o["--role"] +
                             "\"");
        const std::string secret = generate_secret();
        must(store.add_client(name, *role, hash_secret(secret), now));
        out << "created API client \"" << name << "\" (" << o["--role"]
            << "). Its secret follows; it is shown only this once:\n"
            << secret << "\n";
        return 0;
    }
    if (sub == "rotate") {
        auto o = options(a, 3, {"--overlap"});
        const seconds overlap =
            o.count("--overlap") ? parse_duration(o["--overlap"]) : hours{24 * 7};
        const std::string secret = generate_secret();
        must(store.rotate_secret(name, hash_secret(secret), now, now + overlap));
        out << "rotated the secret of \"" << name << "\"; the previous one stays valid until "
            << format_utc(now + overlap)
            << ". The new secret follows; it is shown only this once:\n"
            << secret << "\n";
        return 0;
    }
    if (sub == "revoke") {
        options(a, 3, {});
        must(store.revoke_client(name, now));
        out << "revoked API client \"" << name << "\"\n";
        return 0;
    }
    throw UsageError("unknown client subcommand \"" + sub + "\"");
}

int consent_command(AccessAdmin& store, const KnownCustomers& known,
                    const std::vector<std::string>& a, SysS now, std::ostream& out,
                    std::ostream& err) {
    if (a.size() < 2) throw UsageError("consent needs a subcommand: grant, revoke or list");
    const std::string& sub = a[1];
    if (sub == "list") {
        options(a, 2, {});
        out << "current:\n";
        for (const auto& [klant, name] : known.list)
            out << "  " << klant.str() << "\t"
                << (must(store.consent_active(klant)) ? "granted" : "none") << "\t" << name << "\n";
        out << "history:\n";
        for (const auto& e : must(store.consent_history(nullptr)))
            out << "  " << format_utc(e.at) << "\t" << e.klant_ean.str() << "\t"
                << (e.granted ? "grant" : "revoke") << "\tby " << e.actor << "\n";
        return 0;
    }
    if (sub != "grant" && sub != "revoke")
        throw UsageError("unknown consent subcommand \"" + sub + "\"");
    if (a.size() < 3) throw UsageError("consent " + sub + " needs a KLANT_EAN");
    const Ean18 klant = ean_arg(a[2], "KLANT_EAN");
    auto o = options(a, 3, {"--by"});
    const char* user = std::getenv("SUDO_USER") ? std::getenv("SUDO_USER") : std::getenv("USER");
    const std::string actor = o.count("--by") ? o["--by"] : (user ? user : "admin");
    const bool is_known = std::any_of(known.list.begin(), known.list.end(),
                                      [&](const auto& k) { return k.first == klant; });
    if (!is_known)
        err << "warning: " << klant.str() << " is not a customer in " << known.source << "\n";
    must(store.record_consent(klant, sub == "grant", now, actor));
    out << "consent " << (sub == "grant" ? "granted" : "revoked") << " for " << klant.str()
        << " by " << actor << "\n";
    return 0;
}

}  // namespace gw::cli
