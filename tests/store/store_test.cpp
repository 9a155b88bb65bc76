// The SQLite store on real files: schema, migrations, durability settings, upsert, pruning,
// consent, credentials, and refusal of files that are not ours.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gw/store/store.hpp"
#include "temp_dir.hpp"

using namespace std::chrono;
using gw::Ean18;
using gw::IntervalRecord;
using gw::Store;
using gw::SysMs;
using gw::SysS;

namespace {

const Ean18 k_meter_a = *Ean18::parse("871685900000000028");
const Ean18 k_meter_b = *Ean18::parse("871685900000000035");
const Ean18 k_klant = *Ean18::parse("871685900000000011");
const SysS k_t0{seconds{1'795'435'200}};  // 2026-11-23T12:00:00Z

std::unique_ptr<Store> open_ok(const std::string& path, gw::OpenOptions o = {}) {
    auto s = Store::open(path, o);
    REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
    return std::move(s).value();
}

IntervalRecord interval(const Ean18& meter, SysS end, double p_w = -1'234'500) {
    IntervalRecord r{meter, end};
    r.interval_s = 300;
    r.p_w = p_w;
    r.q_var = 12'000;
    r.u1_v = 231.35;
    r.u2_v = 230.9;
    r.u3_v = 231.0;
    r.quality = gw::Quality::gemeten;
    r.samples = 298;
    r.coverage = 0.99;
    return r;
}

void commit(Store& s, const IntervalRecord& r, bool forward = true) {
    auto st =
        s.commit_interval(r, nullptr, forward, {}, SysMs{r.end.time_since_epoch()} + seconds{2});
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
    REQUIRE(*st);
}

/// Runs SQL on a plain connection (test set-up and fault injection only).
void raw_exec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
}

long long raw_count(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

void check_integrity(Store& s) {
    auto r = s.integrity_check();
    REQUIRE(r.ok());
    CHECK(*r == "ok");
}

}  // namespace

TEST_CASE("a new store is created with the current schema, WAL and synchronous=FULL") {
    gw::test::TempDir dir;
    auto s = open_ok(dir.file("gw.db"));
    CHECK(s->schema_version() == Store::k_schema_version);
    CHECK(*s->pragma("journal_mode") == "wal");
    CHECK(*s->pragma("synchronous") == "2");  // FULL
    CHECK(*s->pragma("application_id") == "1296521009");
    CHECK(*s->pragma("foreign_keys") == "1");
    CHECK(*s->pragma("journal_size_limit") == "262144");
    // Credentials and consent live in their own file, with a rollback journal (readable on a full
    // disk).
    CHECK(s->access_path() == dir.file("gw-access.db"));
    CHECK(*s->pragma("access.journal_mode") == "delete");
    CHECK(*s->pragma("access.synchronous") == "2");
    CHECK(*s->pragma("access.application_id") == "1296521025");
    check_integrity(*s);
}

TEST_CASE("the access file's name is derived from the data file's") {
    CHECK(Store::access_path_for("/var/lib/meter-gateway/gateway.db") ==
          "/var/lib/meter-gateway/gateway-access.db");
    CHECK(Store::access_path_for("gw.db") == "gw-access.db");
    CHECK(Store::access_path_for("/data/store") == "/data/store-access");
    CHECK(Store::access_path_for("/data.d/store") == "/data.d/store-access");
    CHECK(Store::access_path_for("/data/.hidden") == "/data/.hidden-access");
}

TEST_CASE("new files are not readable by others: they hold password hashes and measurements") {
    gw::test::TempDir dir;
    ::umask(022);
    auto s = open_ok(dir.file("gw.db"));
    struct stat sb {};
    REQUIRE(::stat(dir.file("gw.db").c_str(), &sb) == 0);
    CHECK((sb.st_mode & 0777) == 0640);
    REQUIRE(::stat(dir.file("gw-access.db").c_str(), &sb) == 0);
    CHECK((sb.st_mode & 0777) == 0640);
}

TEST_CASE("intervals survive close and reopen") {
    gw::test::TempDir dir;
    const std::string path = dir.file("gw.db");
    {
        auto s = open_ok(path);
        commit(*s, interval(k_meter_a, k_t0));
        commit(*s, interval(k_meter_a, k_t0 + minutes{5}, -999'499.9));
    }
    auto s = open_ok(path);
    auto rows = s->intervals(k_meter_a, k_t0 - minutes{5}, k_t0 + minutes{5}, 0, 100);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 2);
    const IntervalRecord& r = (*rows)[0];
    CHECK(r.meter_ean == k_meter_a);
    CHECK(r.end == k_t0);
    CHECK(*r.p_w == -1'234'500.0);  // stored unrounded, exactly
    CHECK(*r.u1_v == 231.35);
    CHECK(r.quality == gw::Quality::gemeten);
    CHECK(r.samples == 298);
    CHECK(r.coverage == 0.99);
    CHECK(*(*rows)[1].p_w == -999'499.9);
    check_integrity(*s);
}

TEST_CASE("a stored interval is final: a second commit under its key changes nothing and says so") {
    gw::test::TempDir dir;
    auto s = open_ok(dir.file("gw.db"));
    commit(*s, interval(k_meter_a, k_t0, 1000));
    auto again = interval(k_meter_a, k_t0, 2000);
    again.quality = gw::Quality::onvolledig;
    gw::EnergyReading e{k_meter_a, k_t0, 5.0, 6.0, 7.0, 8.0};
    auto second = s->commit_interval(again, &e, true, {{SysMs{}, "", "x", "y"}}, SysMs{});
    REQUIRE(second.ok());
    CHECK_FALSE(*second);
    commit(*s, interval(k_meter_b, k_t0, 3000));  // another meter, same end: its own row
    CHECK(*s->count_intervals(k_meter_a, k_t0 - hours{1}, k_t0 + hours{1}) == 1);
    auto rows = *s->intervals(k_meter_a, k_t0 - hours{1}, k_t0 + hours{1}, 0, 10);
    REQUIRE(rows.size() == 1);
    CHECK(*rows[0].p_w == 1000);  // the first values stay
    CHECK(rows[0].quality == gw::Quality::gemeten);
    CHECK(s->energy_readings(k_meter_a, k_t0 - hours{1}, k_t0, 0, 10)
              ->empty());  // nothing of the second one
    CHECK(s->recent_events(10)->empty());
    CHECK(*s->count_intervals(k_meter_b, k_t0 - hours{1}, k_t0 + hours{1}) == 1);
    check_integrity(*s);
}

TEST_CASE(
    "the open interval's state is kept aside at a stop, outside the intervals, and taken once") {
    gw::test::TempDir dir;
    const std::string path = dir.file("gw.db");
    gw::CarryRecord c{k_meter_a, k_t0 + minutes{5}};
    c.saved_at = SysMs{(k_t0 + minutes{2}).time_since_epoch()};
    c.held_ms = 120'000;
    c.samples = 119;
    c.p_ws = -1.5e9;
    c.q_ws = 2.5e8;
    c.u_ws = {2.7e7, 2.71e7, 2.72e7};
    c.start_at = SysMs{k_t0.time_since_epoch()} - milliseconds{300};
    c.e_import_wh = 1000.5;
    {
        auto s = open_ok(path);
        REQUIRE(s->save_carry({c}).ok());
        CHECK(s->stats()->intervals == 0);  // not data
        CHECK(s->pending_forward(10)->empty());
        CHECK_FALSE(s->latest_end(k_meter_a)->has_value());
    }
    auto s = open_ok(path);
    auto taken = s->take_carry();
    REQUIRE(taken.ok());
    REQUIRE(taken->size() == 1);
    const auto& t = taken->front();
    CHECK(t.meter_ean == k_meter_a);
    CHECK(t.end == c.end);
    CHECK(t.held_ms == 120'000);
    CHECK(t.samples == 119);
    CHECK(t.p_ws == -1.5e9);
    CHECK(t.u_ws[2] == 2.72e7);
    CHECK(*t.start_at == *c.start_at);
    CHECK(*t.e_import_wh == 1000.5);
    CHECK_FALSE(t.e_export_wh.has_value());
    CHECK(s->take_carry()->empty());  // taken once
}

TEST_CASE("range queries: start exclusive, end inclusive, ascending, paged, newest per meter") {
    gw::test::TempDir dir;
    auto s = open_ok(dir.file("gw.db"));
    for (int i = 0; i < 12; ++i) commit(*s, interval(k_meter_a, k_t0 + minutes{5 * i}, i));
    CHECK(*s->latest_end(k_meter_a) == k_t0 + minutes{55});
    CHECK_FALSE(s->latest_end(k_meter_b)->has_value());

    auto window = *s->intervals(k_meter_a, k_t0, k_t0 + minutes{30}, 0, 100);
    REQUIRE(window.size() == 6);
    CHECK(window.front().end == k_t0 + minutes{5});
    CHECK(window.back().end == k_t0 + minutes{30});

    std::vector<SysS> paged;
    for (int offset = 0;; offset += 5) {
        auto page = *s->intervals(k_meter_a, k_t0 - minutes{5}, k_t0 + hours{1}, offset, 5);
        for (const auto& r : page) paged.push_back(r.end);
        if (page.size() < 5) break;
    }
    REQUIRE(paged.size() == 12);
    for (int i = 0; i < 12; ++i) CHECK(paged[i] == k_t0 + minutes{5 * i});

    auto newest = *s->latest_intervals(k_meter_a, 3);
    REQUIRE(newest.size() == 3);
    CHECK(newest[0].end == k_t0 + minutes{55});
    CHECK(newest[2].end == k_t0 + minutes{45});
}

TEST_CASE("an interval, its energy reading and its events commit together or not at all") {
    gw::test::TempDir dir;
    const std::string path = dir.file("gw.db");
    auto s = open_ok(path);
    gw::EnergyReading e{k_meter_a, k_t0, 1'000'000.0, 2'500'000.5, std::nullopt, 10.0};
    std::vector<gw::EventRecord> events{
        {SysMs{k_t0.time_since_epoch()}, k_meter_a.to_string(), "cross_check", "gap 3 kW"}};
    REQUIRE(s->commit_interval(interval(k_meter_a, k_t0), &e, true, events,
                               SysMs{k_t0.time_since_epoch()})
                .ok());
    auto readings = *s->energy_readings(k_meter_a, k_t0 - minutes{5}, k_t0, 0, 10);
    REQUIRE(readings.size() == 1);
    CHECK(*readings[0].e_export_wh == 2'500'000.5);
    CHECK_FALSE(readings[0].eq_import_varh.has_value());
    CHECK((*s->recent_events(10))[0].kind == "cross_check");

    // Fault injection: the energy insert fails, so the interval must not be stored either.
    raw_exec(path,
             "CREATE TRIGGER fail_energy BEFORE INSERT ON energy_reading BEGIN SELECT RAISE(ABORT, "
             "'injected'); END;");
    gw::EnergyReading e2{k_meter_a, k_t0 + minutes{5}, 1.0, 2.0, 3.0, 4.0};
    auto st =
        s->commit_interval(interval(k_meter_a, k_t0 + minutes{5}), &e2, true, events, SysMs{});
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("injected") != std::string::npos);
    CHECK(*s->count_intervals(k_meter_a, k_t0 - hours{1}, k_t0 + hours{1}) == 1);
    CHECK(s->recent_events(10)->size() == 1);
    // and the store works on afterwards
    raw_exec(path, "DROP TRIGGER fail_energy;");
    REQUIRE(
        s->commit_interval(interval(k_meter_a, k_t0 + minutes{5}), &e2, true, {}, SysMs{}).ok());
    CHECK(*s->count_intervals(k_meter_a, k_t0 - hours{1}, k_t0 + hours{1}) == 2);
    check_integrity(*s);
}

TEST_CASE("the MQTT outbox is oldest first and forgets what was acknowledged") {
    gw::test::TempDir dir;
    auto s = open_ok(dir.file("gw.db"));
    commit(*s, interval(k_meter_b, k_t0 + minutes{5}));
    commit(*s, interval(k_meter_a, k_t0 + minutes{5}));
    commit(*s, interval(k_meter_a, k_t0));
    commit(*s, interval(k_meter_a, k_t0 + minutes{10}), /*forward=*/false);
    auto pending = *s->pending_forward(10);
    REQUIRE(pending.size() == 3);
    CHECK(pending[0].end == k_t0);
    CHECK(pending[1].meter_ean == k_meter_a);  // same end: by meter EAN
    CHECK(pending[2].meter_ean == k_meter_b);
    CHECK(s->pending_forward(2)->size() == 2);
    REQUIRE(s->mark_forwarded({{k_meter_a, k_t0}}, SysMs{}).ok());
    REQUIRE(s->mark_forwarded({}, SysMs{}).ok());
    pending = *s->pending_forward(10);
    REQUIRE(pending.size() == 2);
    CHECK(pending[0].end == k_t0 + minutes{5});
    auto stats = *s->stats();
    CHECK(stats.pending_forward == 2);
    CHECK(stats.intervals == 4);
    CHECK(*stats.oldest_pending == k_t0 + minutes{5});
    CHECK(*stats.oldest_interval == k_t0);
    CHECK(*stats.newest_interval == k_t0 + minutes{10});
    CHECK(stats.file_bytes > 0);
}

TEST_CASE("retention pruning deletes old rows in bounded batches") {
    gw::test::TempDir dir;
    const std::string path = dir.file("gw.db");
    { open_ok(path); }
    // 40 days of hourly rows for two meters, inserted in one transaction for speed.
    std::string sql = "BEGIN;";
    for (int h = 0; h < 40 * 24; ++h) {
        const long long end = k_t0.time_since_epoch().count() - 3600LL * h;
        for (const Ean18* m : {&k_meter_a, &k_meter_b}) {
            sql +=
                "INSERT INTO intervals (meter_ean, end_s, interval_s, p_w, quality, samples, "
                "coverage, committed_at_ms) VALUES ('" +
                m->to_string() + "'," + std::to_string(end) + ",3600,1.0,'gemeten',1,1.0,0);";
        }
        sql += "INSERT INTO energy_reading (meter_ean, at_s, e_import_wh) VALUES ('" +
               k_meter_a.to_string() + "'," + std::to_string(end) + ",1.0);";
        sql +=
            "INSERT INTO api_audit (at_ms, client, correlation_id, method, path, klant_ean, "
            "meter_ean, rows, status) VALUES (" +
            std::to_string(end * 1000) + ",'liander','c','GET','/api/v1/metingen','','',1,200);";
    }
    sql += "COMMIT;";
    raw_exec(path, sql);
    auto s = open_ok(path);
    const SysS cutoff = k_t0 - days{31};
    const long long old_rows =
        raw_count(path, "SELECT count(*) FROM intervals WHERE end_s < " +
                            std::to_string(cutoff.time_since_epoch().count()));
    CHECK(old_rows == 2 * (40 - 31) * 24 - 2);  // the row exactly at the cutoff stays

    long long total = 0;
    int batches = 0;
    for (;;) {
        auto n = s->prune_batch(cutoff, 100);
        REQUIRE(n.ok());
        CHECK(*n <= 4 * 100);  // never more than one batch per table
        if (*n == 0) break;
        total += *n;
        REQUIRE(++batches < 100);
    }
    CHECK(batches >= 5);  // 430 interval rows alone need five batches of 100
    CHECK(raw_count(path, "SELECT count(*) FROM intervals WHERE end_s < " +
                              std::to_string(cutoff.time_since_epoch().count())) == 0);
    CHECK(raw_count(path, "SELECT count(*) FROM intervals") == 2 * 40 * 24 - old_rows);
    CHECK(raw_count(path, "SELECT min(end_s) FROM intervals") == cutoff.time_since_epoch().count());
    CHECK(raw_count(path, "SELECT count(*) FROM energy_reading WHERE at_s < " +
                              std::to_string(cutoff.time_since_epoch().count())) == 0);
    CHECK(raw_count(path, "SELECT count(*) FROM api_audit") == 31 * 24 + 1);
    CHECK(total == old_rows + 2 * (old_rows / 2));
    check_integrity(*s);
}

TEST_CASE("consent: the latest event decides, and the history is kept") {
    gw::test::TempDir dir;
    auto s = open_ok(dir.file("gw.db"));
    CHECK_FALSE(*s->consent_active(k_klant));
    REQUIRE(s->record_consent(k_klant, true, k_t0, "installer").ok());
    CHECK(*s->consent_active(k_klant));
    REQUIRE(s->record_consent(k_klant, false, k_t0 + hours{1}, "liander-support").ok());
    CHECK_FALSE(*s->consent_active(k_klant));
    REQUIRE(s->record_consent(k_klant, true, k_t0 + hours{2}, "installer").ok());
    CHECK(*s->consent_active(k_klant));
    const Ean18 other = *Ean18::parse("871685900000000042");
    CHECK_FALSE(*s->consent_active(other));
    auto history = *s->consent_history(&k_klant);
    REQUIRE(history.size() == 3);
    CHECK(history[1].granted == false);
    CHECK(history[1].actor == "liander-support");
    CHECK(history[1].at == k_t0 + hours{1});
    CHECK(s->consent_history(nullptr)->size() == 3);
}

TEST_CASE("API clients: secrets stored as given hashes, rotation overlap, revocation") {
    gw::test::TempDir dir;
    auto s = open_ok(dir.file("gw.db"));
    REQUIRE(s->add_client("liander", gw::Role::reader, "hash-1", k_t0).ok());
    auto dup = s->add_client("liander", gw::Role::admin, "hash-x", k_t0);
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().message == "an API client named \"liander\" already exists");

    REQUIRE(s->rotate_secret("liander", "hash-2", k_t0 + hours{1}, k_t0 + hours{1} + days{7}).ok());
    auto during = *s->valid_secrets("liander", k_t0 + days{2});
    REQUIRE(during.size() == 2);
    CHECK(during[0].hash == "hash-2");
    CHECK_FALSE(during[0].expires_at.has_value());
    CHECK(*during[1].expires_at == k_t0 + hours{1} + days{7});
    auto after = *s->valid_secrets("liander", k_t0 + hours{1} + days{7});
    REQUIRE(after.size() == 1);
    CHECK(after[0].hash == "hash-2");

    CHECK_FALSE(s->rotate_secret("nobody", "h", k_t0, k_t0).ok());
    REQUIRE(s->revoke_client("liander", k_t0 + days{10}).ok());
    CHECK(s->valid_secrets("liander", k_t0 + days{10})->empty());
    CHECK_FALSE(s->revoke_client("liander", k_t0 + days{11}).ok());
    auto c = *s->client("liander");
    REQUIRE(c.has_value());
    CHECK(c->revoked_at == k_t0 + days{10});
    CHECK(s->clients()->size() == 1);
    CHECK_FALSE(s->client("nobody")->has_value());
}

TEST_CASE("API audit rows") {
    gw::test::TempDir dir;
    auto s = open_ok(dir.file("gw.db"));
    gw::AuditRecord a{SysMs{k_t0.time_since_epoch()},
                      "liander",
                      "0b8e2f6c-1d7a-4f59-9d0e-2b1f3c4d5e6f",
                      "GET",
                      "/api/v1/metingen",
                      k_klant.to_string(),
                      k_meter_a.to_string(),
                      k_t0 - days{1},
                      k_t0,
                      288,
                      200};
    REQUIRE(s->append_audit(a).ok());
    auto rows = *s->recent_audit(5);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].client == "liander");
    CHECK(rows[0].rows == 288);
    CHECK(*rows[0].window_start == k_t0 - days{1});
    CHECK(rows[0].status == 200);
}

TEST_CASE("the daemon and the admin CLI share the file") {
    gw::test::TempDir dir;
    const std::string path = dir.file("gw.db");
    auto daemon = open_ok(path);
    auto cli = open_ok(path);
    REQUIRE(cli->record_consent(k_klant, true, k_t0, "cli").ok());
    CHECK(*daemon->consent_active(k_klant));  // visible on the daemon's next read
    commit(*daemon, interval(k_meter_a, k_t0));
    CHECK(*cli->latest_end(k_meter_a) == k_t0);
}

TEST_CASE(
    "migration of a version 1 store keeps its data, credentials and consent move to the access "
    "file") {
    gw::test::TempDir dir;
    const std::string path = dir.file("old.db");
    raw_exec(path, gw::test::read_file(std::string(GW_TEST_DATA) + "/store-v1.sql"));
    REQUIRE(raw_count(path, "PRAGMA user_version") == 1);
    const long long clients_before = raw_count(path, "SELECT count(*) FROM api_client");
    const long long secrets_before = raw_count(path, "SELECT count(*) FROM api_secret");
    const long long consent_before = raw_count(path, "SELECT count(*) FROM consent_event");
    auto s = open_ok(path);
    CHECK(s->schema_version() == 3);
    CHECK(raw_count(path,
                    "SELECT count(*) FROM sqlite_master WHERE name IN ('api_client', 'api_secret', "
                    "'consent_event')") == 0);
    CHECK(raw_count(s->access_path(), "SELECT count(*) FROM api_client") == clients_before);
    CHECK(raw_count(s->access_path(), "SELECT count(*) FROM api_secret") == secrets_before);
    CHECK(raw_count(s->access_path(), "SELECT count(*) FROM consent_event") == consent_before);
    auto rows = *s->intervals(k_meter_a, k_t0 - hours{1}, k_t0 + hours{1}, 0, 10);
    REQUIRE(rows.size() == 2);
    CHECK(*rows[0].p_w == -1'234'500.0);
    CHECK(rows[0].flags == 0);  // the new column's default
    CHECK(rows[1].quality == gw::Quality::onvolledig);
    CHECK(s->pending_forward(10)->size() == 1);
    CHECK(*s->consent_active(k_klant));
    REQUIRE(s->append_event({SysMs{}, "", "test", "the v2 event table exists"}).ok());
    check_integrity(*s);
}

TEST_CASE(
    "a lock is not damage: the daemon's store comes up without the data file and takes it back "
    "later") {
    gw::test::TempDir dir;
    const std::string path = dir.file("gw.db");
    {
        auto s = open_ok(path);
        commit(*s, interval(k_meter_a, k_t0));
        REQUIRE(s->record_consent(k_klant, true, k_t0, "installer").ok());
    }
    // Another process holds the data file exclusively (a passing failure, like a full disk).
    sqlite3* holder = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &holder) == SQLITE_OK);
    REQUIRE(sqlite3_exec(holder, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE;", nullptr,
                         nullptr, nullptr) == SQLITE_OK);
    gw::OpenOptions daemon;
    daemon.move_damaged_aside = true;
    daemon.allow_unavailable = true;
    daemon.busy_timeout_ms = 200;  // the lock is held on purpose: no need to wait the daemon's 5 s
    auto s = open_ok(path, daemon);
    CHECK_FALSE(s->data_available());
    REQUIRE(s->data_error().has_value());
    CHECK(s->data_error()->code != gw::Errc::store_damaged);
    auto refused =
        s->commit_interval(interval(k_meter_a, k_t0 + minutes{5}), nullptr, true, {}, SysMs{});
    REQUIRE_FALSE(refused.ok());
    CHECK(*s->consent_active(k_klant));  // the access file answers meanwhile
    gw::OpenOptions cli;
    cli.busy_timeout_ms = 200;
    CHECK_FALSE(
        Store::open(path, cli).ok());  // without allow_unavailable (the admin CLI) the open fails
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        CHECK(entry.path().filename().string().find("damaged") ==
              std::string::npos);  // nothing quarantined
    sqlite3_exec(holder, "COMMIT;", nullptr, nullptr, nullptr);
    sqlite3_close(holder);
    REQUIRE(s->reopen_data().ok());
    CHECK(s->data_available());
    CHECK(s->stats()->intervals == 1);  // the same file, with its data
    commit(*s, interval(k_meter_a, k_t0 + minutes{5}));
}

TEST_CASE("files that are not ours are refused and left untouched") {
    gw::test::TempDir dir;
    SUBCASE("a text file") {
        const std::string path = dir.file("notes.txt");
        gw::test::write_file(path, "this is not a database, it is somebody's notes\n");
        auto s = Store::open(path);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().code == gw::Errc::store_not_a_database);
        CHECK(s.error().message.find("is not an SQLite database") != std::string::npos);
        CHECK(gw::test::read_file(path) == "this is not a database, it is somebody's notes\n");
    }
    SUBCASE("another application's SQLite database") {
        const std::string path = dir.file("other.db");
        raw_exec(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
        const std::string before = gw::test::read_file(path);
        auto s = Store::open(path);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().code == gw::Errc::store_foreign_database);
        CHECK(gw::test::read_file(path) == before);
    }
    SUBCASE("a store from a newer release") {
        const std::string path = dir.file("newer.db");
        { open_ok(path); }
        raw_exec(path, "PRAGMA user_version = 99;");
        const std::string before = gw::test::read_file(path);
        auto s = Store::open(path);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().code == gw::Errc::store_newer_schema);
        CHECK(s.error().message.find("schema version 99, newer than this program's 3") !=
              std::string::npos);
        CHECK(gw::test::read_file(path) == before);
    }
    SUBCASE("a directory") {
        auto s = Store::open(dir.path());
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().code == gw::Errc::store_not_a_database);
    }
    SUBCASE("a missing directory") {
        auto s = Store::open(dir.file("no/such/dir/gw.db"));
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().message.find("cannot create") != std::string::npos);
    }
    SUBCASE("a missing file when creating is not allowed") {
        gw::OpenOptions o;
        o.create = false;
        CHECK_FALSE(Store::open(dir.file("gw.db"), o).ok());
        CHECK_FALSE(std::filesystem::exists(dir.file("gw.db")));
    }
}

TEST_CASE("a read-only store is refused with a clear error") {
    gw::test::TempDir dir;
    const std::string path = dir.file("gw.db");
    { open_ok(path); }
    const std::string before = gw::test::read_file(path);
    if (::geteuid() != 0) {
        ::chmod(path.c_str(), 0444);
        auto s = Store::open(path);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().code == gw::Errc::store_read_only);
    } else {
        // root may write anything: check as the unprivileged user the daemon runs as.
        ::chmod(dir.path().c_str(), 0755);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
            auto s = Store::open(path);
            ::_exit(s.ok() ? 11 : s.error().code == gw::Errc::store_read_only ? 0 : 12);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    CHECK(gw::test::read_file(path) == before);
}

TEST_CASE("a damaged store is reported, and moved aside only when asked") {
    gw::test::TempDir dir;
    const std::string path = dir.file("gw.db");
    {
        auto s = open_ok(path);
        REQUIRE(s->add_client("liander", gw::Role::reader, "hash-1", k_t0).ok());
        REQUIRE(s->record_consent(k_klant, true, k_t0, "installer").ok());
        for (int i = 0; i < 400; ++i) commit(*s, interval(k_meter_a, k_t0 + minutes{5 * i}));
    }
    // Overwrite page 3 onwards of the closed (checkpointed) file with garbage.
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(4096 * 2);
        const std::string garbage(4096 * 3, '\xA5');
        f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    const std::string damaged = gw::test::read_file(path);

    auto refused = Store::open(path);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == gw::Errc::store_damaged);
    CHECK(refused.error().message.find("is damaged") != std::string::npos);
    CHECK(gw::test::read_file(path) == damaged);

    gw::OpenOptions o;
    o.move_damaged_aside = true;
    auto s = open_ok(path, o);
    CHECK(s->stats()->intervals == 0);
    // Damage to the data file cannot reach the credentials and the consent history.
    CHECK(s->client("liander")->has_value());
    CHECK(*s->consent_active(k_klant));
    auto events = *s->recent_events(5);
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == "store_recreated");
    bool found_aside = false;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        if (entry.path().filename().string().rfind("gw.db.damaged-", 0) == 0 &&
            entry.path().string().find("-wal") == std::string::npos) {
            found_aside = true;
            CHECK(gw::test::read_file(entry.path().string()) == damaged);
        }
    }
    CHECK(found_aside);
    check_integrity(*s);
}

TEST_CASE("a damaged access file is moved aside and what can still be read of it is kept") {
    gw::test::TempDir dir;
    const std::string path = dir.file("gw.db");
    std::string access;
    {
        auto s = open_ok(path);
        access = s->access_path();
        REQUIRE(s->add_client("liander", gw::Role::reader, "hash-1", k_t0).ok());
        // Enough consent history to fill several pages; the last page is damaged below.
        for (int i = 0; i < 400; ++i)
            REQUIRE(s->record_consent(k_klant, i % 2 == 0, k_t0 + seconds{i},
                                      std::string(60, static_cast<char>('a' + i % 26)))
                        .ok());
    }
    const auto size = std::filesystem::file_size(access);
    {
        std::fstream f(access, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(size - 4096));
        const std::string garbage(4096, '\x5A');
        f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    auto refused = Store::open(path);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == gw::Errc::store_damaged);

    gw::OpenOptions o;
    o.move_damaged_aside = true;
    auto s = open_ok(path, o);
    CHECK(s->client("liander")->has_value());  // its page was intact
    const auto history = *s->consent_history(nullptr);
    CHECK(history.size() > 0);
    CHECK(history.size() < 400);
    bool aside = false;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        aside |= entry.path().filename().string().rfind("gw-access.db.damaged-", 0) == 0;
    CHECK(aside);
    auto events = *s->recent_events(5);
    REQUIRE_FALSE(events.empty());
    CHECK(events[0].kind == "store_recreated");
    CHECK(events[0].detail.find("recovered") != std::string::npos);
    check_integrity(*s);
}
