// PgStore: the head-end's PostgreSQL store (libpqxx 6).
#include "gw/pgstore/pg_store.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <charconv>
#include <map>

#include "schema.hpp"

namespace gw {

using namespace std::chrono;

namespace {

constexpr long long k_migrate_lock = 0x4D47'4831;    // "MGH1": schema migration
constexpr long long k_partition_lock = 0x4D47'4832;  // partition creation
constexpr long long k_scan_lock = 0x4D47'4833;       // the gap scan

long long secs(SysS t) {
    return t.time_since_epoch().count();
}
SysS from_secs(long long s) {
    return SysS{seconds{s}};
}
long long ean_num(const Ean18& e) {
    return std::stoll(e.to_string());
}
Ean18 ean_from_text(std::string text) {
    text.insert(0, 18 - std::min<std::size_t>(18, text.size()), '0');
    auto e = Ean18::parse(text);
    if (!e) throw std::runtime_error("stored EAN " + text + " is invalid");
    return *e;
}
Ean18 ean_of(const pqxx::field& f) {
    return ean_from_text(f.c_str());
}
Ean18 ean_from_num(long long n) {
    return ean_from_text(std::to_string(n));
}
std::optional<double> opt_double(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<double>();
}
std::optional<SysS> opt_time(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return from_secs(f.as<long long>());
}
/// Epoch seconds of a timestamptz column, as SQL.
std::string epoch(const std::string& column) {
    return "extract(epoch from " + column + ")::bigint";
}

/// Builds a PostgreSQL array literal ("{1,NULL,2.5}") for one column of a batch.
class ArrayText {
  public:
    ArrayText() : text_("{") {}
    void add(long long v) { sep() += std::to_string(v); }
    void add(double v) {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact form
        (void)ec;
        sep().append(buf, end);
    }
    void add(const std::optional<double>& v) {
        if (v)
            add(*v);
        else
            sep() += "NULL";
    }
    void add(const std::string& s) {
        sep() += '"';
        for (char c : s) {
            if (c == '"' || c == '\\') text_ += '\\';
            text_ += c;
        }
        text_ += '"';
    }
    std::string done() { return text_ + "}"; }

  private:
    std::string& sep() {
        if (text_.size() > 1) text_ += ',';
        return text_;
    }
    std::string text_;
};

/// Days since the epoch of the first of t's month.
long long month_of(SysS t) {
    const year_month_day d{floor<days>(t)};
    return sys_days{d.year() / d.month() / 1}.time_since_epoch().count();
}
std::string partition_name(long long month) {
    const year_month_day d{sys_days{days{month}}};
    char buf[32];
    std::snprintf(buf, sizeof buf, "intervals_%04d%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()));
    return buf;
}
long long next_month(long long month) {
    const year_month_day d{sys_days{days{month}}};
    return sys_days{(d.year() / d.month() + std::chrono::months{1}) / 1}.time_since_epoch().count();
}

const char* const k_interval_columns =
    "meter_ean, extract(epoch from end_at)::bigint, interval_s, p_w, q_var, u1_v, u2_v, u3_v, "
    "quality, samples, coverage";

IntervalRecord read_interval(const pqxx::row& r) {
    IntervalRecord i;
    i.meter_ean = ean_of(r[0]);
    i.end = from_secs(r[1].as<long long>());
    i.interval_s = r[2].as<int>();
    i.p_w = opt_double(r[3]);
    i.q_var = opt_double(r[4]);
    i.u1_v = opt_double(r[5]);
    i.u2_v = opt_double(r[6]);
    i.u3_v = opt_double(r[7]);
    i.quality = r[8].as<int>() == 0 ? Quality::gemeten : Quality::onvolledig;
    i.samples = r[9].as<int>();
    i.coverage = r[10].as<double>();
    return i;
}

ApiClient read_client(const pqxx::row& r) {
    ApiClient c{r[0].c_str(), parse_role(r[1].c_str()).value_or(Role::reader),
                from_secs(r[2].as<long long>()), opt_time(r[3])};
    return c;
}

/// Consecutive missing interval ends grouped into gaps (from, to].
std::vector<std::pair<long long, long long>> group_missing(const std::vector<long long>& ends,
                                                           long long interval_s) {
    std::vector<std::pair<long long, long long>> out;
    for (long long e : ends) {
        if (!out.empty() && out.back().second + interval_s == e)
            out.back().second = e;
        else
            out.emplace_back(e - interval_s, e);
    }
    return out;
}

}  // namespace

struct PgStore::Conn : pqxx::connection {
    using pqxx::connection::connection;
};

template <class F>
auto PgStore::guard(const char* what, F&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const pqxx::broken_connection& e) {
        conn_.reset();
        return make_error(
            Errc::store_io,
            std::string(what) + ": the connection to PostgreSQL is lost (" + e.what() + ")");
    } catch (const std::exception& e) {
        if (conn_ && !conn_->is_open()) conn_.reset();
        std::string msg = e.what();
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        return make_error(Errc::store_io, std::string(what) + ": " + msg);
    }
}

PgStore::PgStore(std::string conninfo) : conninfo_(std::move(conninfo)) {}
PgStore::~PgStore() = default;

PgStore::Conn& PgStore::conn() {
    if (conn_ && conn_->is_open()) return *conn_;
    conn_ = std::make_unique<Conn>(conninfo_);
    known_months_.clear();
    auto& c = *conn_;
    c.prepare("intervals", std::string("SELECT ") + k_interval_columns +
                               " FROM intervals WHERE meter_ean = $1 AND end_at > to_timestamp($2) "
                               "AND end_at <= to_timestamp($3) ORDER BY end_at OFFSET $4 LIMIT $5");
    c.prepare("latest_end",
              "SELECT " + epoch("max(end_at)") + " FROM intervals WHERE meter_ean = $1");
    c.prepare("consent_active",
              "SELECT granted FROM consent_event WHERE klant_ean = $1 ORDER BY id DESC LIMIT 1");
    c.prepare("data_version", "SELECT n FROM data_generation WHERE id = 1");
    c.prepare("client", "SELECT name, role, " + epoch("created_at") + ", " + epoch("revoked_at") +
                            " FROM api_client WHERE name = $1");
    c.prepare("valid_secrets",
              "SELECT s.id, s.client, s.hash, " + epoch("s.created_at") + ", " +
                  epoch("s.expires_at") +
                  " FROM api_secret s JOIN api_client c ON c.name = s.client WHERE s.client = $1 "
                  "AND c.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > "
                  "to_timestamp($2)) ORDER BY s.id DESC");
    return c;
}

Result<std::unique_ptr<PgStore>> PgStore::open(const std::string& conninfo) {
    std::unique_ptr<PgStore> s(new PgStore(conninfo));
    if (auto st = s->migrate(); !st) return st.error();
    return s;
}

Status PgStore::migrate() {
    return guard("cannot prepare the database schema", [&]() -> Status {
        pqxx::work tx(conn());
        tx.exec("SET LOCAL client_min_messages = warning");
        tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(k_migrate_lock) + ")");
        tx.exec("CREATE TABLE IF NOT EXISTS headend_schema (version integer NOT NULL)");
        auto r = tx.exec("SELECT version FROM headend_schema");
        int version = 0;
        if (r.empty())
            tx.exec("INSERT INTO headend_schema VALUES (0)");
        else
            version = r[0][0].as<int>();
        if (version > k_schema_version)
            return make_error(Errc::store_newer_schema,
                              "the database has schema v" + std::to_string(version) +
                                  ", newer than this head-end's v" +
                                  std::to_string(k_schema_version) + "; refusing to touch it");
        for (int v = version; v < k_schema_version; ++v)
            tx.exec(pgschema::k_migrations[static_cast<std::size_t>(v)]);
        tx.exec("UPDATE headend_schema SET version = " + std::to_string(k_schema_version));
        tx.commit();
        return {};
    });
}

void PgStore::ensure_month_partitions(void* txp, const std::set<long long>& months) {
    auto& tx = *static_cast<pqxx::work*>(txp);
    bool locked = false;
    for (long long m : months) {
        if (known_months_.count(m)) continue;
        if (!locked) {
            tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(k_partition_lock) + ")");
            locked = true;
        }
        const auto from = format_utc(SysS{days{m}}), to = format_utc(SysS{days{next_month(m)}});
        tx.exec("CREATE TABLE IF NOT EXISTS " + partition_name(m) +
                " PARTITION OF intervals FOR VALUES FROM ('" + from + "') TO ('" + to + "')");
    }
}

Status PgStore::ensure_partitions(SysS from, SysS to) {
    return guard("cannot create partitions", [&]() -> Status {
        std::set<long long> months;
        for (long long m = month_of(from); m <= month_of(to); m = next_month(m)) months.insert(m);
        pqxx::work tx(conn());
        ensure_month_partitions(&tx, months);
        tx.commit();
        known_months_.insert(months.begin(), months.end());
        return {};
    });
}

Result<std::vector<std::string>> PgStore::partitions() {
    return guard("cannot list partitions", [&]() -> Result<std::vector<std::string>> {
        pqxx::nontransaction tx(conn());
        auto r = tx.exec(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'intervals' "
            "ORDER BY c.relname");
        std::vector<std::string> out;
        for (const auto& row : r) out.emplace_back(row[0].c_str());
        return out;
    });
}

Result<std::vector<std::string>> PgStore::drop_partitions_before(SysS cutoff) {
    auto names = partitions();
    if (!names) return names.error();
    return guard("cannot drop partitions", [&]() -> Result<std::vector<std::string>> {
        std::vector<std::string> dropped;
        for (const auto& name : *names) {
            // intervals_YYYYMM: the partition ends at the first of the next month.
            int y = 0;
            unsigned mo = 0;
            if (std::sscanf(name.c_str(), "intervals_%4d%2u", &y, &mo) != 2) continue;
            const long long m = sys_days{year{y} / month{mo} / 1}.time_since_epoch().count();
            if (SysS{days{next_month(m)}} > cutoff) continue;
            pqxx::work tx(conn());
            tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(k_partition_lock) + ")");
            tx.exec("DROP TABLE IF EXISTS " + name);
            tx.exec("UPDATE data_generation SET n = n + 1 WHERE id = 1");
            tx.commit();
            known_months_.erase(m);
            dropped.push_back(name);
        }
        return dropped;
    });
}

Result<std::int64_t> PgStore::prune_records(SysS cutoff) {
    return guard("cannot prune old records", [&]() -> Result<std::int64_t> {
        pqxx::work tx(conn());
        const long long c = secs(cutoff);
        std::int64_t n = 0;
        n += static_cast<std::int64_t>(
            tx.exec_params("DELETE FROM api_audit WHERE at < to_timestamp($1)", c).affected_rows());
        n += static_cast<std::int64_t>(
            tx.exec_params("DELETE FROM conflict WHERE at < to_timestamp($1)", c).affected_rows());
        n += static_cast<std::int64_t>(
            tx.exec_params("DELETE FROM gap WHERE unfillable AND to_s < $1", c).affected_rows());
        tx.commit();
        return n;
    });
}

Result<IngestOutcome> PgStore::ingest(const std::vector<IncomingInterval>& batch,
                                      std::int64_t malformed, const std::string& instance,
                                      SysS now) {
    return guard("cannot store intervals", [&]() -> Result<IngestOutcome> {
        IngestOutcome out;
        // Within the batch the first of a key wins; later ones are compared with it.
        std::map<IntervalKey, const IncomingInterval*> first;
        std::vector<const IncomingInterval*> unique, repeats;
        std::set<long long> months;
        for (const auto& in : batch) {
            auto [it, fresh] = first.emplace(IntervalKey{in.record.meter_ean, in.record.end}, &in);
            (fresh ? unique : repeats).push_back(&in);
            if (fresh) months.insert(month_of(in.record.end));
        }
        pqxx::work tx(conn());
        ensure_month_partitions(&tx, months);
        std::set<IntervalKey> inserted;
        if (!unique.empty()) {
            ArrayText m, e, iv, p, q, u1, u2, u3, ql, n, cov, gw;
            for (const auto* in : unique) {
                const IntervalRecord& r = in->record;
                m.add(ean_num(r.meter_ean));
                e.add(static_cast<long long>(secs(r.end)));
                iv.add(static_cast<long long>(r.interval_s));
                p.add(r.p_w);
                q.add(r.q_var);
                u1.add(r.u1_v);
                u2.add(r.u2_v);
                u3.add(r.u3_v);
                ql.add(static_cast<long long>(r.quality == Quality::gemeten ? 0 : 1));
                n.add(static_cast<long long>(r.samples));
                cov.add(r.coverage);
                gw.add(in->gateway_id);
            }
            auto res = tx.exec_params(
                "INSERT INTO intervals (meter_ean, end_at, interval_s, p_w, q_var, u1_v, u2_v, "
                "u3_v, quality, samples, coverage, gateway_id) "
                "SELECT m, to_timestamp(e), iv, p, q, u1, u2, u3, ql, n, cov, gw FROM unnest("
                "$1::bigint[], $2::bigint[], $3::integer[], $4::float8[], $5::float8[], "
                "$6::float8[], $7::float8[], $8::float8[], $9::smallint[], $10::integer[], "
                "$11::float8[], $12::text[]) AS t(m, e, iv, p, q, u1, u2, u3, ql, n, cov, gw) "
                "ON CONFLICT DO NOTHING RETURNING meter_ean, " +
                    epoch("end_at"),
                m.done(), e.done(), iv.done(), p.done(), q.done(), u1.done(), u2.done(), u3.done(),
                ql.done(), n.done(), cov.done(), gw.done());
            for (const auto& row : res)
                inserted.insert({ean_of(row[0]), from_secs(row[1].as<long long>())});
        }
        out.inserted = static_cast<std::int64_t>(inserted.size());
        // Everything not inserted now is compared with what is stored.
        std::vector<const IncomingInterval*> compare;
        for (const auto* in : unique)
            if (!inserted.count({in->record.meter_ean, in->record.end})) compare.push_back(in);
        std::map<IntervalKey, IntervalRecord> stored;
        for (const auto* in : unique)
            if (inserted.count({in->record.meter_ean, in->record.end}))
                stored.emplace(IntervalKey{in->record.meter_ean, in->record.end}, in->record);
        if (!compare.empty()) {
            ArrayText m, e;
            for (const auto* in : compare) {
                m.add(ean_num(in->record.meter_ean));
                e.add(static_cast<long long>(secs(in->record.end)));
            }
            auto res = tx.exec_params(std::string("SELECT ") + k_interval_columns +
                                          " FROM intervals WHERE (meter_ean, end_at) IN (SELECT "
                                          "m, to_timestamp(e) FROM unnest($1::bigint[], "
                                          "$2::bigint[]) AS t(m, e))",
                                      m.done(), e.done());
            for (const auto& row : res) {
                IntervalRecord r = read_interval(row);
                stored.emplace(IntervalKey{r.meter_ean, r.end}, r);
            }
        }
        compare.insert(compare.end(), repeats.begin(), repeats.end());
        for (const auto* in : compare) {
            auto it = stored.find({in->record.meter_ean, in->record.end});
            if (it == stored.end()) continue;  // cannot be: it was there or went in now
            if (it->second.same_values(in->record)) {
                ++out.duplicates;
                continue;
            }
            const std::string id =
                in->record.meter_ean.to_string() + "/" + format_utc(in->record.end);
            std::string line = "conflicting values for id " + id + " from " + in->topic +
                               ": the first values stay";
            tx.exec_params(
                "INSERT INTO conflict (meter_ean, end_at, gateway_id, topic, detail, at) "
                "VALUES ($1, to_timestamp($2), $3, $4, $5, to_timestamp($6))",
                ean_num(in->record.meter_ean), static_cast<long long>(secs(in->record.end)),
                in->gateway_id, in->topic, line, static_cast<long long>(secs(now)));
            out.conflicts.push_back(std::move(line));
        }
        // The last message per gateway.
        std::set<std::string> gateways;
        for (const auto& in : batch) gateways.insert(in.gateway_id);
        for (const auto& g : gateways)
            tx.exec_params(
                "INSERT INTO gateway (gateway_id, last_message_at) VALUES ($1, to_timestamp($2)) "
                "ON CONFLICT (gateway_id) DO UPDATE SET last_message_at = excluded.last_message_at",
                g, static_cast<long long>(secs(now)));
        tx.exec_params(
            "INSERT INTO ingest_counter AS c (instance, received, inserted, duplicates, conflicts, "
            "malformed, updated_at) VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7)) "
            "ON CONFLICT (instance) DO UPDATE SET received = c.received + excluded.received, "
            "inserted = c.inserted + excluded.inserted, duplicates = c.duplicates + "
            "excluded.duplicates, conflicts = c.conflicts + excluded.conflicts, malformed = "
            "c.malformed + excluded.malformed, updated_at = excluded.updated_at",
            instance, static_cast<long long>(batch.size() + static_cast<std::size_t>(malformed)),
            static_cast<long long>(out.inserted), static_cast<long long>(out.duplicates),
            static_cast<long long>(out.conflicts.size()), static_cast<long long>(malformed),
            static_cast<long long>(secs(now)));
        if (out.inserted > 0) tx.exec("UPDATE data_generation SET n = n + 1 WHERE id = 1");
        tx.commit();
        known_months_.insert(months.begin(), months.end());
        return out;
    });
}

Status PgStore::upsert_manifest(const Manifest& mf, SysS now) {
    return guard("cannot store a manifest", [&]() -> Status {
        pqxx::work tx(conn());
        tx.exec_params(
            "INSERT INTO gateway (gateway_id, interval_s, version, manifest_at) VALUES ($1, $2, "
            "$3, to_timestamp($4)) ON CONFLICT (gateway_id) DO UPDATE SET interval_s = "
            "excluded.interval_s, version = excluded.version, manifest_at = excluded.manifest_at",
            mf.gateway_id, mf.interval_s, mf.version, static_cast<long long>(secs(now)));
        tx.exec_params("UPDATE meter SET reported = false WHERE gateway_id = $1", mf.gateway_id);
        for (const auto& m : mf.meters)
            tx.exec_params(
                "INSERT INTO meter (meter_ean, klant_ean, meter_type, gateway_id, interval_s, "
                "reported, first_s) VALUES ($1, $2, $3, $4, $5, true, $6) ON CONFLICT (meter_ean) "
                "DO UPDATE SET klant_ean = excluded.klant_ean, meter_type = excluded.meter_type, "
                "gateway_id = excluded.gateway_id, interval_s = excluded.interval_s, reported = "
                "true",
                ean_num(m.meter_ean), ean_num(m.klant_ean), std::string(meter_type_name(m.type)),
                mf.gateway_id, mf.interval_s, static_cast<long long>(secs(now)));
        tx.exec("UPDATE data_generation SET n = n + 1 WHERE id = 1");
        tx.commit();
        return {};
    });
}

Status PgStore::set_gateway_state(const std::string& gateway_id, const std::string& state,
                                  SysS now) {
    return guard("cannot store a gateway state", [&]() -> Status {
        pqxx::work tx(conn());
        tx.exec_params(
            "INSERT INTO gateway (gateway_id, state, state_at) VALUES ($1, $2, to_timestamp($3)) "
            "ON CONFLICT (gateway_id) DO UPDATE SET state = excluded.state, state_at = "
            "excluded.state_at",
            gateway_id, state, static_cast<long long>(secs(now)));
        tx.commit();
        return {};
    });
}

Result<std::vector<FleetMeter>> PgStore::fleet_meters() {
    return guard("cannot read the fleet registry", [&]() -> Result<std::vector<FleetMeter>> {
        pqxx::nontransaction tx(conn());
        auto r = tx.exec(
            "SELECT meter_ean, klant_ean, meter_type, gateway_id, interval_s FROM meter WHERE "
            "reported ORDER BY klant_ean, meter_ean");
        std::vector<FleetMeter> out;
        out.reserve(r.size());
        for (const auto& row : r)
            out.push_back({ean_of(row[0]), ean_of(row[1]),
                           std::string_view(row[2].c_str()) == "overdrachtspunt"
                               ? MeterType::overdrachtspunt
                               : MeterType::bruto_productie,
                           row[3].c_str(), row[4].as<int>()});
        return out;
    });
}

Result<std::vector<BackfillOrder>> PgStore::plan_backfill(SysS now, int grace_s, int attempts,
                                                          int keep_days) {
    return guard("cannot plan backfill", [&]() -> Result<std::vector<BackfillOrder>> {
        std::vector<BackfillOrder> orders;
        pqxx::work tx(conn());
        auto lock =
            tx.exec("SELECT pg_try_advisory_xact_lock(" + std::to_string(k_scan_lock) + ")");
        if (!lock[0][0].as<bool>()) return orders;  // another instance scans
        const long long now_s = secs(now), horizon = now_s - grace_s,
                        floor_s = now_s - static_cast<long long>(keep_days) * 86400;
        // 1. New gaps since the last scan, for each reported meter.
        auto missing = tx.exec_params(
            "WITH w AS (SELECT meter_ean, interval_s, greatest(scanned_to_s, first_s, "
            "$2::bigint) / interval_s * interval_s AS s, $1::bigint / interval_s * interval_s "
            "AS h FROM meter WHERE reported) "
            "SELECT w.meter_ean, w.interval_s, e FROM w, generate_series(w.s + w.interval_s, w.h, "
            "w.interval_s::bigint) AS e WHERE NOT EXISTS (SELECT 1 FROM intervals i WHERE "
            "i.meter_ean = w.meter_ean AND i.end_at = to_timestamp(e)) ORDER BY 1, 3",
            horizon, floor_s);
        std::map<long long, std::pair<long long, std::vector<long long>>> by_meter;
        for (const auto& row : missing) {
            auto& entry = by_meter[row[0].as<long long>()];
            entry.first = row[1].as<long long>();
            entry.second.push_back(row[2].as<long long>());
        }
        for (const auto& [meter, entry] : by_meter)
            for (const auto& [from, to] : group_missing(entry.second, entry.first))
                tx.exec_params(
                    "INSERT INTO gap (meter_ean, from_s, to_s) VALUES ($1, $2, $3) "
                    "ON CONFLICT (meter_ean, from_s) DO UPDATE SET to_s = greatest(gap.to_s, "
                    "excluded.to_s)",
                    meter, from, to);
        tx.exec_params(
            "UPDATE meter SET scanned_to_s = $1::bigint / interval_s * interval_s WHERE reported "
            "AND (scanned_to_s IS NULL OR scanned_to_s < $1::bigint / interval_s * interval_s)",
            horizon);
        // 2. Known gaps: what is still missing in each (backfills fill them, or part of them).
        auto still = tx.exec(
            "SELECT g.meter_ean, g.from_s, m.interval_s, e FROM gap g JOIN meter m USING "
            "(meter_ean), generate_series(g.from_s + m.interval_s, g.to_s, m.interval_s::bigint) "
            "AS e WHERE NOT EXISTS (SELECT 1 FROM intervals i WHERE i.meter_ean = g.meter_ean "
            "AND i.end_at = to_timestamp(e)) ORDER BY 1, 2, 4");
        std::map<std::pair<long long, long long>, std::pair<long long, std::vector<long long>>>
            left;
        for (const auto& row : still) {
            auto& entry = left[{row[0].as<long long>(), row[1].as<long long>()}];
            entry.first = row[2].as<long long>();
            entry.second.push_back(row[3].as<long long>());
        }
        auto gaps = tx.exec(
            "SELECT g.meter_ean, g.from_s, g.to_s, g.attempts, " + epoch("g.last_request_at") +
            ", g.unfillable, m.gateway_id, coalesce(gw.state, '') FROM gap g JOIN meter m USING "
            "(meter_ean) LEFT JOIN gateway gw ON gw.gateway_id = m.gateway_id ORDER BY 1, 2");
        for (const auto& row : gaps) {
            const long long meter = row[0].as<long long>(), from = row[1].as<long long>(),
                            to = row[2].as<long long>();
            int tries = row[3].as<int>();
            std::optional<long long> last;
            if (!row[4].is_null()) last = row[4].as<long long>();
            const bool unfillable = row[5].as<bool>();
            const std::string gateway = row[6].c_str();
            const bool offline = std::string_view(row[7].c_str()) == "offline";
            auto it = left.find({meter, from});
            std::vector<std::pair<long long, long long>> parts;
            if (it != left.end()) parts = group_missing(it->second.second, it->second.first);
            const bool same = parts.size() == 1 && parts[0] == std::make_pair(from, to);
            if (!same) {
                tx.exec_params("DELETE FROM gap WHERE meter_ean = $1 AND from_s = $2", meter, from);
                for (const auto& [f, t] : parts)
                    tx.exec_params(
                        "INSERT INTO gap (meter_ean, from_s, to_s, attempts, last_request_at, "
                        "unfillable) VALUES ($1, $2, $3, $4, to_timestamp($5), $6) ON CONFLICT "
                        "DO NOTHING",
                        meter, f, t, tries, last, unfillable);
            }
            if (unfillable || offline || (last && *last > now_s - grace_s)) continue;
            // The gateway keeps 31 days: what ended before it is gone for good.
            const bool too_old = to <= now_s - 31LL * 86400;
            if (tries >= attempts || too_old) {
                for (const auto& part : parts)
                    tx.exec_params(
                        "UPDATE gap SET unfillable = true WHERE meter_ean = $1 AND from_s = $2",
                        meter, part.first);
                continue;
            }
            ++tries;
            for (const auto& [f, t] : parts) {
                tx.exec_params(
                    "UPDATE gap SET attempts = $3, last_request_at = to_timestamp($4) WHERE "
                    "meter_ean = $1 AND from_s = $2",
                    meter, f, tries, now_s);
                orders.push_back({gateway, ean_from_num(meter), from_secs(f), from_secs(t)});
            }
        }
        tx.commit();
        return orders;
    });
}

Result<std::vector<GatewayStatus>> PgStore::gateway_status(SysS now) {
    return guard("cannot read the fleet status", [&]() -> Result<std::vector<GatewayStatus>> {
        pqxx::nontransaction tx(conn());
        const long long now_s = secs(now);
        std::vector<GatewayStatus> out;
        std::map<std::string, std::size_t> index;
        auto gws = tx.exec("SELECT gateway_id, version, interval_s, state, " +
                           epoch("manifest_at") + ", " + epoch("state_at") + ", " +
                           epoch("last_message_at") + " FROM gateway ORDER BY gateway_id");
        for (const auto& row : gws) {
            GatewayStatus g;
            g.gateway_id = row[0].c_str();
            g.version = row[1].c_str();
            g.interval_s = row[2].as<int>();
            g.state = row[3].c_str();
            g.manifest_at = opt_time(row[4]);
            g.state_at = opt_time(row[5]);
            g.last_message_at = opt_time(row[6]);
            index[g.gateway_id] = out.size();
            out.push_back(std::move(g));
        }
        auto meters = tx.exec_params(
            "SELECT m.meter_ean, m.klant_ean, m.meter_type, m.gateway_id, m.interval_s, m.first_s, "
            "(SELECT count(*) FROM intervals i WHERE i.meter_ean = m.meter_ean AND i.end_at > "
            "to_timestamp($1::bigint - 86400) AND i.end_at <= to_timestamp($1::bigint)), (SELECT " +
                epoch("max(end_at)") +
                " FROM intervals i WHERE i.meter_ean = m.meter_ean) FROM meter m WHERE m.reported "
                "ORDER BY m.gateway_id, m.meter_ean",
            now_s);
        for (const auto& row : meters) {
            auto it = index.find(row[3].c_str());
            if (it == index.end()) continue;
            GatewayStatus::Meter m;
            m.meter_ean = ean_of(row[0]);
            m.klant_ean = ean_of(row[1]);
            m.type = std::string_view(row[2].c_str()) == "overdrachtspunt"
                         ? MeterType::overdrachtspunt
                         : MeterType::bruto_productie;
            const long long iv = row[4].as<long long>(), first = row[5].as<long long>() / iv * iv;
            const long long until = now_s / iv * iv;
            const long long since = std::max(now_s - 86400, first);
            m.last_day_expected = until > since ? (until - since) / iv : 0;
            m.last_day = row[6].as<long long>();
            m.newest = opt_time(row[7]);
            out[it->second].meters.push_back(m);
        }
        auto gaps = tx.exec("SELECT g.meter_ean, g.from_s, g.to_s, g.attempts, " +
                            epoch("g.last_request_at") +
                            ", g.unfillable, m.gateway_id FROM gap g JOIN meter m USING "
                            "(meter_ean) ORDER BY m.gateway_id, 1, 2");
        for (const auto& row : gaps) {
            auto it = index.find(row[6].c_str());
            if (it == index.end()) continue;
            out[it->second].gaps.push_back({ean_of(row[0]), from_secs(row[1].as<long long>()),
                                            from_secs(row[2].as<long long>()), row[3].as<int>(),
                                            opt_time(row[4]), row[5].as<bool>()});
        }
        return out;
    });
}

Result<std::vector<IngestCounters>> PgStore::ingest_counters() {
    return guard("cannot read the ingest counters", [&]() -> Result<std::vector<IngestCounters>> {
        pqxx::nontransaction tx(conn());
        auto r = tx.exec("SELECT instance, received, inserted, duplicates, conflicts, malformed, " +
                         epoch("updated_at") + " FROM ingest_counter ORDER BY instance");
        std::vector<IngestCounters> out;
        for (const auto& row : r)
            out.push_back({row[0].c_str(), row[1].as<std::int64_t>(), row[2].as<std::int64_t>(),
                           row[3].as<std::int64_t>(), row[4].as<std::int64_t>(),
                           row[5].as<std::int64_t>(), opt_time(row[6])});
        return out;
    });
}

Result<std::vector<IntervalRecord>> PgStore::intervals(const Ean18& meter, SysS from_exclusive,
                                                       SysS to_inclusive, std::int64_t offset,
                                                       std::int64_t limit) {
    return guard("cannot read intervals", [&]() -> Result<std::vector<IntervalRecord>> {
        pqxx::nontransaction tx(conn());
        auto r = tx.exec_prepared("intervals", ean_num(meter),
                                  static_cast<long long>(secs(from_exclusive)),
                                  static_cast<long long>(secs(to_inclusive)),
                                  static_cast<long long>(offset), static_cast<long long>(limit));
        std::vector<IntervalRecord> out;
        out.reserve(r.size());
        for (const auto& row : r) out.push_back(read_interval(row));
        return out;
    });
}

Result<std::optional<SysS>> PgStore::latest_end(const Ean18& meter) {
    return guard("cannot read intervals", [&]() -> Result<std::optional<SysS>> {
        pqxx::nontransaction tx(conn());
        auto r = tx.exec_prepared("latest_end", ean_num(meter));
        return opt_time(r[0][0]);
    });
}

Result<std::vector<EnergyReading>> PgStore::energy_readings(const Ean18&, SysS, SysS, std::int64_t,
                                                            std::int64_t) {
    return std::vector<EnergyReading>{};
}

Result<bool> PgStore::consent_active(const Ean18& klant) {
    return guard("cannot read consent", [&]() -> Result<bool> {
        pqxx::nontransaction tx(conn());
        auto r = tx.exec_prepared("consent_active", ean_num(klant));
        return !r.empty() && r[0][0].as<bool>();
    });
}

Result<std::optional<ApiClient>> PgStore::client(const std::string& name) {
    return guard("cannot read clients", [&]() -> Result<std::optional<ApiClient>> {
        pqxx::nontransaction tx(conn());
        auto r = tx.exec_prepared("client", name);
        if (r.empty()) return std::optional<ApiClient>{};
        return std::optional<ApiClient>{read_client(r[0])};
    });
}

Result<std::vector<ApiClient>> PgStore::clients() {
    return guard("cannot read clients", [&]() -> Result<std::vector<ApiClient>> {
        pqxx::nontransaction tx(conn());
        auto r = tx.exec("SELECT name, role, " + epoch("created_at") + ", " + epoch("revoked_at") +
                         " FROM api_client ORDER BY name");
        std::vector<ApiClient> out;
        for (const auto& row : r) out.push_back(read_client(row));
        return out;
    });
}

Result<std::vector<ApiSecret>> PgStore::valid_secrets(const std::string& name, SysS at) {
    return guard("cannot read secrets", [&]() -> Result<std::vector<ApiSecret>> {
        pqxx::nontransaction tx(conn());
        auto r = tx.exec_prepared("valid_secrets", name, static_cast<long long>(secs(at)));
        std::vector<ApiSecret> out;
        for (const auto& row : r)
            out.push_back({row[0].as<std::int64_t>(), row[1].c_str(), row[2].c_str(),
                           from_secs(row[3].as<long long>()), opt_time(row[4])});
        return out;
    });
}

Status PgStore::update_secret_hash(std::int64_t secret_id, const std::string& hash) {
    return guard("cannot update a secret", [&]() -> Status {
        pqxx::work tx(conn());
        tx.exec_params("UPDATE api_secret SET hash = $2 WHERE id = $1",
                       static_cast<long long>(secret_id), hash);
        tx.commit();
        return {};
    });
}

Status PgStore::append_audit(const std::vector<AuditRecord>& records) {
    if (records.empty()) return {};
    return guard("cannot write the audit log", [&]() -> Status {
        pqxx::work tx(conn());
        for (const auto& a : records) {
            auto opt = [](const std::optional<SysS>& t) -> std::optional<long long> {
                if (!t) return std::nullopt;
                return secs(*t);
            };
            tx.exec_params(
                "INSERT INTO api_audit (at, client, correlation_id, method, path, klant_ean, "
                "meter_ean, window_start, window_end, rows, status, detail) VALUES "
                "(to_timestamp($1::double precision / 1000), $2, $3, $4, $5, $6, $7, "
                "to_timestamp($8), to_timestamp($9), $10, $11, $12)",
                static_cast<long long>(a.at.time_since_epoch().count()), a.client, a.correlation_id,
                a.method, a.path, a.klant_ean, a.meter_ean, opt(a.window_start), opt(a.window_end),
                static_cast<long long>(a.rows), a.status, a.detail);
        }
        tx.commit();
        return {};
    });
}

Result<StoreStats> PgStore::stats() {
    return guard("cannot read store figures", [&]() -> Result<StoreStats> {
        pqxx::nontransaction tx(conn());
        StoreStats st;
        st.schema_version = k_schema_version;
        // An estimate: counting a fleet's rows exactly takes seconds.
        auto r = tx.exec(
            "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_inherits i JOIN "
            "pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE "
            "p.relname = 'intervals'");
        st.intervals = r[0][0].as<std::int64_t>();
        auto t = tx.exec("SELECT " + epoch("min(end_at)") + ", " + epoch("max(end_at)") +
                         ", pg_database_size(current_database()) FROM intervals");
        st.oldest_interval = opt_time(t[0][0]);
        st.newest_interval = opt_time(t[0][1]);
        st.file_bytes = t[0][2].as<std::int64_t>();
        return st;
    });
}

Result<std::int64_t> PgStore::data_version() {
    return guard("cannot read the data version", [&]() -> Result<std::int64_t> {
        pqxx::nontransaction tx(conn());
        return tx.exec_prepared("data_version")[0][0].as<std::int64_t>();
    });
}

Status PgStore::record_consent(const Ean18& klant, bool granted, SysS at,
                               const std::string& actor) {
    return guard("cannot store consent", [&]() -> Status {
        pqxx::work tx(conn());
        tx.exec_params(
            "INSERT INTO consent_event (klant_ean, granted, at, actor) VALUES ($1, $2, "
            "to_timestamp($3), $4)",
            ean_num(klant), granted, static_cast<long long>(secs(at)), actor);
        tx.exec("UPDATE data_generation SET n = n + 1 WHERE id = 1");
        tx.commit();
        return {};
    });
}

Result<std::vector<ConsentEvent>> PgStore::consent_history(const Ean18* klant) {
    return guard("cannot read consent", [&]() -> Result<std::vector<ConsentEvent>> {
        pqxx::nontransaction tx(conn());
        const std::string sql =
            "SELECT id, klant_ean, granted, " + epoch("at") + ", actor FROM consent_event";
        auto r = klant ? tx.exec_params(sql + " WHERE klant_ean = $1 ORDER BY id", ean_num(*klant))
                       : tx.exec(sql + " ORDER BY id");
        std::vector<ConsentEvent> out;
        for (const auto& row : r)
            out.push_back({row[0].as<std::int64_t>(), ean_of(row[1]), row[2].as<bool>(),
                           from_secs(row[3].as<long long>()), row[4].c_str()});
        return out;
    });
}

Status PgStore::add_client(const std::string& name, Role role, const std::string& secret_hash,
                           SysS at) {
    return guard("cannot add a client", [&]() -> Status {
        pqxx::work tx(conn());
        auto r = tx.exec_params(
            "INSERT INTO api_client (name, role, created_at) VALUES ($1, $2, to_timestamp($3)) "
            "ON CONFLICT DO NOTHING",
            name, std::string(role_name(role)), static_cast<long long>(secs(at)));
        if (r.affected_rows() == 0)
            return make_error(Errc::invalid_argument,
                              "an API client named \"" + name + "\" already exists");
        tx.exec_params(
            "INSERT INTO api_secret (client, hash, created_at) VALUES ($1, $2, to_timestamp($3))",
            name, secret_hash, static_cast<long long>(secs(at)));
        tx.exec("UPDATE data_generation SET n = n + 1 WHERE id = 1");
        tx.commit();
        return {};
    });
}

Status PgStore::rotate_secret(const std::string& name, const std::string& secret_hash, SysS at,
                              SysS old_expire_at) {
    return guard("cannot rotate a secret", [&]() -> Status {
        pqxx::work tx(conn());
        auto c =
            tx.exec_params("SELECT 1 FROM api_client WHERE name = $1 AND revoked_at IS NULL", name);
        if (c.empty())
            return make_error(Errc::invalid_argument,
                              "no active API client named \"" + name + "\"");
        tx.exec_params(
            "UPDATE api_secret SET expires_at = to_timestamp($1) WHERE client = $2 AND "
            "(expires_at IS NULL OR expires_at > to_timestamp($1))",
            static_cast<long long>(secs(old_expire_at)), name);
        tx.exec_params(
            "INSERT INTO api_secret (client, hash, created_at) VALUES ($1, $2, to_timestamp($3))",
            name, secret_hash, static_cast<long long>(secs(at)));
        tx.exec("UPDATE data_generation SET n = n + 1 WHERE id = 1");
        tx.commit();
        return {};
    });
}

Status PgStore::revoke_client(const std::string& name, SysS at) {
    return guard("cannot revoke a client", [&]() -> Status {
        pqxx::work tx(conn());
        auto r = tx.exec_params(
            "UPDATE api_client SET revoked_at = to_timestamp($1) WHERE name = $2 AND revoked_at "
            "IS NULL",
            static_cast<long long>(secs(at)), name);
        if (r.affected_rows() == 0)
            return make_error(Errc::invalid_argument,
                              "no active API client named \"" + name + "\"");
        tx.exec("UPDATE data_generation SET n = n + 1 WHERE id = 1");
        tx.commit();
        return {};
    });
}

void PgStore::exec_for_test(const std::string& sql) {
    pqxx::work tx(conn());
    tx.exec(sql);
    tx.commit();
}

}  // namespace gw
