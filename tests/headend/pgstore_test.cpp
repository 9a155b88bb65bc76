// The head-end's PostgreSQL store against a throwaway cluster: schema, idempotent ingest with
// duplicates and conflicts, monthly partitions and their drop, gaps and backfill requests,
// consent and clients, a lost connection.
#include <doctest/doctest.h>

#include "gw/pgstore/pg_store.hpp"
#include "pg_cluster.hpp"

using namespace std::chrono;
using namespace gw;
using gw::test::PgCluster;
using gw::test::TempDir;

namespace {

const Ean18 k_klant = *Ean18::parse("871685900000000011");
const Ean18 k_meter_a = *Ean18::parse("871685900000000028");
const Ean18 k_meter_b = *Ean18::parse("871685900000000035");

SysS at(const char* iso) {
    return time_point_cast<seconds>(*parse_utc(iso));
}

IncomingInterval row(const Ean18& meter, SysS end, double kw, const std::string& gw = "site-1") {
    IncomingInterval in;
    in.record.meter_ean = meter;
    in.record.end = end;
    in.record.interval_s = 300;
    in.record.p_w = kw * 1000;
    in.record.q_var = 12000;
    in.record.u1_v = 231.4;
    in.record.u2_v = 230.9;
    in.record.u3_v = std::nullopt;
    in.record.samples = 298;
    in.record.coverage = 0.99;
    in.gateway_id = gw;
    in.topic = "meters/" + gw + "/" + k_klant.to_string() + "/" + meter.to_string() + "/interval";
    return in;
}

Manifest manifest(const std::string& gw = "site-1") {
    return {gw,
            300,
            "0.6.0",
            {{k_meter_a, k_klant, MeterType::bruto_productie},
             {k_meter_b, k_klant, MeterType::overdrachtspunt}}};
}

struct Fixture {
    TempDir dir;
    PgCluster pg{dir};
    std::unique_ptr<PgStore> store = [this] {
        auto s = PgStore::open(pg.conninfo());
        REQUIRE_MESSAGE(s.ok(), s.error().message);
        return std::move(s).value();
    }();
};

}  // namespace

TEST_CASE("ingest is idempotent: duplicates change nothing, conflicts keep the first values") {
    Fixture f;
    PgStore& s = *f.store;
    const SysS t0 = at("2026-11-23T12:00:00Z");
    REQUIRE(s.upsert_manifest(manifest(), t0).ok());
    const auto v0 = s.data_version();
    REQUIRE(v0.ok());

    std::vector<IncomingInterval> batch{row(k_meter_a, t0, -1234), row(k_meter_a, t0 + 300s, -1200),
                                        row(k_meter_b, t0, 17)};
    auto first = s.ingest(batch, 0, "he-1", t0 + 600s);
    REQUIRE(first.ok());
    CHECK(first->inserted == 3);
    CHECK(first->duplicates == 0);
    CHECK(first->conflicts.empty());
    CHECK(*s.data_version() > *v0);

    // The same again, plus an in-batch repeat: all duplicates.
    batch.push_back(row(k_meter_b, t0, 17));
    auto again = s.ingest(batch, 0, "he-1", t0 + 600s);
    REQUIRE(again.ok());
    CHECK(again->inserted == 0);
    CHECK(again->duplicates == 4);
    CHECK(again->conflicts.empty());

    // Other values under a stored id, and within one batch: conflicts; the first stay.
    auto clash = s.ingest(
        {row(k_meter_a, t0, 999), row(k_meter_a, t0 + 900s, 5), row(k_meter_a, t0 + 900s, 6)}, 2,
        "he-2", t0 + 1200s);
    REQUIRE(clash.ok());
    CHECK(clash->inserted == 1);
    CHECK(clash->conflicts.size() == 2);
    CHECK(clash->conflicts[0].find("871685900000000028/2026-11-23T12:00:00Z") != std::string::npos);

    auto rows = s.intervals(k_meter_a, t0 - 300s, t0 + 3600s, 0, 100);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 3);
    CHECK((*rows)[0].p_w == -1234000.0);  // the first value stayed
    CHECK((*rows)[0].u1_v == 231.4);
    CHECK_FALSE((*rows)[0].u3_v.has_value());
    CHECK((*rows)[0].coverage == 0.99);
    CHECK((*rows)[0].same_values(row(k_meter_a, t0, -1234).record));
    CHECK((*rows)[2].p_w == 5000.0);
    CHECK(*s.latest_end(k_meter_a) == std::optional<SysS>(t0 + 900s));
    CHECK_FALSE(s.latest_end(*Ean18::parse("871685900000000042"))->has_value());
    // paging
    auto page = s.intervals(k_meter_a, t0 - 300s, t0 + 3600s, 1, 1);
    REQUIRE(page.ok());
    REQUIRE(page->size() == 1);
    CHECK(page->front().end == t0 + 300s);

    auto counters = s.ingest_counters();
    REQUIRE(counters.ok());
    REQUIRE(counters->size() == 2);
    CHECK((*counters)[0].instance == "he-1");
    CHECK((*counters)[0].received == 7);
    CHECK((*counters)[0].inserted == 3);
    CHECK((*counters)[0].duplicates == 4);
    CHECK((*counters)[1].conflicts == 2);
    CHECK((*counters)[1].malformed == 2);
    CHECK(f.pg.psql("SELECT count(*) FROM conflict") == "2\n");
}

TEST_CASE("intervals go to monthly partitions, and retention drops whole partitions") {
    Fixture f;
    PgStore& s = *f.store;
    REQUIRE(s.upsert_manifest(manifest(), at("2026-09-01T00:00:00Z")).ok());
    // Partitioned by the end stamp: the interval ending at midnight on the 1st is in the new month.
    const std::vector<IncomingInterval> batch{row(k_meter_a, at("2026-09-15T10:00:00Z"), 1),
                                              row(k_meter_a, at("2026-10-01T00:00:00Z"), 2),
                                              row(k_meter_a, at("2026-10-01T00:05:00Z"), 3),
                                              row(k_meter_a, at("2026-11-20T10:00:00Z"), 4)};
    REQUIRE(s.ingest(batch, 0, "he-1", at("2026-11-23T00:00:00Z")).ok());
    auto parts = s.partitions();
    REQUIRE(parts.ok());
    CHECK(*parts ==
          std::vector<std::string>{"intervals_202609", "intervals_202610", "intervals_202611"});
    CHECK(f.pg.psql("SELECT count(*) FROM intervals_202609") == "1\n");
    CHECK(f.pg.psql("SELECT count(*) FROM intervals_202610") == "2\n");

    // A cutoff inside October keeps October: only partitions that end before it go.
    auto dropped = s.drop_partitions_before(at("2026-10-15T00:00:00Z"));
    REQUIRE(dropped.ok());
    CHECK(*dropped == std::vector<std::string>{"intervals_202609"});
    auto left =
        s.intervals(k_meter_a, at("2026-01-01T00:00:00Z"), at("2026-12-31T00:00:00Z"), 0, 10);
    REQUIRE(left.ok());
    REQUIRE(left->size() == 3);
    CHECK(left->front().p_w == 2000.0);
    // A month comes back on demand.
    REQUIRE(s.ingest({row(k_meter_a, at("2026-09-15T10:00:00Z"), 1)}, 0, "he-1",
                     at("2026-11-23T00:00:00Z"))
                .ok());
    CHECK(s.partitions()->size() == 3);
}

TEST_CASE("gaps are found, requested at most every grace period, filled, or given up") {
    Fixture f;
    PgStore& s = *f.store;
    const SysS t0 = at("2026-11-23T12:00:00Z");
    REQUIRE(s.upsert_manifest(manifest(), t0).ok());
    // A scan whose horizon is before the meters were first seen expects nothing, now or later.
    CHECK(s.plan_backfill(t0 + 3min, 300, 3, 31)->empty());
    // Meter A: 12:05 .. 12:30 with 12:15 and 12:20 missing. Meter B: all there.
    std::vector<IncomingInterval> batch;
    for (int i = 1; i <= 6; ++i) {
        if (i != 3 && i != 4) batch.push_back(row(k_meter_a, t0 + minutes{5 * i}, i));
        batch.push_back(row(k_meter_b, t0 + minutes{5 * i}, i));
    }
    REQUIRE(s.ingest(batch, 0, "he-1", t0 + 35min).ok());
    const int grace = 300;
    // At 12:35 the horizon is 12:30: the hole is older than the grace period.
    auto orders = s.plan_backfill(t0 + 35min, grace, 3, 31);
    REQUIRE(orders.ok());
    REQUIRE(orders->size() == 1);
    CHECK(orders->front().gateway_id == "site-1");
    CHECK(orders->front().meter_ean == k_meter_a);
    CHECK(orders->front().from == t0 + 10min);
    CHECK(orders->front().to == t0 + 20min);
    // Not again within the grace period.
    CHECK(s.plan_backfill(t0 + 36min, grace, 3, 31)->empty());
    // Half filled: the rest is asked for.
    REQUIRE(s.ingest({row(k_meter_a, t0 + 15min, 3)}, 0, "he-1", t0 + 40min).ok());
    // Meter B misses 12:35 from now on (the gateway is online): a new gap at 12:45.
    batch.clear();
    for (int i = 7; i <= 9; ++i) batch.push_back(row(k_meter_a, t0 + minutes{5 * i}, i));
    REQUIRE(s.ingest(batch, 0, "he-1", t0 + 45min).ok());
    orders = s.plan_backfill(t0 + 41min + 5min, grace, 3, 31);
    REQUIRE(orders.ok());
    REQUIRE(orders->size() == 2);
    CHECK(orders->at(0).from == t0 + 15min);  // meter A: what is left of its gap
    CHECK(orders->at(0).to == t0 + 20min);
    CHECK(orders->at(1).meter_ean == k_meter_b);  // meter B: 12:35 and 12:40 missing
    CHECK(orders->at(1).from == t0 + 30min);
    CHECK(orders->at(1).to == t0 + 40min);
    // Filled: the gap is gone.
    REQUIRE(s.ingest({row(k_meter_a, t0 + 20min, 4)}, 0, "he-1", t0 + 47min).ok());
    REQUIRE(s.plan_backfill(t0 + 47min, grace, 3, 31).ok());  // re-checks the known gaps
    auto status = s.gateway_status(t0 + 47min);
    REQUIRE(status.ok());
    REQUIRE(status->size() == 1);
    REQUIRE(status->front().gaps.size() == 1);
    CHECK(status->front().gaps.front().meter_ean == k_meter_b);
    CHECK(status->front().meters.size() == 2);
    CHECK(status->front().meters.front().last_day == 9);
    CHECK(status->front().meters.front().last_day_expected == 9);
    // An offline gateway is not asked; once back, it is; after 3 requests the gap is unfillable.
    REQUIRE(s.set_gateway_state("site-1", "offline", t0 + 48min).ok());
    CHECK(s.plan_backfill(t0 + 60min, grace, 3, 31)->empty());
    REQUIRE(s.set_gateway_state("site-1", "online", t0 + 61min).ok());
    int asked = 0;
    for (int k = 0; k < 5; ++k) {
        auto o = s.plan_backfill(t0 + 62min + minutes{6 * k}, grace, 3, 31);
        REQUIRE(o.ok());
        for (const auto& order : *o)
            asked += order.meter_ean == k_meter_b && order.from == t0 + 30min;
    }
    CHECK(asked == 2);  // attempts 2 and 3; the first was above
    status = s.gateway_status(t0 + 100min);
    REQUIRE(status.ok());
    bool unfillable = false;
    for (const auto& g : status->front().gaps)
        unfillable = unfillable || (g.meter_ean == k_meter_b && g.unfillable && g.attempts == 3);
    CHECK(unfillable);
}

TEST_CASE("consent, clients and rotation in PostgreSQL") {
    Fixture f;
    PgStore& s = *f.store;
    const SysS t0 = at("2026-11-23T12:00:00Z");
    CHECK_FALSE(*s.consent_active(k_klant));
    REQUIRE(s.record_consent(k_klant, true, t0, "ops").ok());
    CHECK(*s.consent_active(k_klant));
    REQUIRE(s.record_consent(k_klant, false, t0 + 1s, "ops").ok());
    CHECK_FALSE(*s.consent_active(k_klant));
    CHECK(s.consent_history(&k_klant)->size() == 2);

    REQUIRE(s.add_client("liander", Role::reader, "h1", t0).ok());
    auto dup = s.add_client("liander", Role::reader, "h1", t0);
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().message.find("already exists") != std::string::npos);
    REQUIRE(s.rotate_secret("liander", "h2", t0 + 10s, t0 + 100s).ok());
    auto secrets = s.valid_secrets("liander", t0 + 50s);
    REQUIRE(secrets.ok());
    REQUIRE(secrets->size() == 2);
    CHECK(secrets->front().hash == "h2");
    CHECK(s.valid_secrets("liander", t0 + 200s)->size() == 1);
    REQUIRE(s.update_secret_hash(secrets->front().id, "h3").ok());
    CHECK(s.valid_secrets("liander", t0)->front().hash == "h3");
    REQUIRE(s.revoke_client("liander", t0 + 300s).ok());
    CHECK(s.valid_secrets("liander", t0 + 301s)->empty());
    CHECK((*s.client("liander"))->revoked_at.has_value());
    CHECK_FALSE(s.revoke_client("nobody", t0).ok());

    AuditRecord a;
    a.at = SysMs{t0};
    a.client = "liander";
    a.method = "GET";
    a.path = "/api/v1/metingen";
    a.status = 200;
    a.window_start = t0;
    REQUIRE(s.append_audit({a, a}).ok());
    CHECK(f.pg.psql("SELECT count(*) FROM api_audit") == "2\n");
    // The audit log is kept as long as the intervals: older rows go with the retention.
    auto pruned = s.prune_records(t0 + 1s);
    REQUIRE(pruned.ok());
    CHECK(*pruned == 2);
    CHECK(f.pg.psql("SELECT count(*) FROM api_audit") == "0\n");
}

TEST_CASE(
    "a newer schema is refused, and a lost connection fails one call and the next reconnects") {
    Fixture f;
    f.pg.psql("UPDATE headend_schema SET version = 99");
    auto newer = PgStore::open(f.pg.conninfo());
    REQUIRE_FALSE(newer.ok());
    CHECK(newer.error().code == make_error_code(Errc::store_newer_schema));
    f.pg.psql("UPDATE headend_schema SET version = 1");

    PgStore& s = *f.store;
    REQUIRE(s.consent_active(k_klant).ok());
    f.pg.stop("fast");
    auto lost = s.consent_active(k_klant);
    REQUIRE_FALSE(lost.ok());
    CHECK(lost.error().code == make_error_code(Errc::store_io));
    f.pg.start();
    CHECK(s.consent_active(k_klant).ok());
    CHECK(s.upsert_manifest(manifest(), at("2026-11-23T12:00:00Z")).ok());
}
