// The seam between the bus poller and a Modbus transport, in the manner of libmodbus' own
// backend table: the same few operations whatever carries the frames.
#pragma once

#include <cstdint>
#include <memory>

#include "gw/core/config.hpp"
#include "gw/core/error.hpp"
#include "gw/core/registers.hpp"
#include "gw/core/time.hpp"

namespace gw {

/// One Modbus link as the bus poller uses it: it connects on demand, reads registers one
/// request at a time, and reports every failure as a named error.
///
/// Thread-safety: none; one link belongs to one bus thread, which takes turns for all meters on
/// it. requests() and wire_bytes() may be read from any thread.
///
/// Errors (gw::Errc): modbus_connect (cannot connect, or the connection was lost: the link
/// closes itself and reconnects on a later call, after a capped exponential backoff),
/// modbus_timeout, modbus_crc, modbus_bad_reply (wrong length, wrong function, wrong unit,
/// malformed), modbus_exception (the message names the exception code). None is fatal.
class RegisterReader {
  public:
    virtual ~RegisterReader() = default;

    virtual const LinkConfig& config() const = 0;
    virtual bool connected() const = 0;
    /// When the next connection attempt may be made (now, if connected).
    virtual SteadyMs next_attempt() const = 0;
    virtual void close() = 0;

    /// Reads `count` registers from `start` of unit `unit` into `out`, retrying timeouts and
    /// CRC/format errors up to the link's `retries` (an exception reply is not retried).
    virtual Status read(int unit, RegFunction function, std::uint16_t start, std::uint16_t count,
                        std::uint16_t* out, SteadyMs now) = 0;

    /// Writes `count` holding registers from `start` of unit `unit` (FC16), once: a write is not
    /// retried, as the meter may have acted on it. Links that cannot write say so.
    virtual Status write(int unit, std::uint16_t start, const std::uint16_t* values,
                         std::uint16_t count, SteadyMs now) {
        (void)unit, (void)start, (void)values, (void)count, (void)now;
        return make_error(Errc::modbus_bad_reply, "link " + config().id + " cannot write");
    }

    /// Requests sent and bytes on the wire (request + expected reply), for bus-time figures.
    virtual std::uint64_t requests() const = 0;
    virtual std::uint64_t wire_bytes() const = 0;
};

/// The transport of a configured link (libmodbus TCP or RTU).
std::unique_ptr<RegisterReader> make_register_reader(const LinkConfig& link);

}  // namespace gw
