// RTU over TCP.
#include "gw/drivers/rtu_over_tcp_link.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gw/core/log.hpp"
#include "gw/drivers/modbus_link.hpp"
#include "gw/drivers/rtu_frame.hpp"

namespace gw {

using namespace std::chrono;
using steady = steady_clock;

namespace {

/// Waits until `fd` is ready for `events` or `deadline`; false on timeout.
bool wait_for(int fd, short events, steady::time_point deadline) {
    for (;;) {
        const auto left = duration_cast<milliseconds>(deadline - steady::now()).count();
        if (left < 0) return false;
        pollfd p{fd, events, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left) + 1);
        if (r > 0) return true;
        if (r == 0) return steady::now() < deadline ? wait_for(fd, events, deadline) : false;
        if (errno != EINTR) return true;  // let the read or write report it
    }
}

}  // namespace

RtuOverTcpLink::RtuOverTcpLink(LinkConfig config)
    : config_(std::move(config)),
      connect_backoff_(milliseconds{100}, milliseconds{config_.reconnect_max_ms}),
      gap_(config_.frame_gap()) {}

RtuOverTcpLink::~RtuOverTcpLink() {
    close();
}

void RtuOverTcpLink::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

Status RtuOverTcpLink::connect(SteadyMs now) {
    auto fail = [&](const std::string& why) -> Status {
        if (fd_ >= 0) close();
        const long long backoff = connect_backoff_.fail().count();
        next_attempt_ = now + milliseconds{backoff};
        return make_error(Errc::modbus_connect,
                          "link " + config_.id + ": cannot connect to " + config_.host + ":" +
                              std::to_string(config_.port) + ": " + why + " (retry in " +
                              std::to_string(backoff) + " ms)");
    };
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(config_.port);
    if (const int rc = ::getaddrinfo(config_.host.c_str(), port.c_str(), &hints, &found); rc != 0)
        return fail(::gai_strerror(rc));
    std::string why = "no address";
    for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
        fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd_ < 0) {
            why = std::strerror(errno);
            continue;
        }
        int err = 0;
        if (::connect(fd_, a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                const auto deadline = steady::now() + milliseconds{config_.response_timeout_ms};
                if (!wait_for(fd_, POLLOUT, deadline)) {
                    err = ETIMEDOUT;
                } else {
                    socklen_t len = sizeof err;
                    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
                }
            }
        }
        if (err != 0) {
            why = std::strerror(err);
            close();
        }
    }
    ::freeaddrinfo(found);
    if (fd_ < 0) return fail(why);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect_backoff_.failures() > 0)
        log::info("modbus", "link ", config_.id, " connected after ", connect_backoff_.failures(),
                  " failed attempt(s)");
    connect_backoff_.reset();
    next_attempt_ = now;
    return {};
}

Error RtuOverTcpLink::lost(const std::string& what, const std::string& why) {
    close();
    next_attempt_ = SteadyMs{};
    return make_error(Errc::modbus_connect, what + ": connection lost (" + why + ")");
}

void RtuOverTcpLink::settle() {
    if (fd_ < 0) return;
    flushed_bytes_ += drain_line(fd_, settle_time(config_.response_timeout_ms, gap_.gap()),
                                 milliseconds{config_.response_timeout_ms});
    gap_.frame_ended();
}

Status RtuOverTcpLink::transact(const std::vector<std::uint8_t>& req, std::size_t reply_bytes,
                                const std::string& what, const Check& check) {
    const int fc = req[1];
    // Whatever is still on the line (a reply later than the last settle) is not ours.
    flushed_bytes_ += drain_line(fd_, milliseconds{0}, milliseconds{0});
    gap_.wait();
    ++requests_;
    wire_bytes_ += req.size() + reply_bytes;
    for (std::size_t sent = 0; sent < req.size();) {
        const ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            if (!wait_for(fd_, POLLOUT, steady::now() + milliseconds{config_.response_timeout_ms}))
                return lost(what, "cannot send");
            continue;
        }
        if (n <= 0) return lost(what, std::strerror(errno));
        sent += static_cast<std::size_t>(n);
    }

    // The reply: the first byte within the response timeout, then each further chunk within the
    // byte timeout, until the frame is as long as its header says.
    frame_.clear();
    const auto first_deadline = steady::now() + milliseconds{config_.response_timeout_ms};
    std::size_t want = 0;
    for (;;) {
        const auto deadline =
            frame_.empty() ? first_deadline : steady::now() + milliseconds{config_.byte_timeout_ms};
        if (!wait_for(fd_, POLLIN, deadline)) {
            settle();
            if (frame_.empty())
                return make_error(Errc::modbus_timeout,
                                  what + ": no reply within " +
                                      std::to_string(config_.response_timeout_ms) + " ms");
            return make_error(Errc::modbus_bad_reply, what + ": the reply stopped after " +
                                                          std::to_string(frame_.size()) + " bytes");
        }
        std::uint8_t buf[260];
        const std::size_t room =
            want == 0 ? 3 - std::min<std::size_t>(frame_.size(), 3) : want - frame_.size();
        const ssize_t n = ::recv(fd_, buf, std::max<std::size_t>(room, 1), 0);
        if (n == 0) return lost(what, "the converter closed the connection");
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return lost(what, std::strerror(errno));
        }
        frame_.insert(frame_.end(), buf, buf + n);
        if (want == 0) want = rtu::reply_length(frame_, fc);
        if (want != 0 && frame_.size() >= want) break;
    }
    gap_.frame_ended();
    const rtu::Reply r = check(frame_);
    switch (r.kind) {
        case rtu::ReplyKind::ok:
            return {};
        case rtu::ReplyKind::exception:
            return make_error(Errc::modbus_exception,
                              what + ": " + modbus_exception_name(r.exception_code));
        case rtu::ReplyKind::bad_crc:
            settle();
            return make_error(Errc::modbus_crc, what + ": " + r.detail);
        case rtu::ReplyKind::wrong_unit:
        case rtu::ReplyKind::malformed:
            settle();
            return make_error(Errc::modbus_bad_reply,
                              what + ": malformed reply (" + r.detail + ")");
    }
    return {};
}

Status RtuOverTcpLink::ensure_connected(SteadyMs now) {
    if (fd_ >= 0) return {};
    if (now < next_attempt_)
        return make_error(Errc::modbus_connect,
                          "link " + config_.id + " is down; next attempt in " +
                              std::to_string((next_attempt_ - now).count()) + " ms");
    return connect(now);
}

Status RtuOverTcpLink::write(int unit, std::uint16_t start, const std::uint16_t* values,
                             std::uint16_t count, SteadyMs now) {
    if (Status st = ensure_connected(now); !st) return st;
    const std::string what = "unit " + std::to_string(unit) + " write " + std::to_string(start) +
                             "+" + std::to_string(count);
    return transact(rtu::write_request(unit, start, values, count), 8, what,
                    [&](std::span<const std::uint8_t> frame) {
                        return rtu::check_write_reply(frame, unit, start, count);
                    });
}

Status RtuOverTcpLink::read(int unit, RegFunction function, std::uint16_t start,
                            std::uint16_t count, std::uint16_t* out, SteadyMs now) {
    if (Status st = ensure_connected(now); !st) return st;
    const std::string what = "unit " + std::to_string(unit) + " " +
                             (function == RegFunction::holding ? "holding" : "input") + " " +
                             std::to_string(start) + "+" + std::to_string(count);
    const std::vector<std::uint8_t> req = rtu::read_request(unit, function, start, count);
    const int fc = req[1];
    const Check check = [&](std::span<const std::uint8_t> frame) {
        return rtu::check_reply(frame, unit, fc, count, out);
    };
    Status last;
    for (int attempt = 0; attempt <= config_.retries; ++attempt) {
        last = transact(req, 5 + 2U * count, what, check);
        if (last) return last;
        const Errc code = static_cast<Errc>(last.error().code.value());
        if (code == Errc::modbus_exception || code == Errc::modbus_connect) break;
    }
    return last;
}

}  // namespace gw
