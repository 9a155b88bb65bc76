// Bus thread.
#include "gw/drivers/bus_poller.hpp"

#include <algorithm>

#include "gw/core/log.hpp"

namespace gw {

using namespace std::chrono;

BusPoller::BusPoller(const LinkConfig& link, std::vector<MeterConfig> meters, const Clock& clock,
                     Sink sink)
    : BusPoller(make_register_reader(link), std::move(meters), clock, std::move(sink)) {}

BusPoller::BusPoller(std::unique_ptr<RegisterReader> reader, std::vector<MeterConfig> meters,
                     const Clock& clock, Sink sink)
    : link_(std::move(reader)), meters_(std::move(meters)), clock_(clock), sink_(std::move(sink)) {
    const ReadCost cost = read_cost(link_->config());
    for (const auto& m : meters_) {
        const auto gap = static_cast<unsigned>(m.max_read_gap);
        plans_.push_back(plan_reads(m.registers, needed_registers(m), cost, gap));
        detail_plans_.push_back(plan_reads(m.registers, detail_registers(m), cost, gap));
        cache_.expect(plans_.size() - 1, plans_.back());
    }
    counters_.resize(meters_.size());
    consecutive_timeouts_.resize(meters_.size());
    due_.assign(meters_.size(), clock_.steady_now());
}

BusPoller::~BusPoller() {
    stop();
}

std::chrono::milliseconds BusPoller::progress_deadline() const {
    long long worst = 0;
    for (std::size_t i = 0; i < meters_.size(); ++i) {
        const auto& l = link_->config();
        const long long poll = 8LL * meters_[i].poll_ms;
        const long long requests =
            static_cast<long long>(detail_plans_[i].transactions()) * (l.retries + 1);
        worst = std::max(worst, poll + requests * (l.response_timeout_ms + l.request_delay_ms));
    }
    return milliseconds{worst + link_->config().reconnect_max_ms + 10'000};
}

void BusPoller::start() {
    stopping_ = false;
    progress_ms_ = clock_.steady_now().time_since_epoch().count();
    thread_ = std::thread([this] { run(); });
}

void BusPoller::stop() {
    std::deque<PassRead> left;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    link_->close();
    {
        std::lock_guard lock(mutex_);
        left.swap(pass_queue_);
    }
    for (PassRead& r : left)
        r.done(make_error(Errc::modbus_connect, "the gateway is stopping"), {});
}

PollResult BusPoller::poll_once(std::size_t i) {
    const MeterConfig& m = meters_[i];
    const ReadPlan& plan = detail_ ? detail_plans_[i] : plans_[i];
    MeterCounters& c = counters_[i];
    PollResult r;
    r.meter = i;
    r.meter_ean = m.meter_ean;
    r.at = clock_.utc_now();
    ++c.polls;

    buffers_.resize(plan.blocks.size());
    std::optional<Error> error;
    const SteadyMs started = clock_.steady_now();
    for (std::size_t b = 0; b < plan.blocks.size() && !error; ++b) {
        const ReadBlock& blk = plan.blocks[b];
        buffers_[b].resize(blk.count);
        ++r.transactions;
        const SteadyMs sent = clock_.steady_now();
        Status st =
            link_->read(m.unit_id, blk.function, blk.start, blk.count, buffers_[b].data(), sent);
        c.latency.note(static_cast<double>((clock_.steady_now() - sent).count()) / 1000.0);
        if (!st) error = st.error();
    }
    const SteadyMs steady = clock_.steady_now();
    // Shared while the meter's polls succeed: the first failed read makes it stale at once. So
    // that a bus thread that falls behind cannot serve old values either, it also goes stale
    // two periods (and this poll's duration) after this poll.
    if (!error)
        cache_.store(i, plan, buffers_, steady,
                     milliseconds{2 * m.poll_ms} + duration_cast<milliseconds>(steady - started));
    else
        cache_.invalidate(i);  // a read failed: the meter (or its link) is not answering
    if (!error) {
        std::optional<Error> decode_error;
        RawValues raw = decode_blocks(m.registers, plan, buffers_, decode_error);
        auto sample = make_sample(m, raw, r.at, steady);
        if (sample) {
            r.sample = *sample;
            if (decode_error) {
                // Only an energy register was unusable: the sample stands, the value is counted.
                (decode_error->code == Errc::value_not_finite ? c.not_finite : c.not_available)++;
                log::debug("modbus", "meter ", m.meter_ean.str(), ": ", decode_error->message);
            }
        } else {
            // Prefer the decoder's precise reason (sentinel or NaN) over "no valid value".
            error = sample.error().code == Errc::value_not_available && decode_error
                        ? *decode_error
                        : sample.error();
        }
    }

    if (error) {
        switch (static_cast<Errc>(error->code.value())) {
            case Errc::modbus_timeout:
                ++c.timeouts;
                break;
            case Errc::modbus_exception:
                ++c.exceptions;
                break;
            case Errc::modbus_crc:
                ++c.crc_errors;
                break;
            case Errc::modbus_bad_reply:
                ++c.bad_replies;
                break;
            case Errc::modbus_connect:
                ++c.link_errors;
                break;
            case Errc::value_not_finite:
                ++c.not_finite;
                break;
            case Errc::value_implausible:
                ++c.implausible;
                break;
            default:
                ++c.not_available;
                break;
        }
        error->message = "meter " + m.meter_ean.to_string() + " (link " + link_->config().id +
                         ", unit " + std::to_string(m.unit_id) + "): " + error->message;
        r.error = error;
    } else {
        ++c.samples;
    }
    consecutive_timeouts_[i] =
        error && error->code == Errc::modbus_timeout ? consecutive_timeouts_[i] + 1 : 0;
    r.counters = c;
    r.link_up = link_->connected();
    return r;
}

bool BusPoller::submit(PassRead read, std::size_t max_queued) {
    {
        std::lock_guard lock(mutex_);
        if (pass_queue_.size() >= max_queued) return false;
        pass_queue_.push_back(std::move(read));
    }
    cv_.notify_all();
    return true;
}

void BusPoller::pass_through(PassRead& read) {
    std::vector<std::uint16_t> words(read.count);
    Status st;
    const SteadyMs now = clock_.steady_now();
    if (now > read.expires)
        st = make_error(Errc::modbus_timeout, "waited too long for the bus");
    else if (!read.values.empty())
        st = link_->write(read.unit, read.start, read.values.data(),
                          static_cast<std::uint16_t>(read.values.size()), now);
    else
        st = link_->read(read.unit, read.function, read.start, read.count, words.data(), now);
    ++pass_reads_;
    read.done(st, std::move(words));
}

void BusPoller::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const auto next = std::min_element(due_.begin(), due_.end());
        const std::size_t i = static_cast<std::size_t>(next - due_.begin());
        const auto wait = *next - clock_.steady_now();
        if (wait > milliseconds{0} && !pass_queue_.empty()) {
            // The bus is free until the next meter is due: one read for someone else.
            PassRead read = std::move(pass_queue_.front());
            pass_queue_.pop_front();
            lock.unlock();
            pass_through(read);
            lock.lock();
            continue;
        }
        if (wait > milliseconds{0}) {
            cv_.wait_for(lock, wait);
            continue;  // re-check stop and the schedule
        }
        lock.unlock();
        PollResult r = poll_once(i);
        const SteadyMs now = clock_.steady_now();
        const milliseconds period{meters_[i].poll_ms};
        SteadyMs due = due_[i] + period;
        if (due < now) due = now;  // fell behind: skip, never burst
        if (consecutive_timeouts_[i] > 1 && meters_.size() > 1) {
            const int factor = 1 << std::min(consecutive_timeouts_[i] - 1, 3);
            due = now + period * factor;
        }
        if (!link_->connected()) due = std::max(due, link_->next_attempt());
        if (r.link_up != link_was_up_) {
            if (r.link_up)
                log::info("modbus", "link ", link_->config().id, " up");
            else
                log::warn("modbus", "link ", link_->config().id,
                          " down: ", r.error ? r.error->message : "");
            link_was_up_ = r.link_up;
        }
        if (r.error) log::debug("modbus", r.error->message);
        progress_ms_ = now.time_since_epoch().count();
        sink_(std::move(r));
        lock.lock();
        due_[i] = due;
    }
}

}  // namespace gw
