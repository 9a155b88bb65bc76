// The one JSON writer of every output (API bodies, errors, MQTT payloads): strings are always
// valid UTF-8 with every control character escaped, and numbers are never written in exponent
// notation (Boost.JSON's serializer writes 231.4 as 2.314E2 and 1.0 as 1E0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw {

/// Appends JSON to a string; commas between members and elements are its business.
///
/// Thread-safety: none. Misuse (a value where a key is due, an unbalanced end()) is a bug and
/// is not checked beyond what keeps the output well-formed for correct use.
class JsonWriter {
  public:
    JsonWriter() = default;
    /// Appends to `out` (for building a body piece by piece without copies).
    explicit JsonWriter(std::string out) : out_(std::move(out)) {}

    JsonWriter& object();
    JsonWriter& array();
    /// Closes the innermost object or array.
    JsonWriter& end();
    JsonWriter& key(std::string_view name);

    JsonWriter& string(std::string_view s);
    JsonWriter& integer(std::int64_t v);
    JsonWriter& integer(std::uint64_t v);
    JsonWriter& integer(int v) { return integer(static_cast<std::int64_t>(v)); }
    JsonWriter& boolean(bool v);
    JsonWriter& null();
    /// Exactly `decimals` places ("231.0", "0.99"); null when not finite.
    JsonWriter& fixed(double v, int decimals);
    /// The shortest decimal that reads back as `v` ("1.5", "1", "0.0001"); null when not finite.
    JsonWriter& number(double v);
    /// A value that is JSON already.
    JsonWriter& raw(std::string_view json);

    /// `key` then the value, or null when the optional is empty.
    JsonWriter& field(std::string_view k, std::string_view v) { return key(k).string(v); }
    JsonWriter& field(std::string_view k, const char* v) { return key(k).string(v); }
    JsonWriter& field(std::string_view k, const std::string& v) { return key(k).string(v); }
    JsonWriter& field(std::string_view k, const std::optional<std::string>& v) {
        key(k);
        return v ? string(*v) : null();
    }

    const std::string& str() const { return out_; }
    std::string take() && { return std::move(out_); }

  private:
    void before_value();

    struct Open {
        char close;  ///< '}' or ']'
        bool first;  ///< no member written yet
    };
    std::string out_;
    std::vector<Open> open_;
    bool after_key_ = false;
};

}  // namespace gw
