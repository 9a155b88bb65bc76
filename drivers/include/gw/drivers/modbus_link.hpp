// One Modbus link (TCP or RTU) over libmodbus: connect with backoff, flush, timed reads, named
// errors.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "gw/core/backoff.hpp"
#include "gw/core/config.hpp"
#include "gw/core/error.hpp"
#include "gw/core/time.hpp"
#include "gw/drivers/line_timing.hpp"
#include "gw/drivers/register_reader.hpp"

struct _modbus;  // NOLINT(bugprone-reserved-identifier): libmodbus' own name for its context

namespace gw {

/// Why a serial device can be busy: one master per line.
inline constexpr const char* k_serial_busy_hint =
    "one master per RS-485 line: is meter-gateway running on it? Its commissioning page shows the "
    "same values; or stop it first: systemctl stop meter-gateway";

/// A serial device the link will open: exists, is a character device, and this user may read
/// and write it. The error names the device and the likely fix.
Status check_serial_device(const std::string& device);

/// A RegisterReader on one libmodbus context (TCP or RTU). We do not use libmodbus' own link
/// recovery, which can loop and block: the link closes itself and reconnects with a backoff.
class ModbusLink final : public RegisterReader {
  public:
    explicit ModbusLink(LinkConfig config);
    ~ModbusLink();
    ModbusLink(const ModbusLink&) = delete;
    ModbusLink& operator=(const ModbusLink&) = delete;

    const LinkConfig& config() const override { return config_; }
    bool connected() const override { return connected_; }

    /// Connects unless connected; refuses early (without I/O) while the backoff runs.
    Status ensure_connected(SteadyMs now);
    /// When the next connection attempt may be made (now, if connected).
    SteadyMs next_attempt() const override { return next_attempt_; }
    void close() override;

    /// Reads `count` registers from `start` of unit `unit` into `out`. Flushes the line and
    /// keeps the silence between frames (LinkConfig::frame_gap) first; after a timeout on RTU,
    /// drains the line until silent; retries timeouts and CRC/format errors up to the
    /// link's `retries`. Exception replies are not retried (the meter meant them).
    Status read(int unit, RegFunction function, std::uint16_t start, std::uint16_t count,
                std::uint16_t* out, SteadyMs now) override;

    Status write(int unit, std::uint16_t start, const std::uint16_t* values, std::uint16_t count,
                 SteadyMs now) override;

    /// Requests sent and bytes on the wire (request + expected reply), for bus-time figures.
    std::uint64_t requests() const override { return requests_; }
    std::uint64_t wire_bytes() const override { return wire_bytes_; }
    /// Bytes thrown away after timeouts and broken frames (late replies, noise).
    std::uint64_t flushed_bytes() const { return flushed_bytes_; }

  private:
    Status connect(SteadyMs now);
    Error classify(int err, const std::string& what);

    LinkConfig config_;
    _modbus* ctx_ = nullptr;
    bool connected_ = false;
    Backoff connect_backoff_;  ///< 100 ms doubling up to reconnect_max_ms
    SteadyMs next_attempt_{};
    FrameGap gap_;
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> flushed_bytes_{0};
    std::atomic<std::uint64_t> wire_bytes_{0};
};

/// "exception 2 (illegal data address)" and the like.
std::string modbus_exception_name(int code);

}  // namespace gw
