#include "gw/drivers/link_state.hpp"

namespace gw {

const char* link_state_name(LinkState s) {
    switch (s) {
        case LinkState::ok:
            return "ok";
        case LinkState::degraded:
            return "degraded";
        case LinkState::down:
            return "down";
        case LinkState::unknown:
            break;
    }
    return "unknown";
}

void PollHistory::note(bool valid_sample) {
    valid_ = ((valid_ << 1U) | (valid_sample ? 1U : 0U)) & ((1U << k_window) - 1U);
    if (count_ < k_window) ++count_;
}

LinkState PollHistory::state() const {
    if (count_ == 0) return LinkState::unknown;
    const std::uint32_t seen = (1U << count_) - 1U;
    if (valid_ == seen) return LinkState::ok;
    if (valid_ == 0) return LinkState::down;
    return LinkState::degraded;
}

}  // namespace gw
