// Per-meter 5-minute aggregation (SPEC 2): time-weighted means, coverage, quality, energy
// readings at interval ends, the energy-delta method and the sampled/energy cross-check.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "gw/core/config.hpp"
#include "gw/core/records.hpp"
#include "gw/core/time.hpp"
#include "gw/drivers/sample.hpp"

namespace gw {

/// An interval ready to be committed: its values, its energy reading and its events.
struct ClosedInterval {
    IntervalRecord record;
    std::optional<EnergyReading> energy;
    std::vector<EventRecord> events;
};

/// What a stop leaves: the intervals whose end has passed (final, to commit) and the state of
/// the interval still open (to keep aside, never as data).
struct StopState {
    std::vector<ClosedInterval> closed;
    std::vector<CarryRecord> carry;
};

/// Aggregates one meter's samples into end-stamped intervals. Pure logic: time comes only
/// from the samples' stamps and the `now` passed in, so tests drive it with scripted times.
///
/// - Each sample holds its values from its stamp until the next sample, at most 3 poll
///   periods; held spans are clipped at interval boundaries and counted in each interval.
/// - An interval is stored only if at least one valid sample was taken inside it.
/// - Once an interval is closed it is never reopened: a sample stamped in a closed interval
///   (a late sample, or the wall clock stepped back) is dropped and counted.
/// - A jump of the wall clock (UTC and steady clocks disagree by more than 2 s between two
///   samples) closes the open intervals at once and nothing is held across the jump, so a
///   jump either way never produces duplicate or overlapping intervals.
///
/// Thread-safety: none; owned by the daemon's main thread.
class IntervalAggregator {
  public:
    IntervalAggregator(const MeterConfig& meter, int interval_s);

    /// Continues the interval whose state a previous run kept aside at a clean stop: its held
    /// time, sums, sample count and starting energy reading become this run's starting point
    /// (no flash-wearing checkpoints: only a clean stop keeps it; after a crash the interval
    /// restarts from nothing). A state of an interval that is already closed is ignored.
    void seed(const CarryRecord& carry);
    /// Every interval ending at or before `end` is stored already (by an earlier run): samples
    /// inside them are dropped, so that a stored interval is never written again.
    void resume_after(SysS end);
    /// Adds a valid sample. Samples arrive in the order they were taken.
    void add(const Sample& s);
    /// Closes the intervals whose end + grace has passed at `now` (and any closed by a jump).
    std::vector<ClosedInterval> close_due(SysMs now, std::chrono::milliseconds grace);
    /// Stops at `now`: intervals whose end has passed are closed (final, as their coverage
    /// says); the interval still open is handed out as its carried state, not as data.
    StopState stop(SysMs now);

    /// The end of the earliest open interval, if any (to schedule the next close).
    std::optional<SysS> next_end() const;
    std::uint64_t dropped_samples() const { return dropped_; }
    std::uint64_t clock_jumps() const { return jumps_; }
    std::uint64_t cross_check_failures() const { return cross_check_failures_; }

  private:
    struct Acc {
        double p_ws = 0, q_ws = 0;  ///< value x held milliseconds
        std::array<double, 3> u_ws{};
        std::int64_t held_ms = 0;
        int samples = 0;
    };
    /// The energy counters of the last sample at or before an interval boundary.
    struct Reading {
        SysMs at;
        std::optional<double> e_import, e_export, eq_import, eq_export;
    };

    /// Accounts the last sample's value from held_to_ up to `until` (never past its expiry).
    void hold_last(SysMs until);
    ClosedInterval close(SysS end, Acc& acc);
    void close_open(std::vector<ClosedInterval>& out);

    const MeterConfig& meter_;
    IntervalGrid grid_;
    std::chrono::milliseconds max_hold_;
    std::optional<Sample> last_;
    SysMs held_to_{};                    ///< the last sample's hold is accounted up to here
    std::map<SysS, Acc> open_;           ///< by interval end
    std::map<SysS, Reading> boundary_;   ///< energy reading at each boundary (last two kept)
    std::optional<SysS> closed_until_;   ///< every interval ending at or before this is closed
    std::vector<ClosedInterval> ready_;  ///< closed by a clock jump, not yet handed out
    std::uint64_t dropped_ = 0, jumps_ = 0, cross_check_failures_ = 0;
};

}  // namespace gw
