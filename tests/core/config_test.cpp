// Configuration parsing: every error class gives file, line, key path and what was expected.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "gw/core/config.hpp"
#include "gw/drivers/profile.hpp"
#include "temp_dir.hpp"

namespace {

const char* const k_valid = R"toml(
[gateway]
id = "site-0001"
interval_s = 300
log_level = "info"
trust_clock = false

[storage]
path = "/tmp/gw.db"
retention_days = 31

[api]
listen = "0.0.0.0:8443"
tls_cert = "/etc/gw/server.crt"
tls_key = "/etc/gw/server.key"

[mqtt]
enabled = true
uri = "ssl://broker.example.net:8883"
username = "site-0001"
password_file = "/etc/gw/mqtt.secret"
ca_file = "/etc/gw/ca.crt"

[[customer]]
klant_ean = "871685900000000011"
name = "Zonnepark De Hoeve"

[[link]]
id = "rs485-1"
type = "rtu"
device = "/dev/ttyUSB0"
baud = 19200
parity = "E"

[[link]]
id = "lan"
type = "tcp"
host = "192.0.2.20"
port = 502

[[meter]]
meter_ean = "871685900000000028"
klant_ean = "871685900000000011"
meter_type = "bruto_productie"
link = "rs485-1"
unit_id = 1
profile = "eastron-sdm630"

[[meter]]
meter_ean = "871685900000000035"
klant_ean = "871685900000000011"
meter_type = "overdrachtspunt"
link = "lan"
unit_id = 1
profile = "custom"
sign = "export_positive"
ct_ratio = 40
[meter.registers]
p_total  = { address = 0,  type = "float32", function = "input", word_order = "big", scale = 1.0 }
q_total  = { address = 2,  type = "float32", function = "input" }
u_l1n    = { address = 4,  type = "float32", function = "input" }
u_l2n    = { address = 6,  type = "float32", function = "input" }
u_l3n    = { address = 8,  type = "float32", function = "input" }
e_import = { address = 10, type = "uint32", function = "holding", scale_pow10 = -1 }
)toml";

const gw::RegisterMap* lookup(std::string_view name) {
    const gw::MeterProfile* p = gw::find_profile(name);
    return p ? &p->map : nullptr;
}

gw::ConfigResult parse(const std::string& text) {
    return gw::parse_config(text, "test.toml", lookup);
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    const auto pos = text.find(from);
    REQUIRE_MESSAGE(pos != std::string::npos, from);
    return text.replace(pos, from.size(), to);
}

/// The single error of `text`, as "file:line:col: key: message".
std::string only_error(const std::string& text) {
    auto r = parse(text);
    CHECK_FALSE(r.config.has_value());
    REQUIRE(r.errors.size() == 1);
    return r.errors[0].str();
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("the valid example parses into typed structures") {
    auto r = parse(k_valid);
    for (const auto& e : r.errors) MESSAGE(e.str());
    REQUIRE(r.config.has_value());
    const gw::Config& c = *r.config;
    CHECK(c.gateway.id == "site-0001");
    CHECK(c.gateway.interval_s == 300);
    CHECK(c.storage.retention_days == 31);
    CHECK(c.api.listen_host == "0.0.0.0");
    CHECK(c.api.listen_port == 8443);
    CHECK(c.api.rate_limit_per_minute == 60);
    CHECK(c.mqtt.enabled);
    CHECK(c.mqtt.client_id == "site-0001");  // defaults to the gateway id
    CHECK(c.mqtt.topic_prefix == "meters");
    REQUIRE(c.links.size() == 2);
    CHECK(c.links[0].type == gw::LinkType::rtu);
    CHECK(c.links[0].parity == 'E');
    CHECK(c.links[0].request_delay_ms == 0);                           // t3.5 is kept anyway
    CHECK(c.links[0].frame_gap() == std::chrono::microseconds{2005});  // 3.5 x 11 bits at 19200
    CHECK(c.links[1].frame_gap() == std::chrono::microseconds{0});
    CHECK(c.meters[0].max_read_gap == 32);  // RTU: the planner weighs holes against requests
    CHECK(c.meters[1].max_read_gap == 8);
    CHECK_FALSE(c.modbus_server.enabled);
    REQUIRE(c.meters.size() == 2);
    const gw::MeterConfig& m0 = c.meters[0];
    CHECK(m0.registers == gw::find_profile("eastron-sdm630")->map);
    CHECK(m0.voltage == gw::VoltageMode::phase_to_neutral);
    CHECK(m0.poll_ms == 1000);
    const gw::MeterConfig& m1 = c.meters[1];
    CHECK(m1.sign == gw::SignConvention::export_positive);
    CHECK(m1.ct_ratio == 40.0);
    REQUIRE(m1.registers.has(gw::Reg::e_import));
    CHECK(m1.registers[gw::Reg::e_import]->type == gw::DataType::uint32);
    CHECK(m1.registers[gw::Reg::e_import]->scale == doctest::Approx(0.1));
    CHECK(m1.registers[gw::Reg::p_total]->function == gw::RegFunction::input);
    CHECK_FALSE(m1.registers.has(gw::Reg::p_l1));
    CHECK(c.find_meter(m1.meter_ean) == &m1);
}

TEST_CASE("the shipped example and demo configurations are valid") {
    for (const char* file : {"gateway.example.toml"}) {
        CAPTURE(file);
        auto r = gw::load_config(std::string(GW_TEST_DATA) + "/../../config/" + file, lookup);
        for (const auto& e : r.errors) MESSAGE(e.str());
        CHECK(r.config.has_value());
    }
}

TEST_CASE("syntax errors name the line") {
    const std::string e = only_error("[gateway]\nid = \"x\"\ninterval_s = = 3\n");
    CHECK(contains(e, "test.toml:3:"));
    CHECK(contains(e, "TOML syntax error"));
}

TEST_CASE("a missing file is an error naming the file") {
    auto r = gw::load_config("/nonexistent/gateway.toml", lookup);
    REQUIRE(r.errors.size() == 1);
    CHECK(contains(r.errors[0].str(),
                   "/nonexistent/gateway.toml: cannot read the configuration file"));
}

TEST_CASE("unknown keys are errors, with the nearest known key suggested") {
    const std::string e = only_error(replace(k_valid, "unit_id = 1\nprofile = \"eastron",
                                             "unit_id = 1\npol_ms = 5\nprofile = \"eastron"));
    CHECK(contains(e, "meter[0].pol_ms: unknown key (did you mean \"poll_ms\"?)"));
    CHECK(contains(only_error(std::string(k_valid) + "\n[extra]\nx = 1\n"), "extra: unknown key"));
    CHECK(contains(
        only_error(replace(k_valid, "retention_days = 31", "retention_days = 31\nretension = 2")),
        "storage.retension: unknown key"));
}

TEST_CASE("missing sections and keys say what was expected") {
    CHECK(contains(
        only_error(replace(k_valid, "[storage]\npath = \"/tmp/gw.db\"\nretention_days = 31\n", "")),
        "storage: missing; expected a [storage] section"));
    CHECK(contains(only_error(replace(k_valid, "id = \"site-0001\"\n", "")),
                   "gateway.id: missing; expected"));
    CHECK(contains(only_error(replace(k_valid, "host = \"192.0.2.20\"\n", "")),
                   "link[1].host: missing; expected a host name or IP address"));
    CHECK(contains(
        only_error(replace(k_valid, "meter_type = \"overdrachtspunt\"\n", "")),
        "meter[1].meter_type: missing; expected one of bruto_productie | overdrachtspunt"));
}

TEST_CASE("wrong types and out-of-range values") {
    CHECK(contains(only_error(replace(k_valid, "retention_days = 31", "retention_days = \"31\"")),
                   "storage.retention_days: expected an integer from 31 to 3650, got a string"));
    CHECK(contains(only_error(replace(k_valid, "retention_days = 31", "retention_days = 7")),
                   "expected an integer from 31 to 3650, got 7"));
    CHECK(contains(only_error(replace(k_valid, "interval_s = 300", "interval_s = 7")),
                   "gateway.interval_s: expected a whole number of seconds that divides 3600"));
    CHECK(contains(only_error(replace(k_valid, "trust_clock = false", "trust_clock = \"no\"")),
                   "gateway.trust_clock: expected true or false"));
    CHECK(contains(only_error(replace(k_valid, "ct_ratio = 40", "ct_ratio = 0")),
                   "meter[1].ct_ratio: expected a number greater than 0"));
    CHECK(contains(only_error(replace(k_valid, "ct_ratio = 40", "ct_ratio = -2.5")),
                   "meter[1].ct_ratio"));
    CHECK(contains(only_error(replace(k_valid, "port = 502", "port = 70000")),
                   "link[1].port: expected an integer from 1 to 65535"));
    CHECK(contains(only_error(replace(k_valid, "baud = 19200", "baud = 19201")),
                   "link[0].baud: expected one of 1200"));
    CHECK(contains(only_error(replace(k_valid, "listen = \"0.0.0.0:8443\"", "listen = \"8443\"")),
                   "api.listen: expected host:port"));
    CHECK(contains(only_error(replace(k_valid, "link = \"rs485-1\"\nunit_id = 1",
                                      "link = \"rs485-1\"\nunit_id = 0")),
                   "meter[0].unit_id: expected an integer from 1 to 247"));
}

TEST_CASE("rtu_over_tcp links: host and port, RTU timing, unit ids 1..247") {
    const std::string text = replace(k_valid, "type = \"tcp\"\nhost = \"192.0.2.20\"",
                                     "type = \"rtu_over_tcp\"\nhost = \"192.0.2.20\"\n"
                                     "baud = 9600\ninter_frame_delay_ms = 10");
    auto r = parse(text);
    REQUIRE_MESSAGE(r.config, (r.errors.empty() ? "" : r.errors[0].str()));
    const gw::LinkConfig& l = r.config->links[1];
    CHECK(l.type == gw::LinkType::rtu_over_tcp);
    CHECK(l.host == "192.0.2.20");
    CHECK(l.baud == 9600);
    CHECK(l.frame_gap() == std::chrono::microseconds{4010 + 10000});
    CHECK(contains(only_error(replace(text, "baud = 9600", "baud = 9600\ndevice = \"/dev/x\"")),
                   "link[1].device: only allowed for type = \"rtu\""));
    CHECK(contains(only_error(replace(k_valid, "type = \"tcp\"\nhost = \"192.0.2.20\"",
                                      "type = \"tcp\"\nhost = \"192.0.2.20\"\n"
                                      "inter_frame_delay_ms = 5")),
                   "link[1].inter_frame_delay_ms: only allowed for type = \"rtu\" or"));
    CHECK(contains(
        only_error(replace(text, "inter_frame_delay_ms = 10", "inter_frame_delay_ms = -1")),
        "link[1].inter_frame_delay_ms: expected an integer from 0 to 1000"));
    CHECK(contains(
        only_error(replace(text, "link = \"lan\"\nunit_id = 1", "link = \"lan\"\nunit_id = 0")),
        "meter[1].unit_id: expected an integer from 1 to 247"));
}

TEST_CASE("[modbus_server]: units name configured meters, once each") {
    const std::string server = R"(
[modbus_server]
listen = "127.0.0.1:1502"
max_connections = 4
[[modbus_server.unit]]
unit_id = 1
meter = "871685900000000035"
passthrough = true
writable = [[40100, 40109], [40200, 40200]]
[[modbus_server.unit]]
unit_id = 2
meter = "871685900000000028"
)";
    auto r = parse(std::string(k_valid) + server);
    REQUIRE_MESSAGE(r.config, (r.errors.empty() ? "" : r.errors[0].str()));
    const gw::ModbusServerConfig& ms = r.config->modbus_server;
    CHECK(ms.enabled);
    CHECK(ms.listen_port == 1502);
    CHECK(ms.max_connections == 4);
    CHECK(ms.max_connections_per_address == 4);
    REQUIRE(ms.units.size() == 2);
    CHECK(ms.units[0].passthrough);
    REQUIRE(ms.units[0].writable.size() == 2);
    CHECK(ms.units[0].writable[1] == std::pair<std::uint16_t, std::uint16_t>{40200, 40200});
    CHECK(ms.units[1].writable.empty());
    CHECK_FALSE(ms.units[1].passthrough);
    CHECK(ms.units[1].meter.to_string() == "871685900000000028");
    auto bad = [&](const std::string& from, const std::string& to) {
        return only_error(std::string(k_valid) + replace(server, from, to));
    };
    CHECK(contains(bad("unit_id = 2", "unit_id = 1"),
                   "modbus_server.unit[1].unit_id: 1 is already used by another unit"));
    CHECK(contains(bad("871685900000000028", "871685900000000035"),
                   "modbus_server.unit[1].meter: 871685900000000035 is already served"));
    CHECK(contains(bad("871685900000000028", "871685900000000042"),
                   "modbus_server.unit[1].meter: no [[meter]] with meter_ean"));
    CHECK(contains(bad("unit_id = 2", "unit_id = 248"),
                   "modbus_server.unit[1].unit_id: expected an integer from 1 to 247"));
    CHECK(contains(bad("listen = \"127.0.0.1:1502\"", "listen = \"1502\""),
                   "modbus_server.listen: expected host:port"));
    CHECK(
        contains(bad("max_connections = 4", "max_connections = 4\nmax_connections_per_address = 5"),
                 "must not be larger than max_connections"));
    CHECK(contains(bad("[40200, 40200]", "[40200, 40100]"),
                   "modbus_server.unit[0].writable: expected a list of [first, last]"));
    CHECK(contains(bad("[40200, 40200]", "[40200]"), "modbus_server.unit[0].writable"));
    CHECK(contains(bad("passthrough = true", "passthrough = 1"),
                   "modbus_server.unit[0].passthrough: expected true or false"));
    CHECK(contains(
        only_error(std::string(k_valid) + "[modbus_server]\nlisten = \"127.0.0.1:1502\"\n"),
        "modbus_server.unit: missing; expected at least one [[modbus_server.unit]]"));
}

TEST_CASE("metrics_listen: a loopback address only, as it serves without login") {
    const std::string api = "listen = \"0.0.0.0:8443\"";
    auto with = [&](const std::string& value) {
        return replace(k_valid, api, api + "\nmetrics_listen = \"" + value + "\"");
    };
    for (const char* good : {"127.0.0.1:9464", "[::1]:9464", "localhost:9464"}) {
        CAPTURE(good);
        auto res = parse(with(good));
        REQUIRE(res.config.has_value());
        CHECK(res.config->api.metrics_port == 9464);
    }
    CHECK(contains(only_error(with("0.0.0.0:9464")),
                   "api.metrics_listen: serves metrics without login, so it takes a loopback "
                   "address only"));
    CHECK(contains(only_error(with("192.168.1.5:9464")), "loopback address only"));
    CHECK(contains(only_error(with("127.0.0.1:0")), "api.metrics_listen: expected host:port"));
    CHECK(contains(only_error(with("9464")), "api.metrics_listen: expected host:port"));
    auto none = parse(k_valid);
    REQUIRE(none.config.has_value());
    CHECK(none.config->api.metrics_port == 0);
}

TEST_CASE("unit id 0 is allowed on TCP") {
    auto r = parse(
        replace(k_valid, "unit_id = 1\nprofile = \"custom\"", "unit_id = 0\nprofile = \"custom\""));
    CHECK(r.config.has_value());
}

TEST_CASE("enumerations list their choices") {
    CHECK(contains(
        only_error(replace(k_valid, "sign = \"export_positive\"", "sign = \"export\"")),
        "meter[1].sign: expected one of import_positive | export_positive, got \"export\""));
    CHECK(contains(only_error(replace(k_valid, "log_level = \"info\"", "log_level = \"verbose\"")),
                   "gateway.log_level: expected one of error | warn | info | debug"));
    CHECK(contains(only_error(replace(k_valid, "parity = \"E\"", "parity = \"even\"")),
                   "link[0].parity: expected one of N | E | O"));
}

TEST_CASE("EANs are checked") {
    CHECK(contains(only_error(replace(k_valid, "meter_ean = \"871685900000000028\"",
                                      "meter_ean = \"871685900000000029\"")),
                   "meter[0].meter_ean: \"871685900000000029\" is not a valid EAN-18: check digit "
                   "is 9, expected 8"));
    CHECK(contains(
        only_error(replace(k_valid, "name = \"Zonnepark De Hoeve\"",
                           "name = \"Zonnepark De Hoeve\"\n[[customer]]\nklant_ean = \"8716\"")),
        "customer[1].klant_ean: \"8716\" is not a valid EAN-18: must be 18 digits"));
}

TEST_CASE("duplicates and dangling references") {
    auto dup_link = parse(replace(k_valid, "id = \"lan\"", "id = \"rs485-1\""));
    REQUIRE(dup_link.errors.size() == 2);
    CHECK(contains(dup_link.errors[0].str(), "link[1].id: \"rs485-1\" is already used by link[0]"));
    CHECK(contains(dup_link.errors[1].str(),
                   "meter[1].link: no [[link]] with id = \"lan\""));  // "lan" is gone now
    auto r = parse(replace(k_valid, "meter_ean = \"871685900000000035\"",
                           "meter_ean = \"871685900000000028\""));
    REQUIRE(r.errors.size() == 1);
    CHECK(contains(r.errors[0].str(),
                   "meter[1].meter_ean: \"871685900000000028\" is already used by meter[0]"));
    CHECK(contains(only_error(replace(k_valid, "link = \"lan\"", "link = \"lan2\"")),
                   "meter[1].link: no [[link]] with id = \"lan2\" is configured"));
    CHECK(contains(
        only_error(replace(k_valid,
                           "klant_ean = \"871685900000000011\"\nmeter_type = \"overdrachtspunt\"",
                           "klant_ean = \"871685900000000042\"\nmeter_type = \"overdrachtspunt\"")),
        "meter[1].klant_ean: no [[customer]] with klant_ean = \"871685900000000042\""));
    CHECK(contains(only_error(replace(k_valid, "link = \"lan\"\nunit_id = 1",
                                      "link = \"rs485-1\"\nunit_id = 1")),
                   "meter[1].unit_id: \"rs485-1/1\" is already used by meter[0]"));
}

TEST_CASE("keys that belong to the other link type") {
    CHECK(contains(only_error(replace(k_valid, "port = 502", "port = 502\nbaud = 9600")),
                   "link[1].baud: only allowed for type = \"rtu\""));
    CHECK(contains(only_error(replace(k_valid, "parity = \"E\"", "parity = \"E\"\nhost = \"x\"")),
                   "link[0].host: only allowed for type = \"tcp\""));
}

TEST_CASE("profiles and custom register maps") {
    CHECK(contains(only_error(replace(k_valid, "profile = \"eastron-sdm630\"",
                                      "profile = \"eastron-sdm999\"")),
                   "meter[0].profile: unknown profile \"eastron-sdm999\""));
    CHECK(contains(
        only_error(replace(k_valid,
                           "p_total  = { address = 0,  type = \"float32\", function = \"input\", "
                           "word_order = \"big\", scale = 1.0 }\n",
                           "")),
        "meter[1].registers.p_total: missing; expected p_total or all of p_l1, p_l2, p_l3"));
    CHECK(contains(
        only_error(
            replace(k_valid,
                    "u_l3n    = { address = 8,  type = \"float32\", function = \"input\" }\n", "")),
        "meter[1].registers.u_l1n: missing"));
    CHECK(contains(only_error(replace(k_valid, "type = \"uint32\"", "type = \"uint33\"")),
                   "meter[1].registers.e_import.type: expected one of int16 uint16"));
    CHECK(contains(only_error(replace(k_valid, "function = \"holding\"", "function = \"coil\"")),
                   "meter[1].registers.e_import.function: expected one of holding | input"));
    CHECK(contains(only_error(replace(k_valid, "e_import = {", "p_totl = {")),
                   "meter[1].registers.p_totl: unknown register name"));
    CHECK(
        contains(only_error(replace(k_valid, "scale_pow10 = -1", "scale_pow10 = -1, scale = 0.1")),
                 "give either scale or scale_pow10, not both"));
    CHECK(contains(only_error(replace(k_valid, "address = 10,", "address = 65535,")),
                   "the value runs past register 65535"));
    auto typo = parse(replace(k_valid, "address = 10,", "adress = 10,"));
    REQUIRE(typo.errors.size() == 2);
    CHECK(contains(typo.errors[0].str(),
                   "registers.e_import.address: missing; expected an integer from 0 to 65535"));
    CHECK(contains(typo.errors[1].str(),
                   "registers.e_import.adress: unknown key (did you mean \"address\"?)"));
    CHECK(contains(only_error(replace(k_valid, "profile = \"eastron-sdm630\"",
                                      "profile = \"eastron-sdm630\"\n[meter.registers]\np_total = "
                                      "{ address = 0, type = \"float32\" }")),
                   "meter[0].registers: only allowed with profile = \"custom\""));
    // Without the [meter.registers] header the entries land in [[meter]] itself: each is unknown
    // there.
    auto r = parse(replace(k_valid, "[meter.registers]\n", ""));
    CHECK(r.errors.size() == 7);
    CHECK(std::any_of(r.errors.begin(), r.errors.end(), [](const gw::Diagnostic& d) {
        return d.key == "meter[1].p_total" && contains(d.message, "unknown key");
    }));
}

TEST_CASE("voltage mode and averaging method must be possible with the meter's registers") {
    CHECK(contains(only_error(replace(k_valid, "ct_ratio = 40",
                                      "ct_ratio = 40\nvoltage = \"phase_to_phase\"")),
                   "meter[1].voltage: profile \"custom\" has no phase_to_phase voltage registers"));
    CHECK(contains(
        only_error(replace(k_valid, "ct_ratio = 40", "ct_ratio = 40\nmethod = \"energy\"")),
        "meter[1].method: \"energy\" needs both e_import and e_export registers"));
    auto ok = parse(
        replace(k_valid, "profile = \"eastron-sdm630\"",
                "profile = \"eastron-sdm630\"\nmethod = \"energy\"\nvoltage = \"phase_to_phase\""));
    REQUIRE(ok.config.has_value());
    CHECK(ok.config->meters[0].method == gw::AveragingMethod::energy);
}

TEST_CASE("a meter without phase-to-neutral registers defaults to phase-to-phase") {
    std::string text = replace(k_valid, "u_l1n    = { address = 4,", "u_l12 = { address = 4,");
    text = replace(text, "u_l2n    = { address = 6,", "u_l23 = { address = 6,");
    text = replace(text, "u_l3n    = { address = 8,", "u_l31 = { address = 8,");
    auto r = parse(text);
    for (const auto& e : r.errors) MESSAGE(e.str());
    REQUIRE(r.config.has_value());
    CHECK(r.config->meters[1].voltage == gw::VoltageMode::phase_to_phase);
    CHECK(r.config->meters[0].voltage == gw::VoltageMode::phase_to_neutral);
}

TEST_CASE("MQTT settings") {
    CHECK(contains(only_error(replace(k_valid, "uri = \"ssl://broker.example.net:8883\"",
                                      "uri = \"http://broker:80\"")),
                   "mqtt.uri: expected tcp://host:port or ssl://host:port"));
    CHECK(contains(only_error(replace(k_valid, "username = \"site-0001\"\n", "")),
                   "mqtt.password_file: a password needs a username"));
    CHECK(contains(only_error(replace(k_valid, "ca_file = \"/etc/gw/ca.crt\"",
                                      "ca_file = \"/etc/gw/ca.crt\"\ncert_file = \"/c\"")),
                   "mqtt.key_file: missing; expected a client certificate needs both"));
    CHECK(contains(
        only_error(replace(k_valid, "uri = \"ssl://", "topic_prefix = \"a/#\"\nuri = \"ssl://")),
        "mqtt.topic_prefix"));
    // disabled: no other key is needed
    auto r =
        parse(replace(replace(replace(replace(replace(k_valid, "enabled = true", "enabled = false"),
                                              "uri = \"ssl://broker.example.net:8883\"\n", ""),
                                      "username = \"site-0001\"\n", ""),
                              "password_file = \"/etc/gw/mqtt.secret\"\n", ""),
                      "ca_file = \"/etc/gw/ca.crt\"\n", ""));
    REQUIRE(r.config.has_value());
    CHECK_FALSE(r.config->mqtt.enabled);
    // and with the whole section absent MQTT is off
    auto absent = parse(replace(k_valid, "[mqtt]\nenabled = true\n", "[mqttx]\nenabled = true\n"));
    CHECK_FALSE(absent.config.has_value());  // unknown section [mqttx], and its keys are not ours
}

TEST_CASE("poll period must fit the interval") {
    CHECK(contains(only_error(replace(replace(k_valid, "interval_s = 300", "interval_s = 10"),
                                      "profile = \"eastron-sdm630\"",
                                      "profile = \"eastron-sdm630\"\npoll_ms = 20000")),
                   "meter[0].poll_ms: must not be longer than gateway.interval_s"));
}

TEST_CASE("all errors are reported at once, in file order") {
    std::string text = replace(k_valid, "interval_s = 300", "interval_s = 301");
    text = replace(text, "port = 502", "port = -1");
    text = replace(text, "sign = \"export_positive\"", "sign = 1");
    text = replace(text, "type = \"uint32\"", "type = \"u32\"");
    auto r = parse(text);
    CHECK_FALSE(r.config.has_value());
    for (const auto& e : r.errors) MESSAGE(e.str());
    REQUIRE(r.errors.size() == 4);
    CHECK(contains(r.errors[0].key, "gateway.interval_s"));
    CHECK(contains(r.errors[1].key, "link[1].port"));
    CHECK(contains(r.errors[2].key, "meter[1].sign"));
    CHECK(contains(r.errors[3].key, "meter[1].registers.e_import.type"));
    CHECK(std::is_sorted(
        r.errors.begin(), r.errors.end(),
        [](const gw::Diagnostic& a, const gw::Diagnostic& b) { return a.line < b.line; }));
    for (const auto& e : r.errors) CHECK(e.line > 0);
}

TEST_CASE("referenced files that are missing are reported") {
    gw::test::TempDir dir;
    gw::test::write_file(dir.file("server.crt"), "x");
    std::string text = replace(k_valid, "/etc/gw/server.crt", dir.file("server.crt"));
    auto r = parse(text);
    REQUIRE(r.config.has_value());
    auto missing = gw::check_referenced_files(*r.config);
    std::vector<std::string> keys;
    for (const auto& d : missing) keys.push_back(d.key);
    CHECK(keys == std::vector<std::string>{"api.tls_key", "mqtt.password_file", "mqtt.ca_file",
                                           "link[0].device"});
    CHECK(contains(missing[0].str(), "\"/etc/gw/server.key\" does not exist"));
}

TEST_CASE("the head-end's configuration: the example parses, and each mistake is named") {
    std::ifstream in(GW_TEST_DATA "/../../config/headend.example.toml");
    std::stringstream text;
    text << in.rdbuf();
    auto ok = gw::parse_headend_config(text.str(), "headend.example.toml");
    for (const auto& e : ok.errors) INFO(e.str());
    REQUIRE(ok.config.has_value());
    CHECK(ok.config->id == "headend-1");
    CHECK(ok.config->backfill_after_s == 900);
    CHECK(ok.config->retention_days == 400);
    CHECK(ok.config->shared_group == "headend");
    CHECK(ok.config->session_expiry_s == 300);
    CHECK(ok.config->mqtt.client_id == "headend-1");
    CHECK(ok.config->api.listen_port == 8443);

    const std::string base =
        "[headend]\nid = \"he\"\n[postgres]\nconninfo = \"dbname=m\"\n[api]\nlisten = "
        "\"127.0.0.1:0\"\ntls_cert = \"c\"\ntls_key = \"k\"\n[mqtt]\nuri = "
        "\"tcp://127.0.0.1:1883\"\n";
    CHECK(gw::parse_headend_config(base, "t").config.has_value());
    const std::pair<std::string, std::string> bad[] = {
        {"[headend]\nid = \"he\"\n", "postgres: missing"},
        {base + "enabled = false\n", "the head-end cannot run without MQTT"},
        {base + "shared_group = \"a/b\"\n", "mqtt.shared_group"},
        {base + "session_expiry_s = -1\n", "mqtt.session_expiry_s"},
        {base + "shared_grup = \"x\"\n", "did you mean \"shared_group\""},
        {base + "[storage]\npath = \"x\"\n", "storage: unknown key"},
    };
    for (const auto& [toml, expect] : bad) {
        auto r = gw::parse_headend_config(toml, "t");
        INFO(toml);
        REQUIRE_FALSE(r.config.has_value());
        std::string all;
        for (const auto& e : r.errors) all += e.str() + "\n";
        CHECK_MESSAGE(all.find(expect) != std::string::npos, all);
    }
    auto retention = gw::parse_headend_config(
        "[headend]\nid = \"he\"\n[postgres]\nconninfo = \"x\"\nretention_days = 7\n" +
            base.substr(base.find("[api]")),
        "t");
    REQUIRE_FALSE(retention.config.has_value());
    CHECK(retention.errors.front().key == "postgres.retention_days");
}
