// RTU frames with CRC over a TCP stream: the transparent mode of serial-to-Ethernet converters,
// which libmodbus cannot speak. Serial-line etiquette over the stream: one transaction at a time,
// t3.5 plus inter_frame_delay_ms between frames, late or partial replies flushed.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "gw/core/backoff.hpp"
#include "gw/core/config.hpp"
#include "gw/drivers/line_timing.hpp"
#include "gw/drivers/register_reader.hpp"

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

    std::uint64_t requests() const override { return requests_; }
    std::uint64_t wire_bytes() const override { return wire_bytes_; }
    /// Bytes thrown away: late replies, partial frames, noise.
    std::uint64_t flushed_bytes() const { return flushed_bytes_; }

  private:
    Status connect(SteadyMs now);
    Error lost(const std::string& what, const std::string& why);
    /// One request and its reply, no retry.
    Status transact(int unit, RegFunction function, std::uint16_t start, std::uint16_t count,
                    std::uint16_t* out, const std::string& what);
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
