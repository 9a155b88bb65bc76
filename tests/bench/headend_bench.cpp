// Benchmark (run on demand): the fleet head-end at fleet size, against a throwaway PostgreSQL 15
// cluster with durable commits (fsync on). A simulated fleet of N sites (2 meters each) with D
// days of 5-minute history is ingested through the head-end's own ingest path (the gateway's JSON
// payloads parsed, batches of 1,000 stored idempotently), then the pull API is timed on it.
//
// Usage: headend_bench [--sites 2000] [--days 1]
// Prints: ingest rate (whole history, and the last day as a fleet's day of backlog), the rate of
// duplicates, call 1 for every customer, call 2 for one meter and one day (uncached, p50/p99),
// disk per million intervals, and the time to drop a month's partition.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gw/api/api.hpp"
#include "gw/api/secret.hpp"
#include "gw/headend/headend.hpp"
#include "gw/ingest/ingest.hpp"
#include "gw/ingest/messages.hpp"
#include "gw/pgstore/pg_store.hpp"
#include "https_client.hpp"
#include "pg_cluster.hpp"

using namespace std::chrono;

namespace {

/// The simulated "now": the end of the history.
class FixedClock final : public gw::Clock {
  public:
    explicit FixedClock(gw::SysS now) : now_(now) {}
    gw::SysMs utc_now() const override { return gw::SysMs{now_}; }
    gw::SteadyMs steady_now() const override {
        return time_point_cast<milliseconds>(steady_clock::now());
    }
    bool synchronised() const override { return true; }

  private:
    gw::SysS now_;
};

std::string ean(long long base, int n) {
    std::string digits = std::to_string(base + n);  // 17 digits
    int sum = 0;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        const int d = digits[digits.size() - 1 - i] - '0';
        sum += (i % 2 == 0) ? 3 * d : d;
    }
    return digits + std::to_string((10 - sum % 10) % 10);
}

struct Meter {
    std::string site, klant, meter, type;
};

std::string payload(const Meter& m, gw::SysS end, int i) {
    const std::string tijd = gw::format_utc(end);
    char values[256];
    std::snprintf(values, sizeof values,
                  "\"actief_vermogen_kw\":%d,\"blind_vermogen_kvar\":%d,\"spanning_l1_v\":%.1f,"
                  "\"spanning_l2_v\":%.1f,\"spanning_l3_v\":%.1f,\"kwaliteit\":\"gemeten\","
                  "\"monsters\":300,\"dekking\":1.00}",
                  -(i % 900), i % 40, 229.0 + (i % 30) / 10.0, 230.1, 231.2);
    return "{\"id\":\"" + m.meter + "/" + tijd + "\",\"gateway_id\":\"" + m.site +
           "\",\"klant_ean\":\"" + m.klant + "\",\"meter_ean\":\"" + m.meter +
           "\",\"meter_type\":\"" + m.type + "\",\"tijd\":\"" + tijd + "\",\"interval_s\":300," +
           values;
}

double pct(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

template <class T>
T must(gw::Result<T> r, const char* what) {
    if (!r) {
        std::fprintf(stderr, "headend_bench: %s: %s\n", what, r.error().message.c_str());
        std::exit(1);
    }
    return std::move(r).value();
}

}  // namespace

int main(int argc, char** argv) {
    int sites = 2000, days_of_history = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--sites")
            sites = std::stoi(argv[i + 1]);
        else if (k == "--days")
            days_of_history = std::stoi(argv[i + 1]);
    }
    gw::test::TempDir dir;
    gw::test::PgCluster pg(dir,
                           "-c shared_buffers=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min "
                           "-c work_mem=16MB");
    auto store = must(gw::PgStore::open(pg.conninfo()), "open");
    const gw::SysS now = time_point_cast<seconds>(*gw::parse_utc("2026-11-30T00:00:00Z"));
    const gw::SysS first_end = now - days{days_of_history} + minutes{5};

    std::vector<Meter> meters;
    for (int s = 0; s < sites; ++s) {
        const std::string site = "site-" + std::to_string(s);
        const std::string klant = ean(87168590100000000LL, s);
        gw::Manifest mf{site, 300, "bench", {}};
        for (int k = 0; k < 2; ++k) {
            Meter m{site, klant, ean(87168590200000000LL, 2 * s + k),
                    k == 0 ? "bruto_productie" : "overdrachtspunt"};
            mf.meters.push_back(
                {*gw::Ean18::parse(m.meter), *gw::Ean18::parse(klant),
                 k == 0 ? gw::MeterType::bruto_productie : gw::MeterType::overdrachtspunt});
            meters.push_back(m);
        }
        if (auto st = store->upsert_manifest(mf, first_end - days{1}); !st) {
            std::fprintf(stderr, "manifest: %s\n", st.error().message.c_str());
            return 1;
        }
    }
    std::printf("fleet: %d sites, %zu meters, %d day(s) of 5-minute history (%zu intervals)\n",
                sites, meters.size(), days_of_history,
                meters.size() * static_cast<std::size_t>(288 * days_of_history));

    gw::HeadendConfig cfg;
    cfg.id = "bench";
    cfg.mqtt.topic_prefix = "meters";
    const FixedClock clock(now);
    gw::ingest::IngestStats stats;
    gw::ingest::Ingest ingest(cfg, *store, clock, stats);
    const std::size_t batch_max = 1000;
    auto run_ingest = [&](gw::SysS from_end, gw::SysS to_end, double& parse_s) {
        std::vector<gw::ingest::Message> batch;
        batch.reserve(batch_max);
        std::size_t n = 0;
        parse_s = 0;
        const auto t0 = steady_clock::now();
        int i = 0;
        for (gw::SysS end = from_end; end <= to_end; end += minutes{5}, ++i) {
            for (const auto& m : meters) {
                // Values follow the interval end, so that a message sent again is a duplicate.
                batch.push_back(
                    {"meters/" + m.site + "/" + m.klant + "/" + m.meter + "/interval",
                     payload(m, end, static_cast<int>(end.time_since_epoch().count() / 300))});
                if (batch.size() == batch_max) {
                    bool changed = false;
                    if (auto st = ingest.handle(batch, changed); !st) {
                        std::fprintf(stderr, "ingest: %s\n", st.error().message.c_str());
                        std::exit(1);
                    }
                    n += batch.size();
                    batch.clear();
                }
            }
        }
        bool changed = false;
        if (!batch.empty() && ingest.handle(batch, changed)) n += batch.size();
        return std::make_pair(n, duration<double>(steady_clock::now() - t0).count());
    };
    double parse_s = 0;
    const gw::SysS last_day = now - days{1} + minutes{5};
    if (days_of_history > 1) {
        auto [n, s] = run_ingest(first_end, last_day - minutes{5}, parse_s);
        std::printf("ingest, history before the last day: %zu messages in %.1f s = %.0f msg/s\n", n,
                    s, static_cast<double>(n) / s);
    }
    {
        auto [n, s] = run_ingest(last_day, now, parse_s);
        std::printf(
            "ingest, the fleet's last day as a backlog: %zu messages in %.1f s = %.0f msg/s\n", n,
            s, static_cast<double>(n) / s);
    }
    {
        const std::uint64_t dup_before = stats.duplicates;
        auto [n, s] = run_ingest(now - hours{2} + minutes{5}, now, parse_s);
        std::printf(
            "ingest, 2 h sent again (all duplicates): %zu messages in %.1f s = %.0f msg/s (%llu "
            "duplicates counted)\n",
            n, s, static_cast<double>(n) / s,
            static_cast<unsigned long long>(stats.duplicates - dup_before));
    }
    // Parsing alone, for scale: the same payload shape, no database.
    {
        const auto t0 = steady_clock::now();
        std::size_t ok = 0;
        for (int i = 0; i < 100000; ++i) {
            const Meter& m = meters[static_cast<std::size_t>(i) % meters.size()];
            const std::string p = payload(m, now, i);
            ok += gw::ingest::parse_interval(
                      "meters/" + m.site + "/" + m.klant + "/" + m.meter + "/interval", p, "meters",
                      now, now - days{400})
                      .ok();
        }
        const double s = duration<double>(steady_clock::now() - t0).count();
        std::printf("parse only: %zu payloads in %.2f s = %.0f msg/s\n", ok, s, 100000.0 / s);
    }
    pg.psql("VACUUM ANALYZE");

    // The pull API on the fleet.
    const std::string secret = gw::generate_secret();
    if (!store->add_client("liander", gw::Role::reader, gw::hash_secret(secret, 1000), now))
        return 1;
    for (int s = 0; s < sites; ++s)
        (void)store->record_consent(*gw::Ean18::parse(ean(87168590100000000LL, s)), true, now,
                                    "bench");
    auto fleet = must(store->fleet_meters(), "fleet");
    gw::Config api_cfg = gw::api_config_for(cfg, fleet);
    api_cfg.api.rate_limit_per_minute = 100000;
    gw::ApiOptions options;
    options.hash_iterations = 1000;
    gw::Api api(api_cfg, *store, clock, "bench", {}, options);
    gw::http::Request req;
    req.method = "GET";
    req.authorization = gw::test::basic_auth("liander", secret);
    req.remote = "127.0.0.1";
    {
        std::vector<double> ms;
        std::size_t bytes = 0;
        for (int r = 0; r < 5; ++r) {
            req.target = "/api/v1/meters";
            api.data_changed();  // uncached
            const auto t0 = steady_clock::now();
            auto resp = api.handle(req);
            ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
            bytes = resp.text().size();
            if (resp.status != 200) {
                std::fprintf(stderr, "call 1: %d %s\n", resp.status,
                             resp.text().substr(0, 300).c_str());
                return 1;
            }
        }
        std::printf(
            "call 1, all %d customers (%zu meters, %zu bytes): median %.1f ms, max %.1f ms (5 "
            "calls)\n",
            sites, meters.size(), bytes, pct(ms, 0.5), pct(ms, 1.0));
    }
    {
        std::mt19937 rng(42);
        std::vector<double> ms;
        std::size_t rows = 0;
        for (int r = 0; r < 1000; ++r) {
            const Meter& m = meters[rng() % meters.size()];
            const int day = static_cast<int>(rng() % static_cast<unsigned>(days_of_history));
            const gw::SysS start = now - days{day + 1};
            req.target =
                "/api/v1/metingen?klant_ean=" + m.klant + "&meter_ean=" + m.meter +
                "&start_tijd=" + gw::format_utc(start) +
                "&eind_tijd=" + gw::format_utc(start + days{1}) +
                "&meting_type=actief_vermogen,blind_vermogen,spanning_L1,spanning_L2,spanning_L3";
            api.data_changed();  // uncached
            const auto t0 = steady_clock::now();
            auto resp = api.handle(req);
            ms.push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
            if (resp.status != 200) {
                std::fprintf(stderr, "call 2: %d %s\n", resp.status,
                             resp.text().substr(0, 300).c_str());
                return 1;
            }
            rows +=
                static_cast<std::size_t>(std::count(resp.text().begin(), resp.text().end(), '{'));
        }
        std::printf(
            "call 2, one meter and one day, 5 quantities, uncached: p50 %.2f ms, p99 %.2f ms, max "
            "%.2f ms "
            "(1000 calls, %zu objects)\n",
            pct(ms, 0.5), pct(ms, 0.99), pct(ms, 1.0), rows);
    }
    api.flush_audit();
    {
        const auto bytes = std::stoll(pg.psql(
            "SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i JOIN pg_class p ON "
            "p.oid = i.inhparent WHERE p.relname = 'intervals'"));
        const auto rows = std::stoll(pg.psql("SELECT count(*) FROM intervals"));
        std::printf(
            "disk: %lld intervals in %.1f MB: %.1f MB per million intervals (table and key)\n",
            rows, static_cast<double>(bytes) / 1e6,
            static_cast<double>(bytes) / 1e6 / (static_cast<double>(rows) / 1e6));
    }
    {
        // A month of a 4,000-meter fleet is 35 million rows; one of 1 million rows shows the shape.
        const gw::SysS jan = time_point_cast<seconds>(*gw::parse_utc("2025-01-15T00:00:00Z"));
        if (auto st = store->ensure_partitions(jan, jan); !st) return 1;
        pg.psql(
            "INSERT INTO intervals (meter_ean, end_at, interval_s, p_w, q_var, u1_v, u2_v, u3_v, "
            "quality, "
            "samples, coverage, gateway_id) SELECT 871685902000000000 + (g % 4000), "
            "timestamptz '2025-01-01 00:05:00+00' + (g / 4000) * interval '5 minutes', 300, -1000, "
            "0, 230, "
            "230, 230, 0, 300, 1, 'bench' FROM generate_series(0, 999999) AS g");
        const auto t0 = steady_clock::now();
        auto dropped = must(store->drop_partitions_before(
                                time_point_cast<seconds>(*gw::parse_utc("2025-02-01T00:00:00Z"))),
                            "drop");
        const double ms = duration<double, std::milli>(steady_clock::now() - t0).count();
        std::printf("retention: dropping %zu partition (1,000,000 rows) took %.1f ms\n",
                    dropped.size(), ms);
    }
    return 0;
}
