// stderr logger. Under systemd (JOURNAL_STREAM set) lines carry sd-daemon priority prefixes and
// no timestamp, because journald stamps them; on a terminal they carry a UTC timestamp.
#include "gw/core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>

#include "gw/core/text.hpp"
#include "gw/core/time.hpp"

namespace gw::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;

std::string_view name(Level l) {
    switch (l) {
        case Level::error:
            return "ERROR";
        case Level::warn:
            return "WARN";
        case Level::info:
            return "INFO";
        case Level::debug:
            return "DEBUG";
    }
    return "?";
}

// sd-daemon(3) priorities: 3 err, 4 warning, 6 info, 7 debug.
std::string_view prefix(Level l) {
    switch (l) {
        case Level::error:
            return "<3>";
        case Level::warn:
            return "<4>";
        case Level::info:
            return "<6>";
        case Level::debug:
            return "<7>";
    }
    return "<6>";
}

}  // namespace

bool parse_level(std::string_view text, Level& out) {
    for (Level l : {Level::error, Level::warn, Level::info, Level::debug}) {
        std::string lower(name(l));
        for (char& c : lower) c = static_cast<char>(c - 'A' + 'a');
        if (text == lower) {
            out = l;
            return true;
        }
    }
    return false;
}

void set_level(Level level) {
    g_level = static_cast<int>(level);
}
Level level() {
    return static_cast<Level>(g_level.load());
}
bool enabled(Level l) {
    return static_cast<int>(l) <= g_level.load();
}

void write(Level lvl, std::string_view component, std::string_view message) {
    std::string line;
    line.reserve(message.size() + 64);
    if (g_journal) {
        line += prefix(lvl);
    } else {
        line += format_utc_ms(std::chrono::time_point_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now()));
        line += ' ';
    }
    line += name(lvl);
    line += ' ';
    line += component;
    line += ": ";
    // One record per line: a newline or an escape sequence inside a message must not split it
    // in journald or repaint a terminal.
    line += log_safe(message, 4096);
    line += '\n';
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) break;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

Summary::Summary(Level level, std::string component, std::string cause,
                 std::chrono::milliseconds period)
    : level_(level), component_(std::move(component)), cause_(std::move(cause)), period_(period) {}

void Summary::note(SteadyMs now, std::string_view example) {
    ++total_;
    ++pending_;
    last_example_ = std::string(example.substr(0, 200));
    if (!last_line_ || now - *last_line_ >= period_) report(now, last_example_);
}

void Summary::flush(SteadyMs now) {
    if (pending_ > 0 && last_line_ && now - *last_line_ >= period_) report(now, last_example_);
}

void Summary::report(SteadyMs now, std::string_view example) {
    if (pending_ <= 1 && !last_line_)
        gw::log::emit(level_, component_, cause_, ": ", example);
    else
        gw::log::emit(level_, component_, cause_, ": ", pending_,
                      " time(s) since the last report (", total_, " in all); latest: ", example);
    pending_ = 0;
    last_line_ = now;
}

}  // namespace gw::log
