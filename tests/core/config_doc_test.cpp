// The shipped example configuration against the configuration reference: every key the example
// shows (also the commented-out optional ones) is accepted by the parser and has a row in
// docs/configuration.md, in the section of its table.
#include <doctest/doctest.h>

#include <toml++/toml.h>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "gw/core/config.hpp"
#include "gw/drivers/profile.hpp"

namespace {

std::string read(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const std::string k_root = std::string(GW_TEST_DATA) + "/../..";

/// The example with its commented-out keys ("# cert_file = ...") and sections ("# [[link]]")
/// switched on.
std::string example_with_optional_keys() {
    static const std::regex commented(R"(^# ([a-z_]+ *= .*|\[\[?[a-z_.]+\]\]?.*)$)");
    std::istringstream in(read(k_root + "/config/gateway.example.toml"));
    std::string out;
    for (std::string line; std::getline(in, line);)
        out += std::regex_replace(line, commented, "$1") + "\n";
    return out;
}

/// The documented keys per section: "[gateway]", "[[meter]]", "[meter.limits]", ...; a row is
/// "| `key` | ...".
std::map<std::string, std::set<std::string>> documented_keys() {
    static const std::regex heading(R"(^#+ `(\[\[?[a-z_.]+\]\]?)`)");
    static const std::regex row(R"(^\| `([a-z_0-9]+)` \|)");
    std::map<std::string, std::set<std::string>> out;
    std::istringstream in(read(k_root + "/docs/configuration.md"));
    std::string section;
    std::smatch m;
    for (std::string line; std::getline(in, line);) {
        if (std::regex_search(line, m, heading))
            section = m[1];
        else if (!section.empty() && std::regex_search(line, m, row))
            out[section].insert(m[1]);
    }
    return out;
}

const gw::RegisterMap* lookup(std::string_view name) {
    const gw::MeterProfile* p = gw::find_profile(name);
    return p ? &p->map : nullptr;
}

}  // namespace

TEST_CASE("every key of the example configuration is accepted and documented") {
    const std::string text = example_with_optional_keys();
    REQUIRE(text.find("\ncert_file = ") != std::string::npos);  // the optional keys are switched on
    auto parsed = gw::parse_config(text, "gateway.example.toml", lookup);
    for (const auto& e : parsed.errors) MESSAGE(e.str());
    CHECK(parsed.config.has_value());

    const auto docs = documented_keys();
    REQUIRE(docs.size() >= 8);
    const std::set<std::string> register_names{
        "p_l1",  "p_l2",    "p_l3",     "p_total",  "q_l1",      "q_l2",
        "q_l3",  "q_total", "u_l1n",    "u_l2n",    "u_l3n",     "u_l12",
        "u_l23", "u_l31",   "e_import", "e_export", "eq_import", "eq_export"};
    const std::string registers_doc = read(k_root + "/docs/configuration.md");
    int checked = 0;
    std::map<std::string, std::set<std::string>> shown;
    auto check_keys = [&](const toml::table& t, const std::string& section) {
        for (const auto& [k, v] : t) {
            const std::string key(k.str());
            if (v.is_table() || v.is_array_of_tables()) continue;
            shown[section].insert(key);
            CAPTURE(section);
            CAPTURE(key);
            CHECK(docs.count(section) == 1);
            if (docs.count(section)) CHECK(docs.at(section).count(key) == 1);
            ++checked;
        }
    };
    const toml::table root = toml::parse(text);
    for (const auto& [name, node] : root) {
        const std::string n(name.str());
        if (const auto* t = node.as_table()) {
            check_keys(*t, "[" + n + "]");
            for (const auto& [sub, subnode] : *t)  // [[modbus_server.unit]] and the like
                if (const auto* arr = subnode.as_array())
                    for (const auto& item : *arr)
                        if (const auto* st = item.as_table())
                            check_keys(*st, "[[" + n + "." + std::string(sub.str()) + "]]");
        }
        if (const auto* arr = node.as_array()) {
            for (const auto& item : *arr) {
                const auto* t = item.as_table();
                REQUIRE(t != nullptr);
                check_keys(*t, "[[" + n + "]]");
                for (const auto& [sub, subnode] : *t) {
                    const std::string s(sub.str());
                    const auto* st = subnode.as_table();
                    if (st == nullptr) continue;
                    if (s != "registers") {
                        check_keys(*st, "[" + n + "." + s + "]");
                        continue;
                    }
                    // A custom map: register names (listed in the section's text), each an
                    // entry whose keys have rows.
                    for (const auto& [reg, entry] : *st) {
                        const std::string r(reg.str());
                        CHECK_MESSAGE(register_names.count(r) == 1, r);
                        const bool listed =
                            std::regex_search(registers_doc, std::regex("[ `\n]" + r + "[ `\n]"));
                        CHECK_MESSAGE(listed, r);
                        REQUIRE(entry.is_table());
                        check_keys(*entry.as_table(), "[meter.registers]");
                    }
                }
            }
        }
    }
    // And the other way: the example shows every documented key ("every key, with its default").
    for (const auto& [section, keys] : docs)
        for (const auto& key : keys) {
            CAPTURE(section);
            CHECK_MESSAGE(shown[section].count(key) == 1, key);
        }
    MESSAGE(checked, " keys of the example checked against docs/configuration.md");
    CHECK(checked > 60);
}
