// Interval aggregation.
#include "gw/aggregation/aggregator.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "gw/core/log.hpp"

namespace gw {

using namespace std::chrono;

namespace {
constexpr milliseconds k_jump_tolerance{2000};
SysMs to_ms(SysS t) {
    return SysMs{t.time_since_epoch()};
}
}  // namespace

IntervalAggregator::IntervalAggregator(const MeterConfig& meter, int interval_s)
    : meter_(meter), grid_(interval_s), max_hold_(3 * meter.poll_ms) {}

void IntervalAggregator::add(const Sample& s) {
    if (last_) {
        const auto d_utc = s.at - last_->at;
        const auto d_steady = s.steady - last_->steady;
        if (d_utc - d_steady > k_jump_tolerance || d_steady - d_utc > k_jump_tolerance) {
            ++jumps_;
            log::warn("aggregate", "meter ", meter_.meter_ean.str(), ": wall clock jumped by ",
                      duration_cast<seconds>(d_utc - d_steady).count(),
                      " s; closing the open interval(s)");
            // The last value held for the real time that passed (the steady clock knows it).
            hold_last(std::min(to_ms(grid_.end_of(last_->at)), last_->at + d_steady));
            close_open(ready_);
            last_.reset();
        }
    }
    const SysS end = grid_.end_of(s.at);
    if (closed_until_ && end <= *closed_until_) {
        ++dropped_;  // its interval is closed: never reopen it
        last_.reset();
        return;
    }
    hold_last(s.at);
    open_[end].samples += 1;
    if (s.e_import_wh || s.e_export_wh || s.eq_import_varh || s.eq_export_varh) {
        // The reading at a boundary is the last sample at or before it: this sample is the
        // candidate for its interval's end, and is the start's reading if it lies exactly on it.
        const Reading reading{s.at, s.e_import_wh, s.e_export_wh, s.eq_import_varh,
                              s.eq_export_varh};
        boundary_[end] = reading;
        if (s.at == to_ms(grid_.start_of_end(end))) boundary_[grid_.start_of_end(end)] = reading;
    }
    last_ = s;
    held_to_ = s.at;
}

void IntervalAggregator::seed(const CarryRecord& c) {
    if (closed_until_ && c.end <= *closed_until_) return;
    if (c.interval_s != grid_.length().count() || !grid_.aligned(c.end))
        return;  // another interval length
    Acc& acc = open_[c.end];
    acc.held_ms += c.held_ms;
    acc.samples += c.samples;
    acc.p_ws += c.p_ws;
    acc.q_ws += c.q_ws;
    for (std::size_t i = 0; i < 3; ++i) acc.u_ws[i] += c.u_ws[i];
    const SysS start = grid_.start_of_end(c.end);
    if (c.start_at && !boundary_.count(start))
        boundary_[start] =
            Reading{*c.start_at, c.e_import_wh, c.e_export_wh, c.eq_import_varh, c.eq_export_varh};
}

void IntervalAggregator::resume_after(SysS end) {
    if (!closed_until_ || end > *closed_until_) closed_until_ = end;
    open_.erase(open_.begin(), open_.upper_bound(end));
}

void IntervalAggregator::hold_last(SysMs until) {
    if (!last_) return;
    until = std::min(until, last_->at + max_hold_);
    SysMs a = held_to_;
    while (a < until) {
        const SysS end = grid_.end_of(a);
        const SysMs b = std::min(until, to_ms(end));
        const auto ms = static_cast<double>((b - a).count());
        if (!closed_until_ || end > *closed_until_) {
            Acc& acc = open_[end];
            acc.p_ws += last_->p_w * ms;
            acc.q_ws += last_->q_var * ms;
            for (std::size_t i = 0; i < 3; ++i) acc.u_ws[i] += last_->u_v[i] * ms;
            acc.held_ms += (b - a).count();
        }
        a = b;
    }
    held_to_ = std::max(held_to_, until);
}

std::optional<SysS> IntervalAggregator::next_end() const {
    if (open_.empty()) return std::nullopt;
    return open_.begin()->first;
}

std::vector<ClosedInterval> IntervalAggregator::close_due(SysMs now, milliseconds grace) {
    std::vector<ClosedInterval> out = std::move(ready_);
    ready_.clear();
    while (!open_.empty() && to_ms(open_.begin()->first) + grace <= now) {
        const SysS end = open_.begin()->first;
        // No sample after this end yet: the last sample's hold still counts up to the end.
        hold_last(std::min(to_ms(end), now));
        auto node = open_.extract(open_.begin());
        if (node.mapped().samples > 0) out.push_back(close(end, node.mapped()));
        closed_until_ = end;
    }
    return out;
}

StopState IntervalAggregator::stop(SysMs now) {
    StopState out;
    out.closed = std::move(ready_);
    ready_.clear();
    hold_last(now);
    for (auto& [end, acc] : open_) {
        if (to_ms(end) <= now) {
            if (acc.samples > 0) out.closed.push_back(close(end, acc));
            closed_until_ = end;
            continue;
        }
        if (acc.samples == 0) continue;
        CarryRecord c{meter_.meter_ean, end};
        c.interval_s = static_cast<int>(grid_.length().count());
        c.saved_at = now;
        c.held_ms = acc.held_ms;
        c.samples = acc.samples;
        c.p_ws = acc.p_ws;
        c.q_ws = acc.q_ws;
        c.u_ws = acc.u_ws;
        if (auto it = boundary_.find(grid_.start_of_end(end)); it != boundary_.end()) {
            c.start_at = it->second.at;
            c.e_import_wh = it->second.e_import;
            c.e_export_wh = it->second.e_export;
            c.eq_import_varh = it->second.eq_import;
            c.eq_export_varh = it->second.eq_export;
        }
        out.carry.push_back(c);
    }
    open_.clear();
    last_.reset();
    return out;
}

void IntervalAggregator::close_open(std::vector<ClosedInterval>& out) {
    for (auto& [end, acc] : open_) {
        if (acc.samples > 0) out.push_back(close(end, acc));
        closed_until_ = end;
    }
    open_.clear();
}

ClosedInterval IntervalAggregator::close(SysS end, Acc& acc) {
    ClosedInterval c;
    IntervalRecord& r = c.record;
    r.meter_ean = meter_.meter_ean;
    r.end = end;
    r.interval_s = static_cast<int>(grid_.length().count());
    r.samples = acc.samples;
    const double len_ms = static_cast<double>(duration_cast<milliseconds>(grid_.length()).count());
    r.coverage = std::min(1.0, static_cast<double>(acc.held_ms) / len_ms);
    r.quality = r.coverage >= 0.9 ? Quality::gemeten : Quality::onvolledig;
    if (acc.held_ms > 0) {
        const double h = static_cast<double>(acc.held_ms);
        r.p_w = acc.p_ws / h;
        r.q_var = acc.q_ws / h;
        r.u1_v = acc.u_ws[0] / h;
        r.u2_v = acc.u_ws[1] / h;
        r.u3_v = acc.u_ws[2] / h;
    }

    // Energy: the reading at this end, and the delta since the previous boundary.
    const auto at_end = boundary_.find(end);
    const auto at_start = boundary_.find(grid_.start_of_end(end));
    // A reading older than the hold limit is stale: the meter was not answering at the boundary.
    auto fresh = [&](auto it, SysS boundary) {
        return it != boundary_.end() && to_ms(boundary) - it->second.at <= max_hold_;
    };
    const bool end_fresh = fresh(at_end, end);
    if (end_fresh) {
        const Reading& e = at_end->second;
        c.energy =
            EnergyReading{meter_.meter_ean, end, e.e_import, e.e_export, e.eq_import, e.eq_export};
    }
    if (end_fresh && fresh(at_start, grid_.start_of_end(end))) {
        const Reading& a = at_start->second;
        const Reading& b = at_end->second;
        const double span_h = static_cast<double>((b.at - a.at).count()) / 3'600'000.0;
        auto net = [](const std::optional<double>& i0, const std::optional<double>& i1,
                      const std::optional<double>& e0,
                      const std::optional<double>& e1) -> std::optional<double> {
            if (!i0 || !i1 || !e0 || !e1) return std::nullopt;
            return (*i1 - *i0) - (*e1 - *e0);
        };
        const auto p_energy = net(a.e_import, b.e_import, a.e_export, b.e_export);
        const auto q_energy = net(a.eq_import, b.eq_import, a.eq_export, b.eq_export);
        if (span_h > 0 && p_energy) {
            const double p_avg = *p_energy / span_h;  // Wh / h = W
            if (meter_.method == AveragingMethod::energy) {
                r.p_w = p_avg;
                if (q_energy) r.q_var = *q_energy / span_h;
            } else if (r.p_w) {
                const double gap = std::fabs(*r.p_w - p_avg);
                const double allowed =
                    std::max(meter_.cross_check_tolerance_pct / 100.0 * std::fabs(p_avg),
                             meter_.cross_check_min_kw * 1000.0);
                if (gap > allowed) {
                    r.flags |= k_flag_cross_check;
                    ++cross_check_failures_;
                    std::ostringstream os;
                    os << "interval " << format_utc(end) << ": sampled " << *r.p_w / 1000
                       << " kW, energy delta " << p_avg / 1000 << " kW (allowed gap "
                       << allowed / 1000 << " kW)";
                    log::warn("aggregate", "meter ", meter_.meter_ean.str(),
                              " cross-check: ", os.str());
                    c.events.push_back(
                        {to_ms(end), meter_.meter_ean.to_string(), "cross_check", os.str()});
                }
            }
        }
    }
    // Keep only the boundary the next interval starts from.
    boundary_.erase(boundary_.begin(), boundary_.lower_bound(end));
    return c;
}

}  // namespace gw
