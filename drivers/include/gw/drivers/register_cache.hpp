// The registers of each meter's last complete poll, as the meter sent them: what the Modbus TCP
// server answers with, so that a park controller reading the same meter adds no bus traffic.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "gw/core/registers.hpp"
#include "gw/core/time.hpp"
#include "gw/drivers/read_plan.hpp"

namespace gw {

/// Thread-safety: store() on the bus thread, read() from any thread.
class RegisterCache {
  public:
    enum class Outcome : std::uint8_t {
        served,      ///< every register asked for was in the last poll, and it is fresh
        stale,       ///< they were, but the last good poll is too old: the meter is not answering
        not_polled,  ///< at least one of them is not read by the gateway's polls
    };

    explicit RegisterCache(std::size_t meters = 0) : entries_(meters) {}

    /// The registers `meter`'s polls read: until a poll succeeds they are `stale`.
    void expect(std::size_t meter, const ReadPlan& plan);

    /// Keeps the blocks of a poll of `meter` whose every read succeeded. They stay fresh until a
    /// poll fails (invalidate), at most `fresh_for` after `read_at`.
    void store(std::size_t meter, const ReadPlan& plan,
               const std::vector<std::vector<std::uint16_t>>& words, SteadyMs read_at,
               std::chrono::milliseconds fresh_for);

    /// The meter did not answer a poll: what is cached is stale from now on.
    void invalidate(std::size_t meter);

    /// Copies `count` registers from `start` into `out` when the outcome is `served`.
    Outcome read(std::size_t meter, RegFunction function, std::uint16_t start, std::uint16_t count,
                 SteadyMs now, std::uint16_t* out) const;

  private:
    struct Block {
        RegFunction function;
        std::uint16_t start;
        std::vector<std::uint16_t> words;
    };
    struct Entry {
        std::vector<Block> blocks;
        SteadyMs fresh_until{};
        bool filled = false;  ///< a poll succeeded at least once
    };
    static void set_blocks(Entry& e, const ReadPlan& plan);
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
};

}  // namespace gw
