// The read planner: one meter's registers coalesced into the fewest Modbus reads allowed.
#pragma once

#include <chrono>
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

/// What a read costs on a link, in bus time: each transaction (request and reply headers, the
/// silences between frames, the meter's turnaround) and each register it carries.
struct ReadCost {
    std::chrono::microseconds transaction{0};
    std::chrono::microseconds per_register{0};
};

/// The cost model of `link`: on RTU framing (serial, or over TCP) the wire time at its baud rate
/// (11 bits a character): 13 bytes of request and reply framing, two frame gaps and the
/// meters' turnaround per transaction, 2 characters per register. On Modbus TCP only the
/// turnaround counts: a register costs next to nothing on Ethernet.
ReadCost read_cost(const LinkConfig& link);

/// Coalesces `wanted` registers of `map` as plan_reads below, but reads a hole between two
/// values only where that costs less bus time than another transaction (and the hole is at most
/// `max_gap`).
ReadPlan plan_reads(const RegisterMap& map, const std::vector<Reg>& wanted, const ReadCost& cost,
                    unsigned max_gap, unsigned max_registers = k_max_registers_per_read);

/// Bus time one sample of `plan` takes on the wire at least: its frames and the gaps between
/// them, without the meter's turnaround.
std::chrono::microseconds wire_minimum(const ReadPlan& plan, const LinkConfig& link);

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
