// Text that crosses a trust boundary: strict UTF-8, JSON string literals, log-safe text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gw {

/// 1 to `max_len` characters, each a letter, a digit, '-', '_' or '.': the ids that appear in
/// MQTT topics, file names, logs and headers (gateway and link ids, client names, correlation ids).
bool is_identifier(std::string_view s, std::size_t max_len);

/// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..DFFF), nothing above
/// U+10FFFF, no truncated sequence.
bool valid_utf8(std::string_view s);

/// Appends `s` as a JSON string literal, quotes included. Escapes `"`, `\` and every control
/// character, and replaces each invalid UTF-8 sequence by U+FFFD, so that the output is valid
/// JSON in valid UTF-8 whatever the input.
void append_json_quoted(std::string& out, std::string_view s);
std::string json_quote(std::string_view s);

/// Untrusted text for one log line: control characters (CR, LF, ESC, ...), DEL and bytes of
/// invalid UTF-8 become `\xNN`; longer than `max` bytes is cut and marked with "...".
std::string log_safe(std::string_view s, std::size_t max = 200);

}  // namespace gw
