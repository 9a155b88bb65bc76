// RTU frames with CRC over a TCP stream: the transparent mode of serial-to-Ethernet converters,
// which libmodbus cannot speak. Serial-line etiquette over the stream: one transaction at a time,
// t3.5 plus inter_frame_delay_ms between frames, late or partial replies flushed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "gw/core/backoff.hpp"
#include "gw/core/config.hpp"
#include "gw/drivers/line_timing.hpp"
#include "gw/drivers/register_reader.hpp"
#include "gw/drivers/rtu_frame.hpp"

namespace gw {

class RtuOverTcpLink final : public RegisterReader {
  public:
    explicit RtuOverTcpLink(LinkConfig config);
    ~RtuOverTcpLink() override;
    RtuOverTcpLink(const RtuOverTcpLink&) = delete;
    RtuOverTcpLink& operator=(const RtuOverTcpLink&) = delete;

    const LinkConfig& config() const override { return config_; }
    bool connected() const override { return fd_ >= 0; }
    SteadyMs next_attempt() const override { return next_attempt_; }
    void close() override;

    /// Errors as RegisterReader says; a reply from another unit is modbus_bad_reply. After a
    /// timeout or a broken reply the line is drained until silent, so that a late reply never
    /// answers the next request.
    Status read(int unit, RegFunction function, std::uint16_t start, std::uint16_t count,
                std::uint16_t* out, SteadyMs now) override;

    /// One FC16 write, not retried.
    Status write(int unit, std::uint16_t start, const std::uint16_t* values, std::uint16_t count,
                 SteadyMs now) override;

    std::uint64_t requests() const override { return requests_; }
    std::uint64_t wire_bytes() const override { return wire_bytes_; }
    /// Bytes thrown away: late replies, partial frames, noise.
    std::uint64_t flushed_bytes() const { return flushed_bytes_; }

  private:
    using Check = std::function<rtu::Reply(std::span<const std::uint8_t>)>;
    Status ensure_connected(SteadyMs now);
    Status connect(SteadyMs now);
    Error lost(const std::string& what, const std::string& why);
    /// One request and its reply (`reply_bytes` long when all is well), checked by `check`; no
    /// retry.
    Status transact(const std::vector<std::uint8_t>& req, std::size_t reply_bytes,
                    const std::string& what, const Check& check);
    void settle();

    LinkConfig config_;
    int fd_ = -1;
    Backoff connect_backoff_;
    SteadyMs next_attempt_{};
    FrameGap gap_;
    std::vector<std::uint8_t> frame_;
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> wire_bytes_{0};
    std::atomic<std::uint64_t> flushed_bytes_{0};
};

}  // namespace gw
