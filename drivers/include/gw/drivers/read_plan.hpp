// The read planner: one meter's registers coalesced into the fewest Modbus reads allowed.
#pragma once

#include <cstdint>
#include <vector>

#include "gw/core/config.hpp"
#include "gw/core/registers.hpp"

namespace gw {

inline constexpr unsigned k_max_registers_per_read = 125;  ///< Modbus limit for FC03/FC04

struct ReadBlock {
    RegFunction function = RegFunction::holding;
    std::uint16_t start = 0;
    std::uint16_t count = 0;
    std::vector<Reg> members;  ///< the named values inside this block
};

struct ReadPlan {
    std::vector<ReadBlock> blocks;
    std::size_t transactions() const { return blocks.size(); }
    /// Registers on the wire per sample, gaps included.
    unsigned registers() const;
};

/// Coalesces `wanted` registers of `map`: same function, sorted by address, merged while the
/// block stays within `max_registers` and the hole between two values is at most `max_gap`.
ReadPlan plan_reads(const RegisterMap& map, const std::vector<Reg>& wanted, unsigned max_gap,
                    unsigned max_registers = k_max_registers_per_read);

/// The registers a sample of this meter needs: total power where the map has it (else the
/// three phases), the voltages of its voltage mode, and every energy register it has.
std::vector<Reg> needed_registers(const MeterConfig& meter);
/// Those, and the per-phase active and reactive powers the map has: what the poller reads
/// while the commissioning page watches (it shows P and Q per phase).
std::vector<Reg> detail_registers(const MeterConfig& meter);

}  // namespace gw
