// Strict UTF-8, JSON quoting and log-safe text.
#include "gw/core/text.hpp"

#include <cctype>
#include <cstdint>

namespace gw {
namespace {

/// Length of the valid UTF-8 sequence at s[i], or 0 when the bytes there are not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {  // 0xC0/0xC1 start only overlong forms
        len = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((b(k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b(k) & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    return len;
}

constexpr char k_hex[] = "0123456789abcdef";

}  // namespace

bool is_identifier(std::string_view s, std::size_t max_len) {
    if (s.empty() || s.size() > max_len) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
            return false;
    return true;
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

void append_json_quoted(std::string& out, std::string_view s) {
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        const char c = s[i];
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) {
            const std::size_t n = utf8_sequence(s, i);
            if (n == 0) {
                out += "\xEF\xBF\xBD";  // U+FFFD for one bad byte
                ++i;
            } else {
                out.append(s.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20 || u == 0x7F) {
                    out += "\\u00";
                    out += k_hex[u >> 4];
                    out += k_hex[u & 15];
                } else {
                    out += c;
                }
        }
        ++i;
    }
    out += '"';
}

std::string json_quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    append_json_quoted(out, s);
    return out;
}

std::string log_safe(std::string_view s, std::size_t max) {
    std::string out;
    out.reserve(std::min(s.size(), max) + 8);
    for (std::size_t i = 0; i < s.size();) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(s[i]);
        std::size_t n = u >= 0x80 ? utf8_sequence(s, i) : 1;
        if (n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        if (u < 0x20 || u == 0x7F || u >= 0x80) {
            out += "\\x";
            out += k_hex[u >> 4];
            out += k_hex[u & 15];
        } else {
            out += static_cast<char>(u);
        }
        ++i;
    }
    return out;
}

}  // namespace gw
