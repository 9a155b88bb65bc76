// GET /metrics: the gateway in the Prometheus text exposition format (0.0.4), for fleet
// monitoring: per meter the poll counters, the Modbus request durations, the age of the last
// good read and the committed intervals by quality; MQTT, API requests, the store, the clock
// and the certificate.
#include <cmath>
#include <cstdio>

#include "params.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

const OperationDoc api::k_metrics_doc{
    "getMetrics",
    "Prometheus metrics",
    "The gateway's counters and gauges in the Prometheus text exposition format 0.0.4 (roles "
    "reader, installer and admin). [api] metrics_listen also serves them without login on a "
    "loopback address, for a scraper on the device.",
    nullptr,
    nullptr,
    nullptr,
    false,
    {401, 429, 500},
    {},
    "text/plain"};

namespace {

/// Writes the exposition: a metric family's HELP and TYPE once, then its samples.
class Exposition {
  public:
    void family(const char* name, const char* type, const char* help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }
    /// `labels`: already formatted, e.g. meter_ean="8716..." (or empty).
    void sample(const std::string& name, const std::string& labels, double value) {
        out_ += name;
        if (!labels.empty()) out_ += "{" + labels + "}";
        out_ += ' ';
        char buf[40];
        if (std::isnan(value))
            out_ += "NaN";
        else if (value == std::floor(value) && std::fabs(value) < 1e15)
            out_ += std::to_string(static_cast<std::int64_t>(value));
        else {
            std::snprintf(buf, sizeof buf, "%.6f", value);
            out_ += buf;
        }
        out_ += '\n';
    }
    std::string take() && { return std::move(out_); }

  private:
    std::string out_;
};

/// name="value" with the value escaped as the format wants.
std::string label(const char* name, std::string_view value) {
    std::string out = std::string(name) + "=\"";
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

double epoch_s(SysS t) {
    return static_cast<double>(t.time_since_epoch().count());
}

}  // namespace

std::string Api::metrics_text() {
    const SysMs now = clock_.utc_now();
    GatewayLive live = live_ ? live_() : GatewayLive{now};
    Exposition x;
    x.family("meter_gateway_build_info", "gauge", "The gateway's version (always 1).");
    x.sample("meter_gateway_build_info", label("version", version_), 1);
    x.family("meter_gateway_start_time_seconds", "gauge", "When the gateway started (Unix time).");
    x.sample(
        "meter_gateway_start_time_seconds", "",
        static_cast<double>(duration_cast<seconds>(live.started_at.time_since_epoch()).count()));
    x.family("meter_gateway_clock_trusted", "gauge",
             "1 while the clock is trusted and intervals are stamped, else 0.");
    x.sample("meter_gateway_clock_trusted", "", live.clock_trusted ? 1 : 0);

    // Per meter. Counter names come from the daemon's counters (polls, timeouts, ...).
    struct Counter {
        const char* key;
        const char* name;
        const char* help;
    };
    static const Counter k_counters[] = {
        {"polls", "meter_gateway_meter_polls_total", "Polls of the meter."},
        {"samples", "meter_gateway_meter_samples_total", "Polls that gave a valid sample."},
        {"timeouts", "meter_gateway_meter_timeouts_total", "Polls the meter did not answer."},
        {"exceptions", "meter_gateway_meter_exceptions_total",
         "Polls answered with a Modbus exception."},
        {"crc_errors", "meter_gateway_meter_crc_errors_total", "Replies with a bad CRC."},
        {"malformed", "meter_gateway_meter_malformed_replies_total",
         "Replies of the wrong length or for another request."},
        {"link_errors", "meter_gateway_meter_link_errors_total",
         "Polls that found the link down (no connection, no serial port)."},
        {"implausible", "meter_gateway_meter_implausible_samples_total",
         "Samples refused as implausible (power or voltage beyond the meter's limits)."},
        {"not_available", "meter_gateway_meter_unavailable_values_total",
         "Reads with a value the meter marks as not available."},
        {"not_finite", "meter_gateway_meter_not_finite_values_total",
         "Reads with a NaN or infinite value."},
    };
    for (const auto& c : k_counters) {
        x.family(c.name, "counter", c.help);
        for (const auto& m : live.meters)
            for (const auto& [k, v] : m.counters)
                if (k == c.key)
                    x.sample(c.name, label("meter_ean", m.meter_ean), static_cast<double>(v));
    }
    x.family("meter_gateway_meter_link_state", "gauge",
             "1 for the meter's link state (ok, degraded, down, unknown; from its last 10 "
             "polls), 0 for the others.");
    for (const auto& m : live.meters)
        for (LinkState s :
             {LinkState::ok, LinkState::degraded, LinkState::down, LinkState::unknown})
            x.sample("meter_gateway_meter_link_state",
                     label("meter_ean", m.meter_ean) + "," + label("state", link_state_name(s)),
                     m.link_state == s ? 1 : 0);
    x.family("meter_gateway_meter_last_success_age_seconds", "gauge",
             "Seconds since the meter's last valid sample (absent before the first).");
    for (const auto& m : live.meters)
        if (m.last_success)
            x.sample(
                "meter_gateway_meter_last_success_age_seconds", label("meter_ean", m.meter_ean),
                static_cast<double>(duration_cast<milliseconds>(now - *m.last_success).count()) /
                    1000.0);
    x.family("meter_gateway_modbus_request_duration_seconds", "histogram",
             "Duration of each Modbus read request, answered or not.");
    for (const auto& m : live.meters) {
        const std::string meter = label("meter_ean", m.meter_ean);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < k_latency_bounds_s.size(); ++i) {
            cumulative += m.latency.counts[i];
            char le[16];
            std::snprintf(le, sizeof le, "%g", k_latency_bounds_s[i]);
            x.sample("meter_gateway_modbus_request_duration_seconds_bucket",
                     meter + "," + label("le", le), static_cast<double>(cumulative));
        }
        x.sample("meter_gateway_modbus_request_duration_seconds_bucket",
                 meter + "," + label("le", "+Inf"), static_cast<double>(m.latency.count));
        x.sample("meter_gateway_modbus_request_duration_seconds_sum", meter, m.latency.sum_s);
        x.sample("meter_gateway_modbus_request_duration_seconds_count", meter,
                 static_cast<double>(m.latency.count));
    }
    x.family("meter_gateway_intervals_committed_total", "counter",
             "Intervals stored since the gateway started, by kwaliteit.");
    for (const auto& m : live.meters) {
        x.sample("meter_gateway_intervals_committed_total",
                 label("meter_ean", m.meter_ean) + "," + label("kwaliteit", "gemeten"),
                 static_cast<double>(m.committed_gemeten));
        x.sample("meter_gateway_intervals_committed_total",
                 label("meter_ean", m.meter_ean) + "," + label("kwaliteit", "onvolledig"),
                 static_cast<double>(m.committed_onvolledig));
    }

    // MQTT.
    x.family("meter_gateway_mqtt_connected", "gauge",
             "1 while connected to the broker, 0 otherwise (also when MQTT is off).");
    x.sample("meter_gateway_mqtt_connected", "", live.mqtt_state == "connected" ? 1 : 0);
    x.family("meter_gateway_mqtt_publishes_total", "counter",
             "Interval messages handed to the broker, repeats after a reconnect included.");
    x.sample("meter_gateway_mqtt_publishes_total", "", static_cast<double>(live.mqtt_publishes));
    auto st = store_.stats();
    if (st) {
        x.family("meter_gateway_mqtt_backlog_intervals", "gauge",
                 "Stored intervals not yet acknowledged by the broker.");
        x.sample("meter_gateway_mqtt_backlog_intervals", "",
                 static_cast<double>(st->pending_forward));
    }

    // The Modbus TCP server, when configured.
    if (!live.modbus_server.empty()) {
        const auto& ms = live.modbus_server;
        x.family("meter_gateway_modbus_server_answers_total", "counter",
                 "Modbus TCP server answers: from the latest poll, passed through to the bus, "
                 "writes acknowledged by the meter, exceptions.");
        for (const char* k : {"latest_poll", "passed_through", "written", "exception"})
            x.sample("meter_gateway_modbus_server_answers_total", label("answer", k),
                     static_cast<double>(ms.at(k)));
        x.family("meter_gateway_modbus_server_stale_total", "counter",
                 "Exception 0x0B answers: the meter's last good poll was too old.");
        x.sample("meter_gateway_modbus_server_stale_total", "",
                 static_cast<double>(ms.at("stale")));
        x.family("meter_gateway_modbus_server_connections_total", "counter",
                 "Client connections accepted.");
        x.sample("meter_gateway_modbus_server_connections_total", "",
                 static_cast<double>(ms.at("connections")));
        x.family("meter_gateway_modbus_server_closed_total", "counter",
                 "Client connections closed by the server, by reason (a broken frame, or idle "
                 "and evicted).");
        x.sample("meter_gateway_modbus_server_closed_total", label("reason", "bad_frame"),
                 static_cast<double>(ms.at("bad_frames")));
        x.sample("meter_gateway_modbus_server_closed_total", label("reason", "idle"),
                 static_cast<double>(ms.at("evicted")));
    }

    // API.
    x.family("meter_gateway_api_requests_total", "counter",
             "API answers since start, by endpoint (empty: no endpoint matched) and status.");
    for (const auto& [key, n] : requests_)
        x.sample("meter_gateway_api_requests_total",
                 label("endpoint", key.first) + "," + label("status", std::to_string(key.second)),
                 static_cast<double>(n));

    // The store.
    x.family("meter_gateway_store_up", "gauge", "1 when the store can be read, else 0.");
    x.sample("meter_gateway_store_up", "", st ? 1 : 0);
    x.family("meter_gateway_store_uncommitted_intervals", "gauge",
             "Closed intervals held in memory because the store cannot take them.");
    x.sample("meter_gateway_store_uncommitted_intervals", "",
             static_cast<double>(live.pending_commits));
    if (st) {
        x.family("meter_gateway_store_size_bytes", "gauge",
                 "Size of the store's files with their journals.");
        x.sample("meter_gateway_store_size_bytes", "", static_cast<double>(st->file_bytes));
        x.family("meter_gateway_store_intervals", "gauge", "Intervals in the store.");
        x.sample("meter_gateway_store_intervals", "", static_cast<double>(st->intervals));
        if (st->oldest_interval) {
            x.family("meter_gateway_store_oldest_interval_timestamp_seconds", "gauge",
                     "End of the oldest stored interval (Unix time).");
            x.sample("meter_gateway_store_oldest_interval_timestamp_seconds", "",
                     epoch_s(*st->oldest_interval));
        }
        if (st->newest_interval) {
            x.family("meter_gateway_store_newest_interval_timestamp_seconds", "gauge",
                     "End of the newest stored interval (Unix time).");
            x.sample("meter_gateway_store_newest_interval_timestamp_seconds", "",
                     epoch_s(*st->newest_interval));
        }
    }
    if (live.tls_not_after) {
        x.family("meter_gateway_tls_certificate_expiry_timestamp_seconds", "gauge",
                 "When the API's TLS certificate expires (Unix time).");
        x.sample("meter_gateway_tls_certificate_expiry_timestamp_seconds", "",
                 epoch_s(*live.tls_not_after));
    }
    return std::move(x).take();
}

void Api::count_request(const char* route, int status) {
    ++requests_[{route ? route : "", status}];
}

http::Response Api::metrics(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, {})) return error(ctx, 400, "invalid_parameter", *bad);
    http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_text();
    r.no_store = true;
    return r;
}

}  // namespace gw
