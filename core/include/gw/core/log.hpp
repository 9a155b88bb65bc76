// Levelled log lines on stderr; journald reads the <N> priority prefix when it is the reader.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "gw/core/time.hpp"

namespace gw::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

/// Parses error|warn|info|debug.
bool parse_level(std::string_view text, Level& out);
void set_level(Level level);
Level level();
bool enabled(Level level);

/// Writes one line atomically (one write(2)), safe from any thread. Control characters and
/// invalid UTF-8 in the message are escaped (\xNN) and a message is cut at 4 KiB, so untrusted
/// text can never forge or split a line.
void write(Level level, std::string_view component, std::string_view message);

template <class... Args>
void emit(Level lvl, std::string_view component, const Args&... args) {
    if (!enabled(lvl)) return;
    std::ostringstream os;
    (os << ... << args);
    write(lvl, component, os.str());
}

template <class... A>
void error(std::string_view c, const A&... a) {
    emit(Level::error, c, a...);
}
template <class... A>
void warn(std::string_view c, const A&... a) {
    emit(Level::warn, c, a...);
}
template <class... A>
void info(std::string_view c, const A&... a) {
    emit(Level::info, c, a...);
}
template <class... A>
void debug(std::string_view c, const A&... a) {
    emit(Level::debug, c, a...);
}

/// One cause of repeated log lines (refused connections, failed logins, a failing store)
/// collapsed into at most one line per period: the first occurrence is logged at once, later
/// ones are counted and reported in the next line for that cause.
///
/// Thread-safety: none; one owner thread.
class Summary {
  public:
    Summary(Level level, std::string component, std::string cause,
            std::chrono::milliseconds period = std::chrono::minutes{1});
    /// Counts one occurrence; logs "<cause>: <example>" when the period since the last line is
    /// over (with how many more happened meanwhile).
    void note(SteadyMs now, std::string_view example);
    /// Logs the occurrences counted since the last line, if any and the period is over.
    void flush(SteadyMs now);
    std::uint64_t total() const { return total_; }

  private:
    void report(SteadyMs now, std::string_view example);

    Level level_;
    std::string component_, cause_;
    std::chrono::milliseconds period_;
    std::optional<SteadyMs> last_line_;
    std::uint64_t pending_ = 0, total_ = 0;
    std::string last_example_;
};

}  // namespace gw::log
