// JSON output.
#include "gw/core/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "gw/core/text.hpp"

namespace gw {

void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!open_.empty()) {
        if (!open_.back().first) out_ += ',';
        open_.back().first = false;
    }
}

JsonWriter& JsonWriter::object() {
    before_value();
    out_ += '{';
    open_.push_back({'}', true});
    return *this;
}

JsonWriter& JsonWriter::array() {
    before_value();
    out_ += '[';
    open_.push_back({']', true});
    return *this;
}

JsonWriter& JsonWriter::end() {
    if (open_.empty()) return *this;
    out_ += open_.back().close;
    open_.pop_back();
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
    before_value();
    append_json_quoted(out_, name);
    out_ += ':';
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
    before_value();
    append_json_quoted(out_, s);
    return *this;
}

JsonWriter& JsonWriter::integer(std::int64_t v) {
    before_value();
    out_ += std::to_string(v);
    return *this;
}

JsonWriter& JsonWriter::integer(std::uint64_t v) {
    before_value();
    out_ += std::to_string(v);
    return *this;
}

JsonWriter& JsonWriter::boolean(bool v) {
    before_value();
    out_ += v ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::null() {
    before_value();
    out_ += "null";
    return *this;
}

JsonWriter& JsonWriter::fixed(double v, int decimals) {
    if (!std::isfinite(v)) return null();
    before_value();
    char buf[64];
    const auto [end, ec] =
        std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
    if (ec != std::errc{}) {
        out_ += "null";
        return *this;
    }
    std::string_view text(buf, static_cast<std::size_t>(end - buf));
    if (text.find_first_not_of("-0.") == std::string_view::npos && text.front() == '-')
        text.remove_prefix(1);  // no "-0.0"
    out_ += text;
    return *this;
}

JsonWriter& JsonWriter::number(double v) {
    if (!std::isfinite(v)) return null();
    before_value();
    char buf[400];  // the longest fixed form of a double has 300-odd digits
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    if (ec != std::errc{}) {
        out_ += "null";
        return *this;
    }
    std::string_view text(buf, static_cast<std::size_t>(end - buf));
    if (text == "-0") text = "0";
    out_ += text;
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    before_value();
    out_ += json;
    return *this;
}

}  // namespace gw
