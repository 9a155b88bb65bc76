// Levelled log lines on stderr; journald reads the <N> priority prefix when it is the reader.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace gw::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

/// Parses error|warn|info|debug.
bool parse_level(std::string_view text, Level& out);
void set_level(Level level);
Level level();
bool enabled(Level level);

/// Writes one line atomically (one write(2)), safe from any thread.
void write(Level level, std::string_view component, std::string_view message);

template <class... Args>
void emit(Level lvl, std::string_view component, const Args&... args) {
    if (!enabled(lvl)) return;
    std::ostringstream os;
    (os << ... << args);
    write(lvl, component, os.str());
}

template <class... A> void error(std::string_view c, const A&... a) { emit(Level::error, c, a...); }
template <class... A> void warn(std::string_view c, const A&... a) { emit(Level::warn, c, a...); }
template <class... A> void info(std::string_view c, const A&... a) { emit(Level::info, c, a...); }
template <class... A> void debug(std::string_view c, const A&... a) { emit(Level::debug, c, a...); }

}  // namespace gw::log
