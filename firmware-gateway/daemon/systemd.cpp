// sd_notify(3) protocol.
#include "gw/daemon/systemd.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace gw::systemd {

bool notify(const std::string& state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || (path[0] != '/' && path[0] != '@') ||
        std::strlen(path) >= sizeof(sockaddr_un::sun_path))
        return false;
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + std::strlen(path));
    const bool ok =
        ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                 len) == static_cast<ssize_t>(state.size());
    ::close(fd);
    return ok;
}

std::optional<std::chrono::microseconds> watchdog_period() {
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (usec == nullptr) return std::nullopt;
    const char* pid = std::getenv("WATCHDOG_PID");
    if (pid != nullptr && std::atol(pid) != static_cast<long>(::getpid())) return std::nullopt;
    const long long v = std::atoll(usec);
    if (v <= 0) return std::nullopt;
    return std::chrono::microseconds{v};
}

}  // namespace gw::systemd
