// A meter's link state from its recent polls: what /api/v1/status, the meter details and the
// commissioning page show.
#pragma once

#include <cstdint>

namespace gw {

/// unknown: not polled yet. ok: every recent poll gave a valid sample. degraded: some did and
/// some did not. down: none did (no reply, Modbus exceptions, a lost connection, or only
/// invalid values). It describes the meter, not the connection: a meter behind a working
/// Modbus TCP gateway that answers every read with an exception is down.
enum class LinkState : std::uint8_t { unknown, ok, degraded, down };

const char* link_state_name(LinkState s);

/// The outcome of a meter's last polls (at most k_window), newest first.
///
/// Thread-safety: none; owned by the thread that receives the poll results.
class PollHistory {
  public:
    static constexpr int k_window = 10;

    /// A poll ended: with a valid sample, or without one.
    void note(bool valid_sample);
    LinkState state() const;
    /// Polls noted so far, up to k_window.
    int polls() const { return count_; }

  private:
    std::uint32_t valid_ = 0;  ///< bit i: the i-th newest poll gave a valid sample
    int count_ = 0;
};

}  // namespace gw
