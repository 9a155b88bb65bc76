// libmodbus-backed link.
#include "gw/drivers/modbus_link.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <modbus.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "gw/core/log.hpp"
#include "gw/drivers/rtu_over_tcp_link.hpp"

namespace gw {

using namespace std::chrono;

Status check_serial_device(const std::string& device) {
    struct stat sb {};
    if (::stat(device.c_str(), &sb) != 0)
        return make_error(Errc::modbus_connect, "serial device " + device + " does not exist (" +
                                                    std::strerror(errno) +
                                                    "); check the RS-485 adapter and link.device");
    if (!S_ISCHR(sb.st_mode))
        return make_error(Errc::modbus_connect, device + " is not a character device");
    if (::access(device.c_str(), R_OK | W_OK) != 0)
        return make_error(Errc::modbus_connect,
                          "no permission to open serial device " + device + " (" +
                              std::strerror(errno) +
                              "); add the service user to the device's group, e.g. dialout");
    return {};
}

/// Whether another process holds the serial device: it is opened exclusively (EBUSY), or a
/// link of another process has it locked.
bool serial_device_busy(const std::string& device) {
    const int fd = ::open(device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return errno == EBUSY;
    const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return locked;
}

std::string modbus_exception_name(int code) {
    static const char* const names[] = {"",
                                        "illegal function",
                                        "illegal data address",
                                        "illegal data value",
                                        "server device failure",
                                        "acknowledge",
                                        "server device busy",
                                        "negative acknowledge",
                                        "memory parity error",
                                        "not defined",
                                        "gateway path unavailable",
                                        "gateway target device failed to respond"};
    const char* n = code > 0 && code <= 11 ? names[code] : "unknown";
    return "exception " + std::to_string(code) + " (" + n + ")";
}

ModbusLink::ModbusLink(LinkConfig config)
    : config_(std::move(config)),
      connect_backoff_(milliseconds{100}, milliseconds{config_.reconnect_max_ms}),
      gap_(config_.frame_gap()) {}

std::unique_ptr<RegisterReader> make_register_reader(const LinkConfig& link) {
    if (link.type == LinkType::rtu_over_tcp) return std::make_unique<RtuOverTcpLink>(link);
    return std::make_unique<ModbusLink>(link);
}

ModbusLink::~ModbusLink() {
    close();
    if (ctx_ != nullptr) modbus_free(ctx_);
}

void ModbusLink::close() {
    if (ctx_ != nullptr && connected_) modbus_close(ctx_);
    connected_ = false;
}

Status ModbusLink::ensure_connected(SteadyMs now) {
    if (connected_) return {};
    if (now < next_attempt_)
        return make_error(Errc::modbus_connect,
                          "link " + config_.id + " is down; next attempt in " +
                              std::to_string((next_attempt_ - now).count()) + " ms");
    return connect(now);
}

Status ModbusLink::connect(SteadyMs now) {
    if (ctx_ == nullptr) {
        if (config_.type == LinkType::tcp) {
            const std::string port = std::to_string(config_.port);
            ctx_ = modbus_new_tcp_pi(config_.host.c_str(), port.c_str());
        } else {
            ctx_ = modbus_new_rtu(config_.device.c_str(), config_.baud, config_.parity,
                                  config_.data_bits, config_.stop_bits);
        }
        if (ctx_ == nullptr)
            return make_error(Errc::modbus_connect,
                              "link " + config_.id +
                                  ": cannot create a Modbus context: " + modbus_strerror(errno));
        modbus_set_error_recovery(ctx_, MODBUS_ERROR_RECOVERY_NONE);
        const auto rt = static_cast<std::uint32_t>(config_.response_timeout_ms);
        const auto bt = static_cast<std::uint32_t>(config_.byte_timeout_ms);
        modbus_set_response_timeout(ctx_, rt / 1000, (rt % 1000) * 1000);
        modbus_set_byte_timeout(ctx_, bt / 1000, (bt % 1000) * 1000);
    }
    if (modbus_connect(ctx_) != 0) {
        const int err = errno;
        const long long backoff = connect_backoff_.fail().count();
        next_attempt_ = now + milliseconds{backoff};
        if (config_.type == LinkType::rtu && serial_device_busy(config_.device))
            return make_error(Errc::modbus_connect,
                              "link " + config_.id + ": the serial device " + config_.device +
                                  " is in use by another process (" + k_serial_busy_hint + ")");
        const std::string where = config_.type == LinkType::tcp
                                      ? config_.host + ":" + std::to_string(config_.port)
                                      : config_.device;
        return make_error(Errc::modbus_connect, "link " + config_.id + ": cannot connect to " +
                                                    where + ": " + modbus_strerror(err) +
                                                    " (retry in " + std::to_string(backoff) +
                                                    " ms)");
    }
    // One master per RS-485 line: the serial device is locked while the link holds it, so
    // that gatewayctl never talks over the running gateway (nor the other way round).
    if (config_.type == LinkType::rtu && ::flock(modbus_get_socket(ctx_), LOCK_EX | LOCK_NB) != 0) {
        modbus_close(ctx_);
        const long long backoff = connect_backoff_.fail().count();
        next_attempt_ = now + milliseconds{backoff};
        return make_error(Errc::modbus_connect,
                          "link " + config_.id + ": the serial device " + config_.device +
                              " is in use by another process (" + k_serial_busy_hint + ")");
    }
    connected_ = true;
    if (connect_backoff_.failures() > 0)
        log::info("modbus", "link ", config_.id, " connected after ", connect_backoff_.failures(),
                  " failed attempt(s)");
    connect_backoff_.reset();
    next_attempt_ = now;
    return {};
}

Error ModbusLink::classify(int err, const std::string& what) {
    if (err > MODBUS_ENOBASE && err <= MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_TARGET)
        return make_error(Errc::modbus_exception,
                          what + ": " + modbus_exception_name(err - MODBUS_ENOBASE));
    if (err == ETIMEDOUT)
        return make_error(
            Errc::modbus_timeout,
            what + ": no reply within " + std::to_string(config_.response_timeout_ms) + " ms");
    if (err == EMBBADCRC) return make_error(Errc::modbus_crc, what + ": CRC error in the reply");
    if (err == EMBBADDATA || err == EMBMDATA || err == EMBBADEXC || err == EMBUNKEXC ||
        err == EMBBADSLAVE)
        return make_error(Errc::modbus_bad_reply,
                          what + ": malformed reply (" + modbus_strerror(err) + ")");
    // Anything else is the transport itself: close, and reconnect on a later poll.
    close();
    next_attempt_ = SteadyMs{};
    return make_error(Errc::modbus_connect,
                      what + ": connection lost (" + modbus_strerror(err) + ")");
}

Status ModbusLink::read(int unit, RegFunction function, std::uint16_t start, std::uint16_t count,
                        std::uint16_t* out, SteadyMs now) {
    if (Status st = ensure_connected(now); !st) return st;
    const std::string what = "unit " + std::to_string(unit) + " " +
                             (function == RegFunction::holding ? "holding" : "input") + " " +
                             std::to_string(start) + "+" + std::to_string(count);
    Error last;
    for (int attempt = 0; attempt <= config_.retries; ++attempt) {
        // A late reply to an earlier request must never be taken for this one: what is still
        // buffered goes, and the line keeps its silence between frames (t3.5 and any extra).
        modbus_flush(ctx_);
        gap_.wait();
        modbus_set_slave(ctx_, unit);
        ++requests_;
        // RTU: addr+fn+start+count+crc = 8, reply addr+fn+n+data+crc = 5 + 2n. TCP adds 6 bytes of
        // MBAP, no CRC.
        wire_bytes_ += config_.type == LinkType::rtu ? 8 + 5 + 2u * count : 12 + 9 + 2u * count;
        const int n = function == RegFunction::holding
                          ? modbus_read_registers(ctx_, start, count, out)
                          : modbus_read_input_registers(ctx_, start, count, out);
        const int err = errno;  // read it before anything else can change it
        gap_.frame_ended();
        if (n == count) return {};
        if (config_.type == LinkType::rtu && connected_ && n < 0 &&
            (err < MODBUS_ENOBASE || err > MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_TARGET)) {
            // A timeout or a broken frame: wait until the line is silent, so that a late reply
            // is thrown away here rather than read as the answer to the next request.
            flushed_bytes_ += drain_line(modbus_get_socket(ctx_),
                                         settle_time(config_.response_timeout_ms, gap_.gap()),
                                         milliseconds{config_.response_timeout_ms});
            gap_.frame_ended();
        }
        last = n < 0 ? classify(err, what)
                     : make_error(Errc::modbus_bad_reply,
                                  what + ": reply has " + std::to_string(n) + " registers");
        const Errc code = static_cast<Errc>(last.code.value());
        if (code == Errc::modbus_exception || code == Errc::modbus_connect) break;
    }
    return last;
}

Status ModbusLink::write(int unit, std::uint16_t start, const std::uint16_t* values,
                         std::uint16_t count, SteadyMs now) {
    if (Status st = ensure_connected(now); !st) return st;
    modbus_flush(ctx_);
    gap_.wait();
    modbus_set_slave(ctx_, unit);
    ++requests_;
    wire_bytes_ += config_.type == LinkType::rtu ? 9 + 2u * count + 8 : 13 + 2u * count + 12;
    const int n = modbus_write_registers(ctx_, start, count, values);
    const int err = errno;
    gap_.frame_ended();
    if (n == count) return {};
    return n < 0 ? classify(err, "unit " + std::to_string(unit) + " write " +
                                     std::to_string(start) + "+" + std::to_string(count))
                 : make_error(Errc::modbus_bad_reply,
                              "the write reply names " + std::to_string(n) + " registers");
}

}  // namespace gw
