// Bus etiquette shared by the RTU links (serial and over TCP): the silence between frames, and
// flushing a late or partial reply before the next request.
#pragma once

#include <chrono>
#include <cstddef>
#include <thread>

namespace gw {

/// Keeps the silence between two frames: wait() returns no earlier than `gap` after the last
/// frame ended (the last byte of a reply, or the moment a wait for one gave up).
class FrameGap {
  public:
    explicit FrameGap(std::chrono::microseconds gap) : gap_(gap) {}

    void wait() const {
        if (gap_.count() > 0) std::this_thread::sleep_until(last_end_ + gap_);
    }
    void frame_ended() { last_end_ = std::chrono::steady_clock::now(); }
    std::chrono::microseconds gap() const { return gap_; }

  private:
    std::chrono::microseconds gap_;
    std::chrono::steady_clock::time_point last_end_{};
};

/// Reads and discards what `fd` delivers until it has been silent for `silence`, or `cap` has
/// passed. Returns the bytes discarded. Stops early on end of stream or an error (the caller's
/// next read will see it).
std::size_t drain_line(int fd, std::chrono::milliseconds silence, std::chrono::milliseconds cap);

/// How long the line must be silent after a timeout or a broken reply before the next request:
/// long enough for a late reply to arrive and be thrown away, at most the response timeout.
inline std::chrono::milliseconds settle_time(int response_timeout_ms,
                                             std::chrono::microseconds gap) {
    using namespace std::chrono;
    const milliseconds floor = duration_cast<milliseconds>(gap) + milliseconds{1};
    return std::max(floor, milliseconds{std::min(response_timeout_ms, 100)});
}

}  // namespace gw
