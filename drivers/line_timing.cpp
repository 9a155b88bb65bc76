// Flushing the line.
#include "gw/drivers/line_timing.hpp"

#include <poll.h>
#include <unistd.h>

#include <array>

namespace gw {

std::size_t drain_line(int fd, std::chrono::milliseconds silence, std::chrono::milliseconds cap) {
    using clock = std::chrono::steady_clock;
    const auto until = clock::now() + cap;
    std::size_t dropped = 0;
    std::array<unsigned char, 256> buf{};
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
        const auto wait = std::min(silence, left);
        if (wait.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(wait.count()));
        if (r <= 0) break;  // silent long enough (or an error: the next read reports it)
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n <= 0) break;
        dropped += static_cast<std::size_t>(n);
    }
    return dropped;
}

}  // namespace gw
