// TOML configuration: parse into structs, validate everything, report every error with its line.
#include "gw/core/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <variant>

#include "gw/core/text.hpp"
#include "gw/core/time.hpp"

namespace gw {

std::string_view meter_type_name(MeterType t) {
    return t == MeterType::bruto_productie ? "bruto_productie" : "overdrachtspunt";
}

std::string_view link_type_name(LinkType t) {
    switch (t) {
        case LinkType::tcp:
            return "tcp";
        case LinkType::rtu:
            return "rtu";
        case LinkType::rtu_over_tcp:
            return "rtu_over_tcp";
    }
    return "tcp";
}

std::string_view voltage_mode_name(VoltageMode m) {
    return m == VoltageMode::phase_to_neutral ? "phase_to_neutral" : "phase_to_phase";
}

std::chrono::microseconds LinkConfig::frame_gap() const {
    using std::chrono::microseconds;
    using std::chrono::milliseconds;
    microseconds gap{0};
    if (rtu_framing()) {
        const microseconds t35 =
            baud > 19200 ? microseconds{1750} : microseconds{38'500'000LL / baud};
        gap = t35 + milliseconds{inter_frame_delay_ms};
    }
    return std::max<microseconds>(gap, milliseconds{request_delay_ms});
}

const LinkConfig* Config::find_link(std::string_view id) const {
    for (const auto& l : links)
        if (l.id == id) return &l;
    return nullptr;
}

const CustomerConfig* Config::find_customer(const Ean18& klant) const {
    for (const auto& c : customers)
        if (c.klant_ean == klant) return &c;
    return nullptr;
}

const MeterConfig* Config::find_meter(const Ean18& meter) const {
    for (const auto& m : meters)
        if (m.meter_ean == meter) return &m;
    return nullptr;
}

std::string Diagnostic::str() const {
    std::ostringstream os;
    os << file;
    if (line > 0) os << ':' << line << ':' << column;
    os << ": ";
    if (!key.empty()) os << key << ": ";
    os << message;
    return os.str();
}

namespace {

struct Ctx {
    std::string file;
    std::vector<Diagnostic>* out;

    void report(const toml::source_region* where, std::string key, std::string message) {
        Diagnostic d{file, 0, 0, std::move(key), std::move(message)};
        if (where != nullptr) {
            d.line = static_cast<int>(where->begin.line);
            d.column = static_cast<int>(where->begin.column);
        }
        out->push_back(std::move(d));
    }
    void report(const toml::node& n, std::string key, std::string message) {
        report(&n.source(), std::move(key), std::move(message));
    }
};

std::string type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        default:
            return "a date/time";
    }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

/// A view of one TOML table that remembers which keys were asked for, so that
/// every key nobody asked for can be reported as unknown (a typo must not pass).
class Section {
  public:
    Section(Ctx& ctx, const toml::table& t, std::string path)
        : ctx_(ctx), t_(t), path_(std::move(path)) {}
    Section(const Section&) = delete;
    Section& operator=(const Section&) = delete;

    std::string key_path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    const std::string& path() const { return path_; }
    const toml::table& table() const { return t_; }
    Ctx& ctx() { return ctx_; }

    const toml::node* get(std::string_view key) {
        known_.insert(std::string(key));
        return t_.get(key);
    }

    void missing(std::string_view key, std::string_view what) {
        ctx_.report(&t_.source(), key_path(key), "missing; expected " + std::string(what));
    }
    void error(const toml::node& n, std::string_view key, std::string message) {
        ctx_.report(n, key_path(key), std::move(message));
    }

    /// Returns nullopt if absent (reported when required) or of the wrong type (reported).
    std::optional<std::string> string(std::string_view key, bool required,
                                      std::string_view what = "a string") {
        const toml::node* n = get(key);
        if (n == nullptr) {
            if (required) missing(key, what);
            return std::nullopt;
        }
        if (!n->is_string()) {
            error(*n, key, "expected " + std::string(what) + ", got " + type_name(*n));
            return std::nullopt;
        }
        return n->as_string()->get();
    }

    template <class Int>
    bool integer(std::string_view key, Int& out, std::int64_t min, std::int64_t max,
                 bool required = false) {
        const toml::node* n = get(key);
        const std::string range =
            "an integer from " + std::to_string(min) + " to " + std::to_string(max);
        if (n == nullptr) {
            if (required) missing(key, range);
            return false;
        }
        if (!n->is_integer()) {
            error(*n, key, "expected " + range + ", got " + type_name(*n));
            return false;
        }
        const std::int64_t v = n->as_integer()->get();
        if (v < min || v > max) {
            error(*n, key, "expected " + range + ", got " + std::to_string(v));
            return false;
        }
        out = static_cast<Int>(v);
        return true;
    }

    /// A number (integer or float). `min_exclusive` makes the lower bound strict.
    bool number(std::string_view key, double& out, double min, double max,
                bool min_exclusive = false, bool required = false) {
        const toml::node* n = get(key);
        std::ostringstream range;
        range << "a number " << (min_exclusive ? "greater than " : "from ") << min << " to " << max;
        if (n == nullptr) {
            if (required) missing(key, range.str());
            return false;
        }
        double v;
        if (n->is_integer()) {
            v = static_cast<double>(n->as_integer()->get());
        } else if (n->is_floating_point()) {
            v = n->as_floating_point()->get();
        } else {
            error(*n, key, "expected " + range.str() + ", got " + type_name(*n));
            return false;
        }
        if (!std::isfinite(v) || v > max || v < min || (min_exclusive && v == min)) {
            std::ostringstream got;
            got << v;
            error(*n, key, "expected " + range.str() + ", got " + got.str());
            return false;
        }
        out = v;
        return true;
    }

    bool boolean(std::string_view key, bool& out) {
        const toml::node* n = get(key);
        if (n == nullptr) return false;
        if (!n->is_boolean()) {
            error(*n, key, "expected true or false, got " + type_name(*n));
            return false;
        }
        out = n->as_boolean()->get();
        return true;
    }

    template <class E>
    bool choice(std::string_view key, E& out,
                std::initializer_list<std::pair<std::string_view, E>> options,
                bool required = false) {
        std::string list;
        for (const auto& [name, value] : options) {
            (void)value;
            list += list.empty() ? "one of " : " | ";
            list += name;
        }
        const auto s = string(key, required, list);
        if (!s) return false;
        for (const auto& [name, value] : options) {
            if (*s == name) {
                out = value;
                return true;
            }
        }
        error(*get(key), key, "expected " + list + ", got \"" + *s + "\"");
        return false;
    }

    const toml::table* subtable(std::string_view key) {
        const toml::node* n = get(key);
        if (n == nullptr) return nullptr;
        if (!n->is_table()) {
            error(*n, key, "expected a table, got " + type_name(*n));
            return nullptr;
        }
        return n->as_table();
    }

    /// Reports every key of the table nobody asked for, with the nearest known key.
    void finish() {
        for (const auto& [k, v] : t_) {
            const std::string name(k.str());
            if (known_.count(name)) continue;
            std::string hint;
            std::size_t best = 3;
            for (const auto& cand : known_) {
                const std::size_t d = edit_distance(name, cand);
                if (d < best) {
                    best = d;
                    hint = " (did you mean \"" + cand + "\"?)";
                }
            }
            ctx_.report(v, key_path(name), "unknown key" + hint);
        }
    }

  private:
    Ctx& ctx_;
    const toml::table& t_;
    std::string path_;
    std::set<std::string> known_;
};

/// Ids of the file (gateway, link): they appear in MQTT topics and logs.
bool valid_id(std::string_view s) {
    return is_identifier(s, 128);
}

std::optional<Ean18> ean(Section& s, std::string_view key) {
    const auto text = s.string(key, true, "an 18-digit EAN");
    if (!text) return std::nullopt;
    auto parsed = Ean18::parse(*text);
    if (!parsed) {
        s.error(*s.get(key), key,
                "\"" + *text + "\" is not a valid EAN-18: " + parsed.error().message);
        return std::nullopt;
    }
    return *parsed;
}

void parse_gateway(Section& s, GatewayConfig& g) {
    if (auto id = s.string("id", true, "an id of letters, digits, '-', '_' or '.'")) {
        if (!valid_id(*id))
            s.error(
                *s.get("id"), "id",
                "expected letters, digits, '-', '_' or '.' (it appears in MQTT topics), got \"" +
                    *id + "\"");
        else
            g.id = *id;
    }
    if (const toml::node* n = s.get("interval_s")) {
        if (!n->is_integer() || !valid_interval_s(n->as_integer()->get()))
            s.error(*n, "interval_s",
                    "expected a whole number of seconds that divides 3600 (300 in production)");
        else
            g.interval_s = static_cast<int>(n->as_integer()->get());
    }
    if (auto lvl = s.string("log_level", false, "one of error | warn | info | debug")) {
        if (!log::parse_level(*lvl, g.log_level))
            s.error(*s.get("log_level"), "log_level",
                    "expected one of error | warn | info | debug, got \"" + *lvl + "\"");
    }
    s.boolean("trust_clock", g.trust_clock);
    s.finish();
}

void parse_storage(Section& s, StorageConfig& st) {
    if (auto p = s.string("path", true, "the path of the SQLite database file")) {
        if (p->empty())
            s.error(*s.get("path"), "path", "expected a file path, got an empty string");
        else
            st.path = *p;
    }
    // The grid operator's contract is at least one month of data.
    s.integer("retention_days", st.retention_days, 31, 3650);
    s.finish();
}

bool parse_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
    std::string_view h = text.substr(0, colon);
    if (h.front() == '[') {
        if (h.back() != ']' || h.size() < 3) return false;
        h = h.substr(1, h.size() - 2);
    } else if (h.find(':') != std::string_view::npos) {
        return false;  // IPv6 needs brackets
    }
    long p = 0;
    for (char c : text.substr(colon + 1)) {
        if (c < '0' || c > '9') return false;
        p = p * 10 + (c - '0');
        if (p > 65535) return false;
    }
    host = std::string(h);
    port = static_cast<std::uint16_t>(p);
    return true;
}

void parse_api(Section& s, ApiConfig& a) {
    s.boolean("enabled", a.enabled);
    const bool req = a.enabled;
    if (auto l = s.string("listen", req, "host:port, e.g. \"0.0.0.0:8443\"")) {
        if (!parse_host_port(*l, a.listen_host, a.listen_port))
            s.error(*s.get("listen"), "listen",
                    "expected host:port (IPv6 as [::1]:8443), got \"" + *l + "\"");
    }
    if (auto c = s.string("tls_cert", req, "the path of the server certificate (PEM)"))
        a.tls_cert = *c;
    if (auto k = s.string("tls_key", req, "the path of the server private key (PEM)"))
        a.tls_key = *k;
    s.integer("rate_limit_per_minute", a.rate_limit_per_minute, 1, 100000);
    s.integer("token_lifetime_s", a.token_lifetime_s, 60, 86400);
    s.integer("max_connections", a.max_connections, 1, 1024);
    if (!s.integer("max_connections_per_address", a.max_connections_per_address, 1, 1024))
        a.max_connections_per_address = std::min(a.max_connections_per_address, a.max_connections);
    else if (a.max_connections_per_address > a.max_connections)
        s.error(
            *s.get("max_connections_per_address"), "max_connections_per_address",
            "must not be larger than max_connections (" + std::to_string(a.max_connections) + ")");
    s.integer("handshake_timeout_s", a.handshake_timeout_s, 1, 300);
    s.integer("request_timeout_s", a.request_timeout_s, 1, 300);
    s.integer("keepalive_timeout_s", a.keepalive_timeout_s, 1, 3600);
    if (auto l =
            s.string("metrics_listen", false, "a loopback host:port, e.g. \"127.0.0.1:9464\"")) {
        // Plain HTTP without login: loopback only, so that only the device itself can scrape.
        const bool parsed = parse_host_port(*l, a.metrics_host, a.metrics_port);
        const bool loopback = a.metrics_host.rfind("127.", 0) == 0 || a.metrics_host == "::1" ||
                              a.metrics_host == "localhost";
        if (!parsed || a.metrics_port == 0)
            s.error(*s.get("metrics_listen"), "metrics_listen",
                    "expected host:port with a port from 1 to 65535, got \"" + *l + "\"");
        else if (!loopback)
            s.error(*s.get("metrics_listen"), "metrics_listen",
                    "serves metrics without login, so it takes a loopback address only "
                    "(127.0.0.1, ::1 or localhost), got \"" +
                        a.metrics_host +
                        "\"; use GET /metrics on [api] listen with a login "
                        "from elsewhere");
        if (!parsed || a.metrics_port == 0 || !loopback) a.metrics_port = 0;
    }
    s.finish();
}

/// `extra` reads the keys another program adds to the section (the head-end's).
void parse_mqtt(Section& s, MqttConfig& m, const std::string& gateway_id,
                const std::function<void(Section&)>& extra = {}) {
    s.boolean("enabled", m.enabled);
    const bool req = m.enabled;
    if (auto u = s.string("uri", req, "a broker URI, tcp://host:port or ssl://host:port")) {
        const bool scheme_ok = u->rfind("tcp://", 0) == 0 || u->rfind("ssl://", 0) == 0;
        std::string host;
        std::uint16_t port = 0;
        const bool hp_ok =
            scheme_ok && parse_host_port(std::string_view(*u).substr(6), host, port) && port != 0;
        if (!hp_ok)
            s.error(*s.get("uri"), "uri",
                    "expected tcp://host:port or ssl://host:port, got \"" + *u + "\"");
        else
            m.uri = *u;
    }
    m.client_id = gateway_id;
    if (auto c = s.string("client_id", false)) {
        if (c->empty() || c->size() > 230)
            s.error(*s.get("client_id"), "client_id", "expected a non-empty client id");
        else
            m.client_id = *c;
    }
    if (auto p = s.string("topic_prefix", false)) {
        if (p->empty() || p->find_first_of("+#") != std::string::npos || p->front() == '/' ||
            p->back() == '/')
            s.error(*s.get("topic_prefix"), "topic_prefix",
                    "expected a topic prefix without '+', '#' or a leading/trailing '/', got \"" +
                        *p + "\"");
        else
            m.topic_prefix = *p;
    }
    if (auto u = s.string("username", false)) m.username = *u;
    if (auto p = s.string("password_file", false)) {
        m.password_file = *p;
        if (m.username.empty())
            s.error(*s.get("password_file"), "password_file",
                    "a password needs a username: set mqtt.username");
    }
    if (auto c = s.string("ca_file", false)) m.ca_file = *c;
    if (auto c = s.string("cert_file", false)) m.cert_file = *c;
    if (auto k = s.string("key_file", false)) m.key_file = *k;
    if (m.cert_file.empty() != m.key_file.empty()) {
        const std::string which = m.cert_file.empty() ? "cert_file" : "key_file";
        s.missing(which, "a client certificate needs both cert_file and key_file");
    }
    if (!m.uri.empty() && !m.uses_tls() && (!m.ca_file.empty() || !m.cert_file.empty()))
        s.error(*s.get("uri"), "uri", "TLS files are set but the URI is tcp://; use ssl://");
    s.integer("keepalive_s", m.keepalive_s, 5, 3600);
    s.boolean("clean_session", m.clean_session);
    s.integer("reconnect_max_s", m.reconnect_max_s, 1, 3600);
    s.integer("max_inflight", m.max_inflight, 1, 1000);
    if (extra) extra(s);
    s.finish();
}

const std::initializer_list<int> k_bauds{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};

void parse_link(Section& s, LinkConfig& l) {
    if (auto id = s.string("id", true, "a link id")) {
        if (!valid_id(*id))
            s.error(*s.get("id"), "id",
                    "expected letters, digits, '-', '_' or '.', got \"" + *id + "\"");
        else
            l.id = *id;
    }
    const bool type_ok = s.choice(
        "type", l.type,
        {{"tcp", LinkType::tcp}, {"rtu", LinkType::rtu}, {"rtu_over_tcp", LinkType::rtu_over_tcp}},
        true);
    s.integer("response_timeout_ms", l.response_timeout_ms, 10, 60000);
    s.integer("byte_timeout_ms", l.byte_timeout_ms, 1, 10000);
    s.integer("retries", l.retries, 0, 5);
    // A serial device is local: reopening it is cheap, and a re-plugged adapter must be back
    // within a few poll periods. A TCP peer may be far away and rebooting: back off further.
    if (l.type == LinkType::rtu) l.reconnect_max_ms = 2000;
    s.integer("reconnect_max_ms", l.reconnect_max_ms, 100, 600000);
    s.integer("request_delay_ms", l.request_delay_ms, 0, 5000);
    s.integer("turnaround_ms", l.turnaround_ms, 0, 1000);
    if (!type_ok) {
        // Without a type we cannot tell which keys belong; ask for all so none is "unknown".
        for (auto k : {"host", "port", "device", "baud", "parity", "data_bits", "stop_bits",
                       "inter_frame_delay_ms"})
            s.get(k);
        s.finish();
        return;
    }
    auto only_for = [&](std::initializer_list<const char*> keys, const char* types) {
        for (const char* k : keys)
            if (const toml::node* n = s.get(k))
                s.error(*n, k, std::string("only allowed for type = ") + types);
    };
    if (l.type == LinkType::tcp || l.type == LinkType::rtu_over_tcp) {
        if (auto h = s.string("host", true, "a host name or IP address")) l.host = *h;
        s.integer("port", l.port, 1, 65535);
    } else {
        if (auto d = s.string("device", true, "a serial device path such as /dev/ttyUSB0"))
            l.device = *d;
    }
    if (l.rtu_framing()) {
        // On rtu_over_tcp the baud rate is the converter's serial side: it sets t3.5 and the
        // read planner's costs.
        if (const toml::node* n = s.get("baud")) {
            const bool ok = n->is_integer() && std::find(k_bauds.begin(), k_bauds.end(),
                                                         n->as_integer()->get()) != k_bauds.end();
            if (!ok)
                s.error(*n, "baud",
                        "expected one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200");
            else
                l.baud = static_cast<int>(n->as_integer()->get());
        }
        s.integer("inter_frame_delay_ms", l.inter_frame_delay_ms, 0, 1000);
    } else {
        only_for({"baud", "inter_frame_delay_ms"}, "\"rtu\" or \"rtu_over_tcp\"");
    }
    if (l.type == LinkType::rtu) {
        s.choice("parity", l.parity, {{"N", 'N'}, {"E", 'E'}, {"O", 'O'}});
        if (const toml::node* n = s.get("data_bits")) {
            if (!n->is_integer() || (n->as_integer()->get() != 7 && n->as_integer()->get() != 8))
                s.error(*n, "data_bits", "expected 7 or 8");
            else
                l.data_bits = static_cast<int>(n->as_integer()->get());
        }
        if (const toml::node* n = s.get("stop_bits")) {
            if (!n->is_integer() || (n->as_integer()->get() != 1 && n->as_integer()->get() != 2))
                s.error(*n, "stop_bits", "expected 1 or 2");
            else
                l.stop_bits = static_cast<int>(n->as_integer()->get());
        }
        only_for({"host", "port"}, "\"tcp\" or \"rtu_over_tcp\"");
    } else {
        only_for({"device", "parity", "data_bits", "stop_bits"}, "\"rtu\"");
    }
    s.finish();
}

/// One entry of [meter.registers]: { address, type, function, word_order, byte_order, scale |
/// scale_pow10 }.
void parse_register(Section& s, RegisterSpec& r) {
    s.integer("address", r.address, 0, 65535, true);
    bool type_ok = false;
    if (auto t = s.string("type", true,
                          "one of int16 uint16 int32 uint32 int64 uint64 float32 float64")) {
        if (auto dt = data_type_from_name(*t)) {
            r.type = *dt;
            type_ok = true;
        } else
            s.error(
                *s.get("type"), "type",
                "expected one of int16 uint16 int32 uint32 int64 uint64 float32 float64, got \"" +
                    *t + "\"");
    }
    s.choice("function", r.function,
             {{"holding", RegFunction::holding}, {"input", RegFunction::input}});
    s.choice("word_order", r.word_order, {{"big", WordOrder::big}, {"little", WordOrder::little}});
    s.choice("byte_order", r.byte_order, {{"big", ByteOrder::big}, {"little", ByteOrder::little}});
    const bool has_scale = s.number("scale", r.scale, -1e12, 1e12);
    if (has_scale && r.scale == 0) s.error(*s.get("scale"), "scale", "must not be 0");
    int pow10 = 0;
    if (s.integer("scale_pow10", pow10, -12, 12)) {
        if (has_scale)
            s.error(*s.get("scale_pow10"), "scale_pow10",
                    "give either scale or scale_pow10, not both");
        else
            r.scale = std::pow(10.0, pow10);
    }
    s.boolean("all_ones_invalid", r.all_ones_invalid);
    if (type_ok && r.all_ones_invalid && r.type != DataType::uint16 && r.type != DataType::uint32 &&
        r.type != DataType::uint64)
        s.error(*s.get("all_ones_invalid"), "all_ones_invalid",
                "only for unsigned types (uint16, uint32, uint64)");
    if (std::uint32_t(r.address) + register_count(r.type) - 1 > 65535)
        s.error(s.table(), "address", "the value runs past register 65535");
    s.finish();
}

void parse_registers(Section& s, RegisterMap& map) {
    for (const auto& [k, v] : s.table()) {
        const std::string name(k.str());
        s.get(name);  // every key is handled here; unknown names are reported below
        auto reg = reg_from_name(name);
        if (!reg) {
            s.error(v, name,
                    "unknown register name; expected one of p_l1 p_l2 p_l3 p_total q_l1 q_l2 q_l3 "
                    "q_total "
                    "u_l1n u_l2n u_l3n u_l12 u_l23 u_l31 e_import e_export eq_import eq_export");
            continue;
        }
        if (!v.is_table()) {
            s.error(v, name,
                    "expected an inline table like { address = 0, type = \"float32\" }, got " +
                        type_name(v));
            continue;
        }
        Section rs(s.ctx(), *v.as_table(), s.key_path(name));
        RegisterSpec spec;
        parse_register(rs, spec);
        map[*reg] = spec;
    }
}

void parse_meter(Section& s, MeterConfig& m, const Config& cfg, const ProfileLookup& profiles) {
    if (auto e = ean(s, "meter_ean")) m.meter_ean = *e;
    if (auto e = ean(s, "klant_ean")) {
        m.klant_ean = *e;
        if (cfg.find_customer(*e) == nullptr)
            s.error(*s.get("klant_ean"), "klant_ean",
                    "no [[customer]] with klant_ean = \"" + e->to_string() + "\" is configured");
    }
    s.choice("meter_type", m.type,
             {{"bruto_productie", MeterType::bruto_productie},
              {"overdrachtspunt", MeterType::overdrachtspunt}},
             true);
    const LinkConfig* link = nullptr;
    if (auto l = s.string("link", true, "the id of a [[link]]")) {
        m.link = *l;
        link = cfg.find_link(*l);
        if (link == nullptr)
            s.error(*s.get("link"), "link", "no [[link]] with id = \"" + *l + "\" is configured");
    }
    // RTU addresses 1..247 (0 is broadcast); a TCP gateway may route any unit id.
    const bool rtu_frames = link != nullptr && link->rtu_framing();
    const std::int64_t max_unit = rtu_frames ? 247 : 255;
    const std::int64_t min_unit = rtu_frames ? 1 : 0;
    s.integer("unit_id", m.unit_id, min_unit, max_unit, true);

    bool have_map = false;
    if (auto p = s.string("profile", true, "a built-in profile name or \"custom\"")) {
        m.profile = *p;
        const toml::table* regs = s.subtable("registers");
        if (*p == "custom") {
            if (regs == nullptr) {
                s.missing("registers", "a [meter.registers] table for profile = \"custom\"");
            } else {
                Section rs(s.ctx(), *regs, s.key_path("registers"));
                const std::size_t before = s.ctx().out->size();
                parse_registers(rs, m.registers);
                have_map = s.ctx().out->size() == before;
                if (have_map) {
                    if (!m.registers.has_active_power())
                        rs.missing("p_total", "p_total or all of p_l1, p_l2, p_l3");
                    if (!m.registers.has_reactive_power())
                        rs.missing("q_total", "q_total or all of q_l1, q_l2, q_l3");
                    if (!m.registers.has_phase_to_neutral() && !m.registers.has_phase_to_phase())
                        rs.missing("u_l1n", "u_l1n, u_l2n, u_l3n or u_l12, u_l23, u_l31");
                }
            }
        } else {
            if (regs != nullptr)
                s.error(*s.get("registers"), "registers", "only allowed with profile = \"custom\"");
            const RegisterMap* builtin = profiles ? profiles(*p) : nullptr;
            if (builtin == nullptr) {
                s.error(*s.get("profile"), "profile",
                        "unknown profile \"" + *p +
                            "\"; run meter-gateway --profiles for the list, or use \"custom\"");
            } else {
                m.registers = *builtin;
                have_map = true;
            }
        }
    }
    s.integer("poll_ms", m.poll_ms, 100, 60000);
    if (m.poll_ms > cfg.gateway.interval_s * 1000)
        s.error(*s.get("poll_ms"), "poll_ms", "must not be longer than gateway.interval_s");
    s.choice("sign", m.sign,
             {{"import_positive", SignConvention::import_positive},
              {"export_positive", SignConvention::export_positive}});
    s.number("ct_ratio", m.ct_ratio, 0, 1e6, true);
    s.number("vt_ratio", m.vt_ratio, 0, 1e6, true);
    const bool voltage_set = s.choice("voltage", m.voltage,
                                      {{"phase_to_neutral", VoltageMode::phase_to_neutral},
                                       {"phase_to_phase", VoltageMode::phase_to_phase}});
    const bool method_set =
        s.choice("method", m.method,
                 {{"samples", AveragingMethod::samples}, {"energy", AveragingMethod::energy}});
    s.number("cross_check_tolerance_pct", m.cross_check_tolerance_pct, 0, 1000);
    s.number("cross_check_min_kw", m.cross_check_min_kw, 0, 1e6);
    if (rtu_frames) m.max_read_gap = 32;
    s.integer("max_read_gap", m.max_read_gap, 0, 120);
    if (const toml::table* lim = s.subtable("limits")) {
        Section ls(s.ctx(), *lim, s.key_path("limits"));
        ls.number("max_abs_power_kw", m.limits.max_abs_power_kw, 0, 1e9, true);
        ls.number("min_voltage_v", m.limits.min_voltage_v, 0, 1e7);
        ls.number("max_voltage_v", m.limits.max_voltage_v, 0, 1e7, true);
        if (m.limits.min_voltage_v >= m.limits.max_voltage_v)
            ls.error(*lim, "min_voltage_v", "must be below max_voltage_v");
        ls.finish();
    }
    if (have_map) {
        // Default voltage mode: phase-to-neutral where the meter has it (SPEC 2).
        if (!voltage_set && !m.registers.has_phase_to_neutral())
            m.voltage = VoltageMode::phase_to_phase;
        const bool has_mode = m.voltage == VoltageMode::phase_to_neutral
                                  ? m.registers.has_phase_to_neutral()
                                  : m.registers.has_phase_to_phase();
        if (voltage_set && !has_mode)
            s.error(*s.get("voltage"), "voltage",
                    "profile \"" + m.profile + "\" has no " +
                        std::string(voltage_mode_name(m.voltage)) + " voltage registers");
        if (method_set && m.method == AveragingMethod::energy && !m.registers.has_active_energy())
            s.error(*s.get("method"), "method",
                    "\"energy\" needs both e_import and e_export registers, which profile \"" +
                        m.profile + "\" lacks");
    }
    s.finish();
}

template <class F>
void each_table(Section& root, std::string_view key, F&& fn);

/// [modbus_server] and its [[modbus_server.unit]] entries; after the meters, which it names.
void parse_modbus_server(Section& s, ModbusServerConfig& ms, const Config& cfg) {
    ms.enabled = true;
    if (auto l = s.string("listen", true, "host:port, e.g. \"0.0.0.0:1502\"")) {
        if (!parse_host_port(*l, ms.listen_host, ms.listen_port))
            s.error(*s.get("listen"), "listen",
                    "expected host:port (IPv6 as [::1]:1502), got \"" + *l + "\"");
    }
    s.integer("max_connections", ms.max_connections, 1, 64);
    if (!s.integer("max_connections_per_address", ms.max_connections_per_address, 1, 64))
        ms.max_connections_per_address =
            std::min(ms.max_connections_per_address, ms.max_connections);
    else if (ms.max_connections_per_address > ms.max_connections)
        s.error(
            *s.get("max_connections_per_address"), "max_connections_per_address",
            "must not be larger than max_connections (" + std::to_string(ms.max_connections) + ")");
    s.integer("idle_timeout_s", ms.idle_timeout_s, 1, 3600);
    s.integer("max_queued", ms.max_queued, 1, 256);
    std::set<int> units;
    std::set<std::string> meters;
    each_table(s, "unit", [&](Section& u, std::size_t) {
        ModbusServerUnit unit;
        const bool id_ok = u.integer("unit_id", unit.unit_id, 1, 247, true);
        if (id_ok && !units.insert(unit.unit_id).second)
            u.error(*u.get("unit_id"), "unit_id",
                    std::to_string(unit.unit_id) + " is already used by another unit");
        auto e = ean(u, "meter");
        if (e) {
            if (cfg.find_meter(*e) == nullptr)
                u.error(*u.get("meter"), "meter",
                        "no [[meter]] with meter_ean = \"" + e->to_string() + "\" is configured");
            else if (!meters.insert(e->to_string()).second)
                u.error(*u.get("meter"), "meter",
                        e->to_string() + " is already served by another unit");
            else
                unit.meter = *e;
        }
        u.boolean("passthrough", unit.passthrough);
        if (const toml::node* n = u.get("writable")) {
            const toml::array* ranges = n->as_array();
            bool ok = ranges != nullptr;
            if (ok)
                for (const toml::node& r : *ranges) {
                    const toml::array* pair = r.as_array();
                    if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_integer() ||
                        !(*pair)[1].is_integer()) {
                        ok = false;
                        break;
                    }
                    const auto first = (*pair)[0].as_integer()->get();
                    const auto last = (*pair)[1].as_integer()->get();
                    if (first < 0 || last > 65535 || first > last) {
                        ok = false;
                        break;
                    }
                    unit.writable.emplace_back(static_cast<std::uint16_t>(first),
                                               static_cast<std::uint16_t>(last));
                }
            if (!ok)
                u.error(*n, "writable",
                        "expected a list of [first, last] holding register addresses, 0..65535, "
                        "first <= last, e.g. [[40100, 40109]]");
        }
        u.finish();
        if (id_ok && e) ms.units.push_back(unit);
    });
    if (s.get("unit") == nullptr) s.missing("unit", "at least one [[modbus_server.unit]] section");
    s.finish();
}

template <class F>
void each_table(Section& root, std::string_view key, F&& fn) {
    const toml::node* n = root.get(key);
    if (n == nullptr) return;
    const toml::array* arr = n->as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
        root.error(*n, key,
                   "expected an array of tables: write [[" + std::string(key) + "]] sections");
        return;
    }
    std::size_t i = 0;
    for (const toml::node& item : *arr) {
        Section s(root.ctx(), *item.as_table(), root.key_path(key) + "[" + std::to_string(i) + "]");
        fn(s, i);
        ++i;
    }
}

/// The file's text, or the diagnostic why it cannot be read.
std::variant<std::string, Diagnostic> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Diagnostic{
            path, 0, 0, "",
            "cannot read the configuration file: " + std::string(std::strerror(errno))};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void sort_by_position(std::vector<Diagnostic>& errors) {
    std::stable_sort(errors.begin(), errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
}

}  // namespace

ConfigResult parse_config(std::string_view text, const std::string& file,
                          const ProfileLookup& profiles) {
    ConfigResult result;
    Ctx ctx{file, &result.errors};
    toml::table doc;
    try {
        doc = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        ctx.report(&e.source(), "", "TOML syntax error: " + std::string(e.description()));
        return result;
    }

    Config cfg;
    cfg.file = file;
    Section root(ctx, doc, "");

    auto section = [&](std::string_view key, bool required, auto&& fn) {
        const toml::table* t = root.subtable(key);
        if (t == nullptr) {
            if (required && root.get(key) == nullptr)
                root.missing(key, "a [" + std::string(key) + "] section");
            return;
        }
        Section s(ctx, *t, std::string(key));
        fn(s);
    };
    section("gateway", true, [&](Section& s) { parse_gateway(s, cfg.gateway); });
    section("storage", true, [&](Section& s) { parse_storage(s, cfg.storage); });
    section("api", true, [&](Section& s) { parse_api(s, cfg.api); });
    section("mqtt", false, [&](Section& s) { parse_mqtt(s, cfg.mqtt, cfg.gateway.id); });

    std::map<std::string, std::string> seen;  // duplicate detection: value -> where first
    auto unique = [&](Section& s, std::string_view key, const std::string& value) {
        auto [it, fresh] = seen.emplace(std::string(key) + "=" + value, s.path());
        if (!fresh) s.error(*s.get(key), key, "\"" + value + "\" is already used by " + it->second);
    };

    each_table(root, "customer", [&](Section& s, std::size_t) {
        CustomerConfig c;
        auto e = ean(s, "klant_ean");
        if (auto n = s.string("name", false)) c.name = *n;
        s.finish();
        if (!e) return;
        c.klant_ean = *e;
        unique(s, "klant_ean", e->to_string());
        cfg.customers.push_back(std::move(c));
    });
    each_table(root, "link", [&](Section& s, std::size_t) {
        LinkConfig l;
        parse_link(s, l);
        if (l.id.empty()) return;
        unique(s, "id", l.id);
        if (l.type == LinkType::rtu && !l.device.empty()) unique(s, "device", l.device);
        cfg.links.push_back(std::move(l));
    });
    each_table(root, "meter", [&](Section& s, std::size_t) {
        MeterConfig m;
        const std::size_t before = result.errors.size();
        parse_meter(s, m, cfg, profiles);
        if (result.errors.size() != before) return;
        unique(s, "meter_ean", m.meter_ean.to_string());
        unique(s, "unit_id", m.link + "/" + std::to_string(m.unit_id));
        cfg.meters.push_back(std::move(m));
    });
    section("modbus_server", false,
            [&](Section& s) { parse_modbus_server(s, cfg.modbus_server, cfg); });
    if (root.get("customer") == nullptr)
        root.missing("customer", "at least one [[customer]] section");
    if (root.get("meter") == nullptr) root.missing("meter", "at least one [[meter]] section");
    root.finish();

    // Report in file order, the way an editor shows them.
    sort_by_position(result.errors);
    if (result.errors.empty()) result.config = std::move(cfg);
    return result;
}

ConfigResult load_config(const std::string& path, const ProfileLookup& profiles) {
    auto text = read_text(path);
    if (auto* d = std::get_if<Diagnostic>(&text)) {
        ConfigResult r;
        r.errors.push_back(std::move(*d));
        return r;
    }
    return parse_config(std::get<std::string>(text), path, profiles);
}

HeadendConfigResult parse_headend_config(std::string_view text, const std::string& file) {
    HeadendConfigResult result;
    Ctx ctx{file, &result.errors};
    toml::table doc;
    try {
        doc = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        ctx.report(&e.source(), "", "TOML syntax error: " + std::string(e.description()));
        return result;
    }
    HeadendConfig cfg;
    cfg.file = file;
    Section root(ctx, doc, "");
    auto section = [&](std::string_view key, auto&& fn) {
        const toml::table* t = root.subtable(key);
        if (t == nullptr) {
            if (root.get(key) == nullptr) root.missing(key, "a [" + std::string(key) + "] section");
            return;
        }
        Section s(ctx, *t, std::string(key));
        fn(s);
    };
    section("headend", [&](Section& s) {
        GatewayConfig g;  // the same rules for id and log_level
        if (auto id = s.string("id", true, "an id of letters, digits, '-', '_' or '.'")) {
            if (!valid_id(*id))
                s.error(*s.get("id"), "id",
                        "expected letters, digits, '-', '_' or '.', got \"" + *id + "\"");
            else
                cfg.id = *id;
        }
        if (auto lvl = s.string("log_level", false, "one of error | warn | info | debug")) {
            if (!log::parse_level(*lvl, cfg.log_level))
                s.error(*s.get("log_level"), "log_level",
                        "expected one of error | warn | info | debug, got \"" + *lvl + "\"");
        }
        s.integer("backfill_after_s", cfg.backfill_after_s, 1, std::int64_t{7} * 86400);
        s.integer("backfill_attempts", cfg.backfill_attempts, 1, 100);
        s.finish();
    });
    section("postgres", [&](Section& s) {
        if (auto c = s.string("conninfo", true,
                              "a libpq connection string, e.g. \"host=127.0.0.1 dbname=meters\"")) {
            if (c->empty())
                s.error(*s.get("conninfo"), "conninfo", "expected a connection string, got \"\"");
            else
                cfg.pg_conninfo = *c;
        }
        // The gateways keep 31 days; the fleet store keeps at least as much.
        s.integer("retention_days", cfg.retention_days, 31, 3650);
        s.finish();
    });
    section("api", [&](Section& s) { parse_api(s, cfg.api); });
    section("mqtt", [&](Section& s) {
        cfg.mqtt.enabled = true;
        parse_mqtt(s, cfg.mqtt, cfg.id, [&](Section& m) {
            if (auto g = m.string("shared_group", false)) {
                if (!valid_id(*g))
                    m.error(*m.get("shared_group"), "shared_group",
                            "expected letters, digits, '-', '_' or '.', got \"" + *g + "\"");
                else
                    cfg.shared_group = *g;
            }
            m.integer("session_expiry_s", cfg.session_expiry_s, 0, 86400);
            m.integer("batch_max", cfg.batch_max, 1, 10000);
            m.integer("batch_ms", cfg.batch_ms, 1, 10000);
        });
        if (!cfg.mqtt.enabled)
            s.error(*s.get("enabled"), "enabled", "the head-end cannot run without MQTT");
    });
    root.finish();
    sort_by_position(result.errors);
    if (result.errors.empty()) result.config = std::move(cfg);
    return result;
}

HeadendConfigResult load_headend_config(const std::string& path) {
    auto text = read_text(path);
    if (auto* d = std::get_if<Diagnostic>(&text)) {
        HeadendConfigResult r;
        r.errors.push_back(std::move(*d));
        return r;
    }
    return parse_headend_config(std::get<std::string>(text), path);
}

namespace {

/// The checks the gateway and the head-end share: TLS files of [api], the files of [mqtt].
class FileCheck {
  public:
    explicit FileCheck(const std::string& file) : file_(file) {}
    void check(const std::string& path, const std::string& key, int mode) {
        if (path.empty()) return;
        if (::access(path.c_str(), F_OK) != 0) {
            out_.push_back({file_, 0, 0, key, "\"" + path + "\" does not exist"});
        } else if (::access(path.c_str(), mode) != 0) {
            out_.push_back({file_, 0, 0, key,
                            "\"" + path + "\" is not " +
                                (mode == R_OK ? "readable" : "readable and writable") +
                                " by this user: " + std::strerror(errno)});
        }
    }
    void api_and_mqtt(const ApiConfig& api, const MqttConfig& mqtt) {
        if (api.enabled) {
            check(api.tls_cert, "api.tls_cert", R_OK);
            check(api.tls_key, "api.tls_key", R_OK);
        }
        if (mqtt.enabled) {
            check(mqtt.password_file, "mqtt.password_file", R_OK);
            check(mqtt.ca_file, "mqtt.ca_file", R_OK);
            check(mqtt.cert_file, "mqtt.cert_file", R_OK);
            check(mqtt.key_file, "mqtt.key_file", R_OK);
        }
    }
    std::vector<Diagnostic> take() { return std::move(out_); }

  private:
    const std::string& file_;
    std::vector<Diagnostic> out_;
};

}  // namespace

std::vector<Diagnostic> check_referenced_files(const Config& c) {
    FileCheck f(c.file);
    f.api_and_mqtt(c.api, c.mqtt);
    for (std::size_t i = 0; i < c.links.size(); ++i)
        if (c.links[i].type == LinkType::rtu)
            f.check(c.links[i].device, "link[" + std::to_string(i) + "].device", R_OK | W_OK);
    return f.take();
}

std::vector<Diagnostic> check_referenced_files(const HeadendConfig& c) {
    FileCheck f(c.file);
    f.api_and_mqtt(c.api, c.mqtt);
    return f.take();
}

}  // namespace gw
