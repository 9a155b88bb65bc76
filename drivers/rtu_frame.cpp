// RTU framing.
#include "gw/drivers/rtu_frame.hpp"

namespace gw::rtu {

std::uint16_t crc16(std::span<const std::uint8_t> bytes) {
    std::uint16_t crc = 0xFFFF;
    for (std::uint8_t b : bytes) {
        crc ^= b;
        for (int i = 0; i < 8; ++i)
            crc = (crc & 1U) != 0 ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001U)
                                  : static_cast<std::uint16_t>(crc >> 1);
    }
    return crc;
}

std::vector<std::uint8_t> read_request(int unit, RegFunction function, std::uint16_t start,
                                       std::uint16_t count) {
    std::vector<std::uint8_t> f{static_cast<std::uint8_t>(unit),
                                static_cast<std::uint8_t>(function == RegFunction::holding ? 3 : 4),
                                static_cast<std::uint8_t>(start >> 8),
                                static_cast<std::uint8_t>(start & 0xFF),
                                static_cast<std::uint8_t>(count >> 8),
                                static_cast<std::uint8_t>(count & 0xFF)};
    const std::uint16_t crc = crc16(f);
    f.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    f.push_back(static_cast<std::uint8_t>(crc >> 8));
    return f;
}

std::vector<std::uint8_t> write_request(int unit, std::uint16_t start, const std::uint16_t* values,
                                        std::uint16_t count) {
    std::vector<std::uint8_t> f{
        static_cast<std::uint8_t>(unit),       16,
        static_cast<std::uint8_t>(start >> 8), static_cast<std::uint8_t>(start & 0xFF),
        static_cast<std::uint8_t>(count >> 8), static_cast<std::uint8_t>(count & 0xFF),
        static_cast<std::uint8_t>(2 * count)};
    for (std::uint16_t i = 0; i < count; ++i) {
        f.push_back(static_cast<std::uint8_t>(values[i] >> 8));
        f.push_back(static_cast<std::uint8_t>(values[i] & 0xFF));
    }
    const std::uint16_t crc = crc16(f);
    f.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    f.push_back(static_cast<std::uint8_t>(crc >> 8));
    return f;
}

std::size_t reply_length(std::span<const std::uint8_t> head, int function_code) {
    if (head.size() < 3) return 0;
    if (head[1] == (function_code | 0x80)) return 5;
    if (function_code == 16) return 8;  // unit, function, start, count, CRC
    return 5 + std::size_t{head[2]};
}

Reply check_write_reply(std::span<const std::uint8_t> frame, int unit, std::uint16_t start,
                        std::uint16_t count) {
    Reply r;
    if (frame.size() < 5) {
        r.detail = "a frame of " + std::to_string(frame.size()) + " bytes";
        return r;
    }
    const std::size_t n = frame.size();
    const std::uint16_t crc = crc16(frame.first(n - 2));
    if (frame[n - 2] != (crc & 0xFF) || frame[n - 1] != (crc >> 8)) {
        r.kind = ReplyKind::bad_crc;
        r.detail = "CRC error in the reply";
        return r;
    }
    if (frame[0] != unit) {
        r.kind = ReplyKind::wrong_unit;
        r.detail = "a reply from unit " + std::to_string(frame[0]) + ", expected unit " +
                   std::to_string(unit);
        return r;
    }
    if (frame[1] == (16 | 0x80) && n == 5) {
        r.kind = ReplyKind::exception;
        r.exception_code = frame[2];
        return r;
    }
    if (n != 8 || frame[1] != 16 || ((frame[2] << 8) | frame[3]) != start ||
        ((frame[4] << 8) | frame[5]) != count) {
        r.detail = "the write reply does not echo the request";
        return r;
    }
    r.kind = ReplyKind::ok;
    return r;
}

Reply check_reply(std::span<const std::uint8_t> frame, int unit, int function_code,
                  std::uint16_t count, std::uint16_t* out) {
    Reply r;
    if (frame.size() < 5) {
        r.detail = "a frame of " + std::to_string(frame.size()) + " bytes";
        return r;
    }
    const std::size_t n = frame.size();
    const std::uint16_t crc = crc16(frame.first(n - 2));
    if (frame[n - 2] != (crc & 0xFF) || frame[n - 1] != (crc >> 8)) {
        r.kind = ReplyKind::bad_crc;
        r.detail = "CRC error in the reply";
        return r;
    }
    if (frame[0] != unit) {
        r.kind = ReplyKind::wrong_unit;
        r.detail = "a reply from unit " + std::to_string(frame[0]) + ", expected unit " +
                   std::to_string(unit);
        return r;
    }
    if (frame[1] == (function_code | 0x80) && n == 5) {
        r.kind = ReplyKind::exception;
        r.exception_code = frame[2];
        return r;
    }
    if (frame[1] != function_code) {
        r.detail = "function " + std::to_string(frame[1]) + " in the reply, expected " +
                   std::to_string(function_code);
        return r;
    }
    if (frame[2] != 2U * count || n != 5U + 2U * count) {
        r.detail = "the reply carries " + std::to_string(frame[2]) + " bytes, expected " +
                   std::to_string(2U * count);
        return r;
    }
    for (std::size_t i = 0; i < count; ++i)
        out[i] = static_cast<std::uint16_t>((frame[3 + 2 * i] << 8) | frame[4 + 2 * i]);
    r.kind = ReplyKind::ok;
    return r;
}

}  // namespace gw::rtu
