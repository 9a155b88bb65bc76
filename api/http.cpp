// Query string parsing, correlation ids and error bodies.
#include "gw/api/http.hpp"

#include <openssl/rand.h>

#include "gw/core/json.hpp"
#include "gw/core/text.hpp"

namespace gw::http {

std::vector<std::string> Query::all(std::string_view key) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : items)
        if (k == key) out.push_back(v);
    return out;
}

std::size_t Query::count(std::string_view key) const {
    std::size_t n = 0;
    for (const auto& [k, v] : items) n += k == key;
    return n;
}

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

std::string_view query_of(std::string_view target) {
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool decode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+') {
            out += ' ';
        } else if (in[i] == '%') {
            if (i + 2 >= in.size()) return false;
            const int h = hex(in[i + 1]), l = hex(in[i + 2]);
            if (h < 0 || l < 0) return false;
            out += static_cast<char>(h * 16 + l);
            i += 2;
        } else {
            out += in[i];
        }
    }
    return out.find('\0') == std::string::npos;
}

}  // namespace

std::optional<Query> parse_query(std::string_view q, std::string& why) {
    Query out;
    while (!q.empty()) {
        const auto amp = q.find('&');
        const std::string_view part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (part.empty()) continue;
        const auto eq = part.find('=');
        std::string key, value;
        if (!decode(part.substr(0, eq), key) ||
            !decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1),
                    value)) {
            why = "malformed percent-encoding in the query string";
            return std::nullopt;
        }
        if (!gw::valid_utf8(key) || !gw::valid_utf8(value)) {
            why = "the query string is not valid UTF-8";
            return std::nullopt;
        }
        out.items.emplace_back(std::move(key), std::move(value));
    }
    return out;
}

std::string url_encode(std::string_view value) {
    static const char* digits = "0123456789ABCDEF";
    std::string out;
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
            out += c;
        } else {
            out += '%';
            out += digits[u >> 4];
            out += digits[u & 0xF];
        }
    }
    return out;
}

std::string make_correlation_id() {
    unsigned char b[16];
    RAND_bytes(b, sizeof b);
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    static const char* h = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += h[b[i] >> 4];
        s += h[b[i] & 15];
    }
    return s;
}

Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view corr) {
    Response r;
    r.status = status;
    r.no_store = true;
    JsonWriter w;
    w.object()
        .key("error")
        .object()
        .field("code", code)
        .field("message", message)
        .field("correlation_id", corr);
    r.body = std::move(w.end().end()).take();
    return r;
}

}  // namespace gw::http
