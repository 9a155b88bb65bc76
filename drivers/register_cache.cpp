// The shared register cache.
#include "gw/drivers/register_cache.hpp"

#include <algorithm>

namespace gw {

void RegisterCache::set_blocks(Entry& e, const ReadPlan& plan) {
    e.blocks.resize(plan.blocks.size());
    for (std::size_t b = 0; b < plan.blocks.size(); ++b) {
        e.blocks[b].function = plan.blocks[b].function;
        e.blocks[b].start = plan.blocks[b].start;
        e.blocks[b].words.assign(plan.blocks[b].count, 0);
    }
}

void RegisterCache::expect(std::size_t meter, const ReadPlan& plan) {
    std::lock_guard lock(mutex_);
    if (meter >= entries_.size()) entries_.resize(meter + 1);
    set_blocks(entries_[meter], plan);
}

void RegisterCache::store(std::size_t meter, const ReadPlan& plan,
                          const std::vector<std::vector<std::uint16_t>>& words, SteadyMs read_at,
                          std::chrono::milliseconds fresh_for) {
    std::lock_guard lock(mutex_);
    if (meter >= entries_.size()) entries_.resize(meter + 1);
    Entry& e = entries_[meter];
    set_blocks(e, plan);
    for (std::size_t b = 0; b < plan.blocks.size(); ++b)
        std::copy_n(words[b].begin(), plan.blocks[b].count, e.blocks[b].words.begin());
    e.fresh_until = read_at + fresh_for;
    e.filled = true;
}

void RegisterCache::invalidate(std::size_t meter) {
    std::lock_guard lock(mutex_);
    if (meter < entries_.size()) entries_[meter].filled = false;
}

RegisterCache::Outcome RegisterCache::read(std::size_t meter, RegFunction function,
                                           std::uint16_t start, std::uint16_t count, SteadyMs now,
                                           std::uint16_t* out) const {
    std::lock_guard lock(mutex_);
    if (meter >= entries_.size()) return Outcome::not_polled;
    const Entry& e = entries_[meter];
    for (unsigned i = 0; i < count; ++i) {
        const unsigned addr = unsigned{start} + i;
        bool found = false;
        for (const Block& b : e.blocks) {
            if (b.function != function || addr < b.start || addr >= b.start + b.words.size())
                continue;
            out[i] = b.words[addr - b.start];
            found = true;
            break;
        }
        if (!found) return Outcome::not_polled;
    }
    return e.filled && now <= e.fresh_until ? Outcome::served : Outcome::stale;
}

}  // namespace gw
