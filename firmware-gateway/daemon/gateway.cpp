// The daemon's main loop.
#include "gw/daemon/gateway.hpp"

#include <boost/asio/post.hpp>
#include <csignal>
#include <sstream>

#include "gw/api/https_server.hpp"
#include "gw/api/metrics_server.hpp"
#include "gw/core/log.hpp"
#include "gw/daemon/setup.hpp"
#include "gw/daemon/systemd.hpp"
#include "gw/forwarding/mqtt_forwarder.hpp"

namespace gw {

using namespace std::chrono;
namespace asio = boost::asio;

namespace {
constexpr const char* k_log = "gateway";
/// Samples of the open interval kept for the commissioning page (an interval of 3,600 s at a
/// poll period of 1 s has 3,600).
constexpr std::size_t k_max_open_points = 4000;
/// How long after the page's last request for live values the per-phase powers are still read.
constexpr milliseconds k_watch_hold{10'000};
constexpr std::int64_t k_prune_batch = 500;
milliseconds grace_for(const MeterConfig& m) {
    return m.close_grace();
}
}  // namespace

Gateway::Gateway(const Config& config, std::unique_ptr<Store> store, const Clock& clock)
    : config_(config),
      store_(std::move(store)),
      clock_(clock),
      signals_(io_, SIGTERM, SIGINT),
      close_timer_(io_),
      retry_timer_(io_),
      prune_timer_(io_),
      watchdog_timer_(io_) {
    for (const auto& m : config_.meters) {
        aggregators_.emplace_back(m, config_.gateway.interval_s);
        MeterStatus st;
        st.config = &m;
        status_.push_back(st);
    }
    errors_at_last_close_.assign(config_.meters.size(), 0);
    const std::size_t per_day =
        config_.meters.size() * static_cast<std::size_t>(86'400 / config_.gateway.interval_s);
    pending_limit_ = std::clamp<std::size_t>(31 * per_day, 1'000, 50'000);
    for (const auto& link : config_.links) {
        std::vector<MeterConfig> meters;
        std::vector<std::size_t> index;
        for (std::size_t i = 0; i < config_.meters.size(); ++i) {
            if (config_.meters[i].link != link.id) continue;
            meters.push_back(config_.meters[i]);
            index.push_back(i);
        }
        if (meters.empty()) continue;
        const std::size_t p = pollers_.size();
        auto sink = [this, p](PollResult&& r) {
            asio::post(io_, [this, p, r = std::move(r)]() mutable {
                on_poll(poller_meters_[p][r.meter], std::move(r));
            });
        };
        pollers_.push_back(
            std::make_unique<BusPoller>(link, std::move(meters), clock_, std::move(sink)));
        poller_meters_.push_back(std::move(index));
    }
}

Gateway::~Gateway() {
    for (auto& p : pollers_) p->stop();
}

std::uint16_t Gateway::api_port() const {
    return https_ ? https_->port() : 0;
}

GatewayLive Gateway::live() const {
    GatewayLive g;
    g.started_at = started_at_;
    g.clock_trusted = clock_trusted_;
    g.clock_status =
        clock_trusted_
            ? (config_.gateway.trust_clock ? "trusted by configuration (gateway.trust_clock)"
                                           : "synchronised (kernel reports NTP sync)")
            : "not synchronised: no intervals are stamped until the kernel reports NTP sync";
    for (const auto& st : status_) {
        MeterLive m;
        m.meter_ean = st.config->meter_ean.to_string();
        m.link_state = st.polls.state();
        m.last_success = st.last_success;
        m.last_error = st.last_error;
        const auto& c = st.counters;
        m.counters = {{"polls", c.polls},
                      {"samples", c.samples},
                      {"timeouts", c.timeouts},
                      {"exceptions", c.exceptions},
                      {"crc_errors", c.crc_errors},
                      {"malformed", c.bad_replies},
                      {"link_errors", c.link_errors},
                      {"not_available", c.not_available},
                      {"not_finite", c.not_finite},
                      {"implausible", c.implausible},
                      {"dropped_samples", st.dropped_samples},
                      {"untrusted_clock_samples", st.untrusted_samples},
                      {"cross_check_failures", st.cross_check_failures}};
        m.sample = st.last_sample;
        m.latency = st.counters.latency;
        m.committed_gemeten = st.committed_gemeten;
        m.committed_onvolledig = st.committed_onvolledig;
        m.open_end = st.open_end;
        m.open_points = st.open_points;
        for (const auto& held : pending_)
            if (held.record.meter_ean == st.config->meter_ean) {
                m.oldest_uncommitted = held.record.end;
                break;
            }
        g.meters.push_back(std::move(m));
    }
    g.mqtt_state = mqtt_ ? mqtt_->state() : "disabled";
    if (mqtt_) g.mqtt_error = mqtt_->last_error();
    if (mqtt_) g.mqtt_publishes = mqtt_->publishes();
    if (modbus_server_) {
        const ModbusServerCounters& c = modbus_server_->counters();
        g.modbus_server = {{"latest_poll", c.from_cache},
                           {"passed_through", c.passed},
                           {"written", c.written},
                           {"exception", c.exceptions},
                           {"stale", c.stale},
                           {"connections", c.connections},
                           {"bad_frames", c.bad_frames},
                           {"evicted", c.evicted}};
    }
    g.pending_commits = pending_.size();
    g.pending_limit = pending_limit_;
    g.pending_dropped = pending_dropped_;
    if (!store_->data_available()) {
        g.storage_state = "unavailable";
        if (store_->data_error()) g.storage_error = store_->data_error()->message;
    } else if (commit_error_) {
        g.storage_state = "failing";
        g.storage_error = commit_error_->message;
    }
    if (https_) {
        g.tls_certificate = config_.api.tls_cert;
        g.tls_not_after = https_->certificate_not_after();
    }
    return g;
}

void Gateway::stop() {
    asio::post(io_, [this] { shutdown(); });
}

bool Gateway::check_clock() {
    if (clock_trusted_) return true;
    if (config_.gateway.trust_clock) {
        clock_trusted_ = true;
        return true;
    }
    const SteadyMs now = clock_.steady_now();
    if (clock_checked_ != SteadyMs{} && now - clock_checked_ < seconds{10}) return false;
    clock_checked_ = now;
    if (clock_.synchronised()) {
        clock_trusted_ = true;
        log::info(
            k_log,
            "the kernel reports the clock synchronised; intervals are being stamped from now on");
        systemd::notify("STATUS=running");
    }
    return clock_trusted_;
}

int Gateway::run() {
    log::info(k_log, "meter-gateway ", config_.gateway.id, ": ", config_.meters.size(),
              " meter(s) on ", pollers_.size(), " link(s), interval ", config_.gateway.interval_s,
              " s, store ", store_->path());
    started_at_ = clock_.utc_now();
    if (config_.api.enabled) {
        ApiOptions options;
        options.on_watch = [this] { watch(); };
        api_ = std::make_unique<Api>(
            config_, *store_, clock_, version(), [this] { return live(); }, std::move(options));
        // Password checks run on the API's worker thread and come back here: the io thread never
        // waits on them.
        auto server = HttpsServer::start_async(
            io_, config_.api,
            [this](const http::Request& r, HttpsServer::Reply reply) {
                api_->handle_async(r, std::move(reply), [this](std::function<void()> fn) {
                    asio::post(io_, std::move(fn));
                });
            },
            HttpsLimits::from(config_.api));
        if (!server) {
            log::error(k_log, "not started: ", server.error().message);
            return 2;
        }
        https_ = std::move(server).value();
        if (config_.api.metrics_port != 0) {
            auto m = MetricsServer::start(io_, config_.api.metrics_host, config_.api.metrics_port,
                                          [this] { return api_->metrics_text(); });
            if (!m) {
                log::error(k_log, "not started: ", m.error().message);
                return 2;
            }
            metrics_ = std::move(m).value();
        }
        if (auto not_after = https_->certificate_not_after()) {
            const auto left = duration_cast<hours>(*not_after - clock_.utc_now()).count() / 24;
            if (left < 0)
                log::error(k_log, "the TLS certificate ", config_.api.tls_cert, " EXPIRED on ",
                           format_utc(*not_after),
                           ": clients that check it refuse to connect; install a new one");
            else if (left <= 30)
                log::warn(k_log, "the TLS certificate ", config_.api.tls_cert, " expires on ",
                          format_utc(*not_after), ", in ", left,
                          " day(s); install a new one before then");
        }
        auto clients = store_->clients();
        if (clients && clients->empty())
            log::warn(
                k_log,
                "no API client is configured: API calls are refused until one is created with "
                "'gatewayctl --config FILE client add NAME --role reader'");
    }
    if (config_.mqtt.enabled) {
        mqtt_ = std::make_unique<MqttForwarder>(config_, *store_, io_, clock_);
        mqtt_->set_version(version());
        if (Status st = mqtt_->start(); !st) {
            log::error(k_log, "not started: ", st.error().message);
            return 2;
        }
    }

    if (config_.modbus_server.enabled) {
        std::vector<ServedUnit> units;
        for (const ModbusServerUnit& u : config_.modbus_server.units)
            for (std::size_t p = 0; p < pollers_.size(); ++p)
                for (std::size_t j = 0; j < poller_meters_[p].size(); ++j)
                    if (config_.meters[poller_meters_[p][j]].meter_ean == u.meter)
                        units.push_back(
                            {u.unit_id, pollers_[p].get(), j, u.passthrough, u.writable});
        modbus_server_ = std::make_unique<ModbusServer>(io_, config_.modbus_server, units, clock_);
        if (Status st = modbus_server_->start(); !st) {
            log::error(k_log, "not started: ", st.error().message);
            return 2;
        }
    }

    if (store_->data_available()) {
        on_store_ready();
    } else {
        commit_error_ = store_->data_error();
        log::error(
            k_log, "storage unavailable at start (", store_->data_error()->message,
            "): polling goes on; up to ", pending_limit_,
            " closed intervals are held in memory and committed once the store can be written");
        schedule_retry();
    }
    if (!check_clock())
        log::warn(k_log,
                  "waiting for the kernel to report the clock synchronised (NTP) before stamping "
                  "intervals; "
                  "set gateway.trust_clock = true where the clock is known good");

    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        log::info(k_log, "signal ", sig, ": shutting down");
        shutdown();
    });
    for (auto& p : pollers_) p->start();
    schedule_close();
    schedule_prune(minutes{1});
    systemd::notify(clock_trusted_ ? "READY=1\nSTATUS=running"
                                   : "READY=1\nSTATUS=waiting for clock synchronisation");
    schedule_watchdog();
    io_.run();
    log::info(k_log, "stopped");
    return pending_.empty() ? 0 : 1;
}

void Gateway::on_poll(std::size_t m, PollResult&& r) {
    MeterStatus& st = status_[m];
    if (st.link_up != r.link_up) {  // also the first state after start
        (void)store_->append_event({clock_.utc_now(), config_.meters[m].meter_ean.to_string(),
                                    r.link_up ? "link_up" : "link_down",
                                    r.link_up
                                        ? "link " + config_.meters[m].link
                                        : (r.error ? r.error->message : std::string("no reply"))});
    }
    st.link_up = r.link_up;
    st.polls.note(r.sample.has_value());
    st.counters = r.counters;
    if (r.error) {
        if (st.last_error != r.error->message) log::warn(k_log, r.error->message);
        st.last_error = r.error->message;
        return;
    }
    st.last_success = r.at;
    st.last_error.reset();
    st.last_sample = *r.sample;
    const SysS end = IntervalGrid(config_.gateway.interval_s).end_of(r.at);
    if (st.open_end != end) {
        st.open_end = end;
        st.open_points.clear();
    }
    if (st.open_points.size() < k_max_open_points) st.open_points.emplace_back(r.at, r.sample->p_w);
    if (!check_clock()) {
        ++st.untrusted_samples;
        return;
    }
    aggregators_[m].add(*r.sample);
    st.dropped_samples = aggregators_[m].dropped_samples();
}

void Gateway::watch() {
    watched_at_ = clock_.steady_now();
    if (watching_) return;
    watching_ = true;
    for (auto& p : pollers_) p->set_detail(true);
}

void Gateway::schedule_close() {
    const SysMs now = clock_.utc_now();
    milliseconds wait{1000};  // re-check at least every second: the wall clock may jump
    for (std::size_t i = 0; i < aggregators_.size(); ++i) {
        if (auto end = aggregators_[i].next_end()) {
            const auto due = SysMs{end->time_since_epoch()} + grace_for(config_.meters[i]) - now;
            wait = std::min(wait, std::max(milliseconds{10}, duration_cast<milliseconds>(due)));
        }
    }
    close_timer_.expires_after(wait);
    close_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        close_due();
        if (api_) api_->flush_audit();
        if (watching_ && clock_.steady_now() - watched_at_ > k_watch_hold) {
            watching_ = false;  // the page was closed: back to what intervals need
            for (auto& p : pollers_) p->set_detail(false);
        }
        commit_failures_.flush(clock_.steady_now());
        conflicts_.flush(clock_.steady_now());
        schedule_close();
    });
}

void Gateway::close_due() {
    const SysMs now = clock_.utc_now();
    bool committed = false;
    for (std::size_t i = 0; i < aggregators_.size(); ++i) {
        for (ClosedInterval& c : aggregators_[i].close_due(now, grace_for(config_.meters[i]))) {
            // Sample errors since the previous close go into the store with the interval.
            MeterStatus& st = status_[i];
            const std::uint64_t errors = st.counters.errors();
            if (errors > errors_at_last_close_[i]) {
                const auto& k = st.counters;
                std::ostringstream os;
                os << errors - errors_at_last_close_[i] << " sample error(s); totals: timeouts "
                   << k.timeouts << ", exceptions " << k.exceptions << ", crc " << k.crc_errors
                   << ", malformed " << k.bad_replies << ", link " << k.link_errors
                   << ", not available " << k.not_available << ", not finite " << k.not_finite
                   << ", implausible " << k.implausible;
                c.events.push_back(
                    {now, config_.meters[i].meter_ean.to_string(), "sample_errors", os.str()});
                errors_at_last_close_[i] = errors;
            }
            st.cross_check_failures = aggregators_[i].cross_check_failures();
            commit(std::move(c));
            committed = true;
        }
    }
    // One checkpoint per round of commits keeps the write-ahead log small on a small partition.
    if (committed && pending_.empty()) (void)store_->checkpoint();
}

void Gateway::commit(ClosedInterval&& c) {
    // Keep the order: while older intervals wait, a newer one waits behind them.
    if (!pending_.empty() || !store_ready_ || !commit_now(c)) hold(std::move(c));
}

bool Gateway::commit_now(const ClosedInterval& c) {
    const auto& r = c.record;
    auto stored = store_->commit_interval(r, c.energy ? &*c.energy : nullptr, config_.mqtt.enabled,
                                          c.events, clock_.utc_now());
    if (!stored) {
        commit_error_ = stored.error();
        commit_failures_.note(clock_.steady_now(), stored.error().message);
        return false;
    }
    if (!*stored) {
        conflicts_.note(clock_.steady_now(),
                        "meter " + r.meter_ean.to_string() + " interval " + format_utc(r.end));
        return true;
    }
    for (auto& st : status_)
        if (st.config->meter_ean == r.meter_ean)
            ++(r.quality == Quality::gemeten ? st.committed_gemeten : st.committed_onvolledig);
    if (api_) api_->data_changed();
    if (mqtt_) mqtt_->kick();
    log::debug(k_log, "meter ", r.meter_ean.str(), " interval ", format_utc(r.end), ": P ",
               r.p_w ? *r.p_w / 1000 : 0.0, " kW, ", quality_name(r.quality), ", ", r.samples,
               " samples, ", static_cast<int>(r.coverage * 100), "% coverage");
    return true;
}

void Gateway::hold(ClosedInterval&& c) {
    if (pending_.size() >= pending_limit_) {
        ++pending_dropped_;
        log::error(k_log, "the store has failed for too long: ", pending_limit_,
                   " intervals are held in memory, the limit; dropping the oldest, ",
                   format_utc(pending_.front().record.end), " of meter ",
                   pending_.front().record.meter_ean.str());
        pending_.pop_front();
    }
    pending_.push_back(std::move(c));
    schedule_retry();
}

void Gateway::schedule_retry() {
    if (stopping_ || retry_armed_) return;
    retry_armed_ = true;
    retry_timer_.expires_after(retry_delay_);
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
        retry_armed_ = false;
        if (!ec && !stopping_) retry_store();
    });
}

void Gateway::retry_store() {
    if (!store_->data_available()) {
        if (Status st = store_->reopen_data(); !st) {
            commit_failures_.note(clock_.steady_now(),
                                  "storage still unavailable: " + st.error().message);
            schedule_retry();
            return;
        }
    }
    if (!store_ready_) on_store_ready();
    flush_pending();
}

void Gateway::on_store_ready() {
    const SysS now_s = time_point_cast<seconds>(clock_.utc_now());
    if (Status st = store_->sync_master_data(config_, now_s); !st) {
        commit_failures_.note(clock_.steady_now(),
                              "cannot store master data: " + st.error().message);
        schedule_retry();
        return;
    }
    // Where each meter resumes: after its newest stored interval, so that a stored interval is
    // never written again (but never past the interval before the current one, whatever a
    // wrong clock stamped earlier).
    const IntervalGrid grid(config_.gateway.interval_s);
    const SysS open_end = grid.end_of(clock_.utc_now());
    for (std::size_t i = 0; i < config_.meters.size(); ++i) {
        auto latest = store_->latest_end(config_.meters[i].meter_ean);
        if (!latest || !*latest) continue;
        if (**latest >= open_end)
            log::warn(k_log, "meter ", config_.meters[i].meter_ean.str(),
                      ": the store holds intervals up to ", format_utc(**latest),
                      ", later than the clock says now: they stay as they are");
        aggregators_[i].resume_after(std::min(**latest, open_end - grid.length()));
    }
    // The open interval kept aside at the last clean stop: continued if it is still open,
    // committed as it is if its end has passed meanwhile.
    auto carried = store_->take_carry();
    if (carried) {
        for (const auto& c : *carried) {
            for (std::size_t i = 0; i < config_.meters.size(); ++i) {
                if (config_.meters[i].meter_ean != c.meter_ean) continue;
                aggregators_[i].seed(c);
                log::info(k_log, "meter ", c.meter_ean.str(), ": continuing interval ",
                          format_utc(c.end), " from the state kept at the last stop (", c.samples,
                          " samples)");
            }
        }
    } else {
        log::warn(k_log,
                  "cannot read the open interval kept at the last stop: ", carried.error().message);
    }
    store_ready_ = true;
}

void Gateway::flush_pending() {
    while (!pending_.empty()) {
        if (!commit_now(pending_.front())) {
            if (stopping_) return;
            schedule_retry();
            return;
        }
        pending_.pop_front();
    }
    if (commit_error_) {
        log::info(k_log, "store writable again: every waiting interval is committed");
        commit_error_.reset();
        (void)store_->checkpoint();
    }
}

void Gateway::schedule_prune(milliseconds after) {
    prune_timer_.expires_after(after);
    prune_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        const SysS cutoff =
            time_point_cast<seconds>(clock_.utc_now()) - days{config_.storage.retention_days};
        prune_step(cutoff);
    });
}

void Gateway::prune_step(SysS cutoff) {
    // Small batches, each its own short transaction, with the io_context free in between.
    auto n = store_->prune_batch(cutoff, k_prune_batch);
    if (!n) {
        log::error(k_log, "pruning failed: ", n.error().message);
    } else if (*n > 0 && !stopping_) {
        if (api_) api_->data_changed();
        asio::post(io_, [this, cutoff] { prune_step(cutoff); });
        return;
    }
    schedule_prune(hours{1});
}

void Gateway::schedule_watchdog() {
    const auto period = systemd::watchdog_period();
    if (!period) return;
    watchdog_timer_.expires_after(duration_cast<milliseconds>(*period) / 2);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        // Ping only while every bus thread shows progress: a hung worker behind a live loop is
        // caught.
        const SteadyMs now = clock_.steady_now();
        bool healthy = true;
        for (const auto& p : pollers_) {
            if (now - p->last_progress() > p->progress_deadline()) {
                healthy = false;
                log::error(k_log, "bus thread of link ", p->link().id,
                           " shows no progress; withholding the watchdog");
            }
        }
        if (healthy) systemd::notify("WATCHDOG=1");
        schedule_watchdog();
    });
}

void Gateway::shutdown() {
    if (stopping_) return;
    stopping_ = true;
    systemd::notify("STOPPING=1");
    for (auto& p : pollers_) p->stop();  // joins: nothing is posted after this
    if (https_) https_->stop();
    if (metrics_) metrics_->stop();
    if (modbus_server_) modbus_server_->stop();
    signals_.cancel();
    close_timer_.cancel();
    prune_timer_.cancel();
    watchdog_timer_.cancel();
    // Handlers run in order: the poll results already posted are aggregated before this.
    asio::post(io_, [this] {
        const SysMs now = clock_.utc_now();
        std::vector<CarryRecord> carry;
        for (std::size_t i = 0; i < aggregators_.size(); ++i) {
            StopState st = aggregators_[i].stop(now);
            for (ClosedInterval& c : st.closed) commit(std::move(c));
            carry.insert(carry.end(), st.carry.begin(), st.carry.end());
        }
        retry_timer_.cancel();
        if (!store_ready_ && store_->reopen_data()) on_store_ready();  // one last try
        if (store_ready_) flush_pending();
        // The open interval is not data until its end: its state is kept aside for the next start.
        if (!carry.empty() && store_ready_) {
            if (Status st = store_->save_carry(carry); !st)
                log::warn(k_log,
                          "cannot keep the open interval for the next start: ", st.error().message);
        }
        if (api_) api_->flush_audit();
        if (mqtt_) mqtt_->stop();  // what is not acknowledged stays queued for the next start
        if (store_ready_) (void)store_->checkpoint();
        if (!pending_.empty())
            log::error(k_log, pending_.size(),
                       " interval(s) could not be committed before exit: the store is failing");
        io_.stop();
    });
}

}  // namespace gw
