// Modbus RTU framing: the CRC, a read request, and the checks a reply must pass. Shared by the
// RTU-over-TCP link; pure functions, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gw/core/registers.hpp"

namespace gw::rtu {

/// CRC-16/MODBUS (polynomial 0xA001 reflected, initial 0xFFFF), sent low byte first.
std::uint16_t crc16(std::span<const std::uint8_t> bytes);

/// An FC03/FC04 request: unit, function, start, count, CRC (8 bytes).
std::vector<std::uint8_t> read_request(int unit, RegFunction function, std::uint16_t start,
                                       std::uint16_t count);

/// An FC16 request writing `values` from `start`.
std::vector<std::uint8_t> write_request(int unit, std::uint16_t start, const std::uint16_t* values,
                                        std::uint16_t count);

/// Bytes a reply needs in all, from what has arrived so far: 0 while fewer than 3 bytes are
/// there; 5 for an exception; 5 + byte count for a normal reply.
std::size_t reply_length(std::span<const std::uint8_t> head, int function_code);

/// What a complete reply frame says.
enum class ReplyKind : std::uint8_t {
    ok,
    exception,   ///< `exception_code` is set
    bad_crc,     ///< the CRC does not match: noise or a truncated frame
    wrong_unit,  ///< a reply from another unit (a late one, or a unit-id clash on the bus)
    malformed,   ///< wrong function or byte count
};

struct Reply {
    ReplyKind kind = ReplyKind::malformed;
    int exception_code = 0;
    std::string detail;  ///< for the error message
};

/// Checks a complete reply `frame` against the request (unit, function code, count) and, when
/// it is ok, writes the registers to `out` (big-endian words, as on the wire).
Reply check_reply(std::span<const std::uint8_t> frame, int unit, int function_code,
                  std::uint16_t count, std::uint16_t* out);

/// Checks a complete FC16 reply: it echoes the start and count.
Reply check_write_reply(std::span<const std::uint8_t> frame, int unit, std::uint16_t start,
                        std::uint16_t count);

}  // namespace gw::rtu
