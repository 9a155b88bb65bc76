// One reading of a meter, in primary units and the gateway's sign convention (+ import).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "gw/core/config.hpp"
#include "gw/core/error.hpp"
#include "gw/core/time.hpp"
#include "gw/drivers/read_plan.hpp"

namespace gw {

/// A valid sample: all power and voltage values present and plausible. Energy registers are
/// optional (a meter without them, or one whose energy value was not available).
struct Sample {
    SysMs at;                     ///< UTC stamp (system clock) of the read
    SteadyMs steady;              ///< steady-clock time of the read
    double p_w = 0;               ///< net active power over 3 phases, W, + = import (LDN)
    double q_var = 0;             ///< net reactive power, var, same sign convention
    std::array<double, 3> u_v{};  ///< per-phase voltage of the meter's voltage mode, V
    /// Per-phase active and reactive power where the meter has those registers, same sign
    /// convention and ratios (for the commissioning page; intervals use the totals).
    std::array<std::optional<double>, 3> p_phase_w, q_phase_var;
    std::optional<double> e_import_wh, e_export_wh, eq_import_varh, eq_export_varh;
};

/// Decoded register values of one read, by Reg, before sign and ratios.
using RawValues = std::array<std::optional<double>, k_reg_count>;

/// Decodes the words of each plan block (block i's words in blocks[i]) into raw values.
/// A register whose value is a sentinel or not finite is left empty and reported in `first_error`.
RawValues decode_blocks(const RegisterMap& map, const ReadPlan& plan,
                        std::span<const std::vector<std::uint16_t>> words,
                        std::optional<Error>& first_error);

/// Turns raw values into a sample: sums phases where there is no total register, applies
/// CT/VT ratios and the sign convention (which also swaps import/export energy), and checks
/// plausibility. Errors: value_not_available / value_not_finite (a needed value is missing),
/// value_implausible (outside the meter's limits). A pure function.
Result<Sample> make_sample(const MeterConfig& meter, const RawValues& raw, SysMs at,
                           SteadyMs steady);

}  // namespace gw
