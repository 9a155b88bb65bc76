// SQLite store: open/verify/migrate, prepared statements reused, one transaction per interval.
#include "gw/store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "gw/log.hpp"
#include "schema.hpp"

namespace gw {

using namespace std::chrono;

std::string_view quality_name(Quality q) { return q == Quality::gemeten ? "gemeten" : "onvolledig"; }
std::string_view role_name(Role r) { return r == Role::reader ? "reader" : "admin"; }

namespace {

constexpr const char* k_log = "store";

std::int64_t secs(SysS t) { return t.time_since_epoch().count(); }
std::int64_t millis(SysMs t) { return t.time_since_epoch().count(); }
SysS from_secs(std::int64_t s) { return SysS{seconds{s}}; }
SysMs from_millis(std::int64_t ms) { return SysMs{milliseconds{ms}}; }

std::string dir_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

/// A prepared statement, prepared once and reused. `Use` resets it when done.
class Store::Statement {
public:
    Statement(sqlite3* db, const char* sql) : db_(db) {
        rc_ = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st_, nullptr);
    }
    ~Statement() { sqlite3_finalize(st_); }
    bool prepared() const { return rc_ == SQLITE_OK; }
    sqlite3_stmt* get() { return st_; }

private:
    sqlite3* db_;
    sqlite3_stmt* st_ = nullptr;
    int rc_;
};

namespace {

/// One use of a prepared statement: binds by position from 1, steps, resets on destruction.
/// A statement that failed to prepare (a damaged or altered schema) is null: binding does
/// nothing and step() reports SQLITE_ERROR, so the caller returns sqlite's message.
class Use {
public:
    explicit Use(sqlite3_stmt* st) : st_(st), bind_rc_(st ? SQLITE_OK : SQLITE_ERROR) {}
    ~Use() {
        if (st_ == nullptr) return;
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
    }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

    Use& bind(std::int64_t v) { return check(sqlite3_bind_int64(st_, ++i_, v)); }
    Use& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
    Use& bind(double v) { return check(sqlite3_bind_double(st_, ++i_, v)); }
    Use& bind(std::string_view v) {
        return check(sqlite3_bind_text(st_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    }
    Use& bind(const char* v) { return bind(std::string_view(v)); }
    Use& bind(const std::string& v) { return bind(std::string_view(v)); }
    template <class T>
    Use& bind(const std::optional<T>& v) {
        if (v) return bind(*v);
        return check(sqlite3_bind_null(st_, ++i_));
    }

    /// SQLITE_ROW, SQLITE_DONE or an error code.
    int step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(st_); }

    std::int64_t i64(int col) const { return sqlite3_column_int64(st_, col); }
    double f64(int col) const { return sqlite3_column_double(st_, col); }
    bool null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
    std::optional<double> opt_f64(int col) const { return null(col) ? std::nullopt : std::optional(f64(col)); }
    std::optional<std::int64_t> opt_i64(int col) const {
        return null(col) ? std::nullopt : std::optional(i64(col));
    }
    std::string text(int col) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col))) : std::string();
    }

private:
    Use& check(int rc) {
        if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
        return *this;
    }
    sqlite3_stmt* st_;
    int i_ = 0;
    int bind_rc_;
};

/// RAII transaction: rolls back unless committed.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : db_(db) {
        rc_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    }
    ~Transaction() {
        if (rc_ == SQLITE_OK && !done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    bool began() const { return rc_ == SQLITE_OK; }
    int commit() {
        const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
        if (rc == SQLITE_OK) done_ = true;
        return rc;
    }

private:
    sqlite3* db_;
    int rc_;
    bool done_ = false;
};

enum StmtId {
    s_upsert_interval,
    s_upsert_energy,
    s_insert_event,
    s_select_range,
    s_count_range,
    s_latest,
    s_latest_end,
    s_energy_range,
    s_pending,
    s_mark_forwarded,
    s_recent_events,
    s_insert_consent,
    s_consent_active,
    s_consent_all,
    s_consent_one,
    s_insert_client,
    s_insert_secret,
    s_expire_secrets,
    s_revoke_client,
    s_select_client,
    s_select_clients,
    s_valid_secrets,
    s_insert_audit,
    s_recent_audit,
    s_upsert_customer,
    s_upsert_meter,
    s_data_version,
    s_stmt_count
};

constexpr const char* k_interval_cols =
    "meter_ean, end_s, interval_s, p_w, q_var, u1_v, u2_v, u3_v, quality, samples, coverage, flags";

Result<IntervalRecord> read_interval(const Use& u) {
    auto ean = Ean18::parse(u.text(0));
    if (!ean) return make_error(Errc::store_damaged, "stored meter EAN \"" + u.text(0) + "\" is invalid");
    IntervalRecord r{*ean, from_secs(u.i64(1))};
    r.interval_s = static_cast<int>(u.i64(2));
    r.p_w = u.opt_f64(3);
    r.q_var = u.opt_f64(4);
    r.u1_v = u.opt_f64(5);
    r.u2_v = u.opt_f64(6);
    r.u3_v = u.opt_f64(7);
    r.quality = u.text(8) == "gemeten" ? Quality::gemeten : Quality::onvolledig;
    r.samples = static_cast<int>(u.i64(9));
    r.coverage = u.f64(10);
    r.flags = static_cast<std::uint32_t>(u.i64(11));
    return r;
}

}  // namespace

Store::Store(std::string path) : path_(std::move(path)) {}

Store::~Store() {
    statements_.clear();
    if (db_ != nullptr) sqlite3_close_v2(db_);
}

Error Store::sql_error(const std::string& what) const {
    const int rc = db_ ? sqlite3_extended_errcode(db_) : SQLITE_ERROR;
    const char* msg = db_ ? sqlite3_errmsg(db_) : "no connection";
    Errc code = Errc::store_io;
    switch (rc & 0xff) {
        case SQLITE_CORRUPT: code = Errc::store_damaged; break;
        case SQLITE_NOTADB: code = Errc::store_not_a_database; break;
        case SQLITE_READONLY: code = Errc::store_read_only; break;
        default: break;
    }
    std::string m = what + " in " + path_ + ": " + msg;
    if ((rc & 0xff) == SQLITE_FULL) m += " (the disk is full)";
    return make_error(code, m);
}

Status Store::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string m = err ? err : "unknown error";
        sqlite3_free(err);
        return sql_error(std::string("statement failed (") + m + ")");
    }
    return {};
}

Store::Statement& Store::stmt(int id, const char* sql) {
    if (statements_.size() < s_stmt_count) statements_.resize(s_stmt_count);
    auto& slot = statements_[static_cast<std::size_t>(id)];
    if (!slot || !slot->prepared()) slot = std::make_unique<Statement>(db_, sql);
    return *slot;
}

namespace {

/// Runs a single-value query (a PRAGMA) and returns the first column as text.
Result<std::string> query_text(sqlite3* db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
        return make_error(Errc::store_io, sqlite3_errmsg(db));
    }
    std::string out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        if (!out.empty()) out += "; ";
        out += p ? p : "";
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        const int ec = sqlite3_errcode(db);
        return make_error(ec == SQLITE_CORRUPT || ec == SQLITE_NOTADB ? Errc::store_damaged : Errc::store_io,
                          sqlite3_errmsg(db));
    }
    return out;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const OpenOptions& options) {
    std::unique_ptr<Store> store(new Store(path));
    if (Status st = store->init(options); !st) return st.error();
    return store;
}

Status Store::init(const OpenOptions& options) {
    struct stat sb {};
    const bool exists = ::stat(path_.c_str(), &sb) == 0;
    const std::string dir = dir_of(path_);
    if (exists) {
        if (!S_ISREG(sb.st_mode)) return make_error(Errc::store_not_a_database, path_ + " is not a regular file");
        if (sb.st_size > 0) {
            char header[16] = {};
            std::ifstream in(path_, std::ios::binary);
            in.read(header, sizeof header);
            if (!in || std::memcmp(header, "SQLite format 3", 16) != 0)
                return make_error(Errc::store_not_a_database,
                                  path_ + " is not an SQLite database; refusing to touch it (check storage.path)");
        }
        // WAL needs to write the file and create <path>-wal and -shm beside it.
        if (::access(path_.c_str(), R_OK | W_OK) != 0 || ::access(dir.c_str(), W_OK | X_OK) != 0)
            return make_error(Errc::store_read_only, path_ + " or its directory " + dir +
                                                         " is not writable by this user: " + std::strerror(errno));
    } else {
        if (!options.create) return make_error(Errc::store_io, path_ + " does not exist");
        if (::access(dir.c_str(), W_OK | X_OK) != 0)
            return make_error(errno == ENOENT ? Errc::store_io : Errc::store_read_only,
                              "cannot create " + path_ + ": directory " + dir + ": " + std::strerror(errno));
    }

    const int flags = SQLITE_OPEN_READWRITE | (exists ? 0 : SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) return sql_error("cannot open");
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);

    // Identify the file before writing anything to it.
    // One statement, so one snapshot: another process may be creating the file right now.
    auto ident = query_text(db_, "SELECT application_id || ' ' || user_version || ' ' || "
                                 "(SELECT count(*) FROM sqlite_master) FROM pragma_application_id, pragma_user_version");
    long id = 0, tables_n = 0;
    int version_n = 0;
    const bool readable = ident.ok() && std::sscanf(ident->c_str(), "%ld %d %ld", &id, &version_n, &tables_n) == 3;
    if (readable) {
        if (id != schema::k_application_id && !(id == 0 && tables_n == 0))
            return make_error(Errc::store_foreign_database,
                              path_ + " is an SQLite database of another application; refusing to touch it");
        if (version_n > k_schema_version)
            return make_error(Errc::store_newer_schema,
                              path_ + " has schema version " + std::to_string(version_n) + ", newer than this program's " +
                                  std::to_string(k_schema_version) + "; install the newer release or restore a backup");
    }

    std::string problem;
    if (!readable) {
        problem = ident.ok() ? "unreadable header" : ident.error().message;
    } else {
        auto check = query_text(db_, "PRAGMA quick_check");
        if (!check) problem = check.error().message;
        else if (*check != "ok") problem = *check;
    }
    if (!problem.empty()) {
        if (!options.move_damaged_aside)
            return make_error(Errc::store_damaged, path_ + " is damaged (quick_check: " + problem + ")");
        sqlite3_close_v2(db_);
        db_ = nullptr;
        std::string stamp = format_utc(time_point_cast<seconds>(system_clock::now()));
        for (char& c : stamp)
            if (c == ':') c = '-';
        const std::string aside = path_ + ".damaged-" + stamp;
        for (const char* suffix : {"", "-wal", "-shm"}) {
            const std::string from = path_ + suffix;
            if (::access(from.c_str(), F_OK) == 0 && std::rename(from.c_str(), (aside + suffix).c_str()) != 0)
                return make_error(Errc::store_damaged, path_ + " is damaged and could not be moved aside: " +
                                                           std::strerror(errno));
        }
        log::error(k_log, "DATABASE DAMAGED: ", path_, " failed its check (", problem, "); moved it to ", aside,
                   " and started a new, empty store. Recover what you can from the damaged copy.");
        if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK)
            return sql_error("cannot create a new store");
        sqlite3_extended_result_codes(db_, 1);
        sqlite3_busy_timeout(db_, 5000);
        if (Status st = exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"); !st) return st;
        if (Status st = migrate(); !st) return st;
        return append_event({time_point_cast<milliseconds>(system_clock::now()), "", "store_recreated",
                             "damaged store moved to " + aside + ": " + problem});
    }

    // WAL + FULL: a commit is durable once COMMIT returns, even across a power cut.
    auto mode = query_text(db_, "PRAGMA journal_mode=WAL");
    if (!mode || *mode != "wal") return sql_error("cannot switch to WAL journal mode");
    if (Status st = exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"); !st) return st;
    return migrate();
}

Status Store::migrate() {
    Transaction tx(db_);
    if (!tx.began()) return sql_error("cannot begin migration");
    auto version = query_text(db_, "PRAGMA user_version");
    if (!version) return make_error(Errc::store_io, version.error().message);
    int v = std::stoi(*version);
    if (v > k_schema_version)  // another process may have migrated it meanwhile
        return make_error(Errc::store_newer_schema, path_ + " has a newer schema version " + *version);
    if (v == k_schema_version) return {};
    const int from = v;
    for (; v < k_schema_version; ++v)
        if (Status st = exec(schema::k_migrations[static_cast<std::size_t>(v)]); !st) return st;
    const std::string set = "PRAGMA user_version=" + std::to_string(v) +
                            "; PRAGMA application_id=" + std::to_string(schema::k_application_id);
    if (Status st = exec(set.c_str()); !st) return st;
    if (tx.commit() != SQLITE_OK) return sql_error("cannot commit migration");
    if (from > 0) log::info(k_log, "migrated ", path_, " from schema version ", from, " to ", v);
    return {};
}

int Store::schema_version() const {
    auto v = query_text(db_, "PRAGMA user_version");
    return v ? std::stoi(*v) : -1;
}

Status Store::sync_master_data(const Config& config, SysS now) {
    Transaction tx(db_);
    if (!tx.began()) return sql_error("cannot begin");
    auto& cust = stmt(s_upsert_customer,
                      "INSERT INTO customer (klant_ean, name, updated_at) VALUES (?, ?, ?) "
                      "ON CONFLICT (klant_ean) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at");
    for (const auto& c : config.customers) {
        Use u(cust.get());
        if (u.bind(c.klant_ean.str()).bind(c.name).bind(secs(now)).step() != SQLITE_DONE)
            return sql_error("cannot store customer");
    }
    auto& met = stmt(s_upsert_meter,
                     "INSERT INTO meter (meter_ean, klant_ean, meter_type, profile, link, unit_id, voltage_mode, "
                     "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (meter_ean) DO UPDATE SET "
                     "klant_ean = excluded.klant_ean, meter_type = excluded.meter_type, profile = excluded.profile, "
                     "link = excluded.link, unit_id = excluded.unit_id, voltage_mode = excluded.voltage_mode, "
                     "updated_at = excluded.updated_at");
    for (const auto& m : config.meters) {
        Use u(met.get());
        u.bind(m.meter_ean.str()).bind(m.klant_ean.str()).bind(meter_type_name(m.type)).bind(m.profile);
        u.bind(m.link).bind(m.unit_id).bind(voltage_mode_name(m.voltage)).bind(secs(now));
        if (u.step() != SQLITE_DONE) return sql_error("cannot store meter");
    }
    if (tx.commit() != SQLITE_OK) return sql_error("cannot commit master data");
    return {};
}

Status Store::commit_interval(const IntervalRecord& r, const EnergyReading* energy, bool forward,
                              const std::vector<EventRecord>& events, SysMs committed_at) {
    Transaction tx(db_);
    if (!tx.began()) return sql_error("cannot begin interval transaction");
    {
        auto& st = stmt(s_upsert_interval,
                        "INSERT INTO intervals (meter_ean, end_s, interval_s, p_w, q_var, u1_v, u2_v, u3_v, quality, "
                        "samples, coverage, flags, forward_pending, committed_at_ms) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (meter_ean, end_s) DO UPDATE SET interval_s = excluded.interval_s, "
                        "p_w = excluded.p_w, q_var = excluded.q_var, u1_v = excluded.u1_v, u2_v = excluded.u2_v, "
                        "u3_v = excluded.u3_v, quality = excluded.quality, samples = excluded.samples, "
                        "coverage = excluded.coverage, flags = excluded.flags, "
                        "forward_pending = excluded.forward_pending, forwarded_at_ms = NULL, "
                        "committed_at_ms = excluded.committed_at_ms");
        Use u(st.get());
        u.bind(r.meter_ean.str()).bind(secs(r.end)).bind(r.interval_s);
        u.bind(r.p_w).bind(r.q_var).bind(r.u1_v).bind(r.u2_v).bind(r.u3_v);
        u.bind(quality_name(r.quality)).bind(r.samples).bind(r.coverage).bind(static_cast<std::int64_t>(r.flags));
        u.bind(forward ? 1 : 0).bind(millis(committed_at));
        if (u.step() != SQLITE_DONE) return sql_error("cannot store interval");
    }
    if (energy != nullptr) {
        auto& st = stmt(s_upsert_energy,
                        "INSERT INTO energy_reading (meter_ean, at_s, e_import_wh, e_export_wh, eq_import_varh, "
                        "eq_export_varh) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (meter_ean, at_s) DO UPDATE SET "
                        "e_import_wh = excluded.e_import_wh, e_export_wh = excluded.e_export_wh, "
                        "eq_import_varh = excluded.eq_import_varh, eq_export_varh = excluded.eq_export_varh");
        Use u(st.get());
        u.bind(energy->meter_ean.str()).bind(secs(energy->at)).bind(energy->e_import_wh).bind(energy->e_export_wh);
        u.bind(energy->eq_import_varh).bind(energy->eq_export_varh);
        if (u.step() != SQLITE_DONE) return sql_error("cannot store energy reading");
    }
    for (const auto& e : events)
        if (Status st = append_event(e); !st) return st;
    if (tx.commit() != SQLITE_OK) return sql_error("cannot commit interval");
    return {};
}

Result<std::vector<IntervalRecord>> Store::intervals(const Ean18& meter, SysS from, SysS to, std::int64_t offset,
                                                     std::int64_t limit) {
    static const std::string sql = std::string("SELECT ") + k_interval_cols +
                                   " FROM intervals WHERE meter_ean = ? AND end_s > ? AND end_s <= ? "
                                   "ORDER BY end_s LIMIT ? OFFSET ?";
    auto& st = stmt(s_select_range, sql.c_str());
    Use u(st.get());
    u.bind(meter.str()).bind(secs(from)).bind(secs(to)).bind(limit).bind(offset);
    std::vector<IntervalRecord> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        auto r = read_interval(u);
        if (!r) return r.error();
        out.push_back(std::move(*r));
    }
    if (rc != SQLITE_DONE) return sql_error("cannot read intervals");
    return out;
}

Result<std::int64_t> Store::count_intervals(const Ean18& meter, SysS from, SysS to) {
    auto& st = stmt(s_count_range, "SELECT count(*) FROM intervals WHERE meter_ean = ? AND end_s > ? AND end_s <= ?");
    Use u(st.get());
    u.bind(meter.str()).bind(secs(from)).bind(secs(to));
    if (u.step() != SQLITE_ROW) return sql_error("cannot count intervals");
    return u.i64(0);
}

Result<std::vector<IntervalRecord>> Store::latest_intervals(const Ean18& meter, std::int64_t n) {
    static const std::string sql = std::string("SELECT ") + k_interval_cols +
                                   " FROM intervals WHERE meter_ean = ? ORDER BY end_s DESC LIMIT ?";
    auto& st = stmt(s_latest, sql.c_str());
    Use u(st.get());
    u.bind(meter.str()).bind(n);
    std::vector<IntervalRecord> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        auto r = read_interval(u);
        if (!r) return r.error();
        out.push_back(std::move(*r));
    }
    if (rc != SQLITE_DONE) return sql_error("cannot read intervals");
    return out;
}

Result<std::optional<SysS>> Store::latest_end(const Ean18& meter) {
    auto& st = stmt(s_latest_end, "SELECT max(end_s) FROM intervals WHERE meter_ean = ?");
    Use u(st.get());
    u.bind(meter.str());
    if (u.step() != SQLITE_ROW) return sql_error("cannot read newest interval");
    if (u.null(0)) return std::optional<SysS>{};
    return std::optional<SysS>{from_secs(u.i64(0))};
}

Result<std::vector<EnergyReading>> Store::energy_readings(const Ean18& meter, SysS from, SysS to,
                                                          std::int64_t offset, std::int64_t limit) {
    auto& st = stmt(s_energy_range,
                    "SELECT at_s, e_import_wh, e_export_wh, eq_import_varh, eq_export_varh FROM energy_reading "
                    "WHERE meter_ean = ? AND at_s > ? AND at_s <= ? ORDER BY at_s LIMIT ? OFFSET ?");
    Use u(st.get());
    u.bind(meter.str()).bind(secs(from)).bind(secs(to)).bind(limit).bind(offset);
    std::vector<EnergyReading> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW)
        out.push_back({meter, from_secs(u.i64(0)), u.opt_f64(1), u.opt_f64(2), u.opt_f64(3), u.opt_f64(4)});
    if (rc != SQLITE_DONE) return sql_error("cannot read energy readings");
    return out;
}

Result<std::vector<IntervalRecord>> Store::pending_forward(std::int64_t limit) {
    static const std::string sql = std::string("SELECT ") + k_interval_cols +
                                   " FROM intervals WHERE forward_pending = 1 ORDER BY end_s, meter_ean LIMIT ?";
    auto& st = stmt(s_pending, sql.c_str());
    Use u(st.get());
    u.bind(limit);
    std::vector<IntervalRecord> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        auto r = read_interval(u);
        if (!r) return r.error();
        out.push_back(std::move(*r));
    }
    if (rc != SQLITE_DONE) return sql_error("cannot read the outbox");
    return out;
}

Status Store::mark_forwarded(const Ean18& meter, SysS end, SysMs at) {
    auto& st = stmt(s_mark_forwarded,
                    "UPDATE intervals SET forward_pending = 0, forwarded_at_ms = ? WHERE meter_ean = ? AND end_s = ?");
    Use u(st.get());
    u.bind(millis(at)).bind(meter.str()).bind(secs(end));
    if (u.step() != SQLITE_DONE) return sql_error("cannot mark interval forwarded");
    return {};
}

Status Store::append_event(const EventRecord& e) {
    auto& st = stmt(s_insert_event, "INSERT INTO event (at_ms, meter_ean, kind, detail) VALUES (?, ?, ?, ?)");
    Use u(st.get());
    u.bind(millis(e.at)).bind(e.meter_ean).bind(e.kind).bind(e.detail);
    if (u.step() != SQLITE_DONE) return sql_error("cannot store event");
    return {};
}

Result<std::vector<EventRecord>> Store::recent_events(std::int64_t limit) {
    auto& st = stmt(s_recent_events, "SELECT at_ms, meter_ean, kind, detail FROM event ORDER BY id DESC LIMIT ?");
    Use u(st.get());
    u.bind(limit);
    std::vector<EventRecord> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) out.push_back({from_millis(u.i64(0)), u.text(1), u.text(2), u.text(3)});
    if (rc != SQLITE_DONE) return sql_error("cannot read events");
    return out;
}

Status Store::record_consent(const Ean18& klant, bool granted, SysS at, const std::string& actor) {
    auto& st = stmt(s_insert_consent, "INSERT INTO consent_event (klant_ean, granted, at_s, actor) VALUES (?, ?, ?, ?)");
    Use u(st.get());
    u.bind(klant.str()).bind(granted ? 1 : 0).bind(secs(at)).bind(actor);
    if (u.step() != SQLITE_DONE) return sql_error("cannot store consent");
    return {};
}

Result<bool> Store::consent_active(const Ean18& klant) {
    auto& st = stmt(s_consent_active,
                    "SELECT granted FROM consent_event WHERE klant_ean = ? ORDER BY id DESC LIMIT 1");
    Use u(st.get());
    u.bind(klant.str());
    const int rc = u.step();
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) return sql_error("cannot read consent");
    return u.i64(0) == 1;
}

Result<std::vector<ConsentEvent>> Store::consent_history(const Ean18* klant) {
    auto& st = klant ? stmt(s_consent_one, "SELECT id, klant_ean, granted, at_s, actor FROM consent_event "
                                           "WHERE klant_ean = ? ORDER BY id")
                     : stmt(s_consent_all, "SELECT id, klant_ean, granted, at_s, actor FROM consent_event ORDER BY id");
    Use u(st.get());
    if (klant) u.bind(klant->str());
    std::vector<ConsentEvent> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        auto ean = Ean18::parse(u.text(1));
        if (!ean) return make_error(Errc::store_damaged, "stored klant EAN \"" + u.text(1) + "\" is invalid");
        out.push_back({u.i64(0), *ean, u.i64(2) == 1, from_secs(u.i64(3)), u.text(4)});
    }
    if (rc != SQLITE_DONE) return sql_error("cannot read consent history");
    return out;
}

Status Store::add_client(const std::string& name, Role role, const std::string& hash, SysS at) {
    Transaction tx(db_);
    if (!tx.began()) return sql_error("cannot begin");
    {
        auto& st = stmt(s_insert_client, "INSERT INTO api_client (name, role, created_at_s) VALUES (?, ?, ?)");
        Use u(st.get());
        u.bind(name).bind(role_name(role)).bind(secs(at));
        const int rc = u.step();
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            return make_error(Errc::invalid_argument, "an API client named \"" + name + "\" already exists");
        if (rc != SQLITE_DONE) return sql_error("cannot add client");
    }
    {
        auto& st = stmt(s_insert_secret,
                        "INSERT INTO api_secret (client, hash, created_at_s, expires_at_s) VALUES (?, ?, ?, NULL)");
        Use u(st.get());
        if (u.bind(name).bind(hash).bind(secs(at)).step() != SQLITE_DONE) return sql_error("cannot add secret");
    }
    if (tx.commit() != SQLITE_OK) return sql_error("cannot commit client");
    return {};
}

Status Store::rotate_secret(const std::string& name, const std::string& hash, SysS at, SysS old_expire_at) {
    auto existing = client(name);
    if (!existing) return existing.error();
    if (!*existing || (*existing)->revoked_at)
        return make_error(Errc::invalid_argument, "no active API client named \"" + name + "\"");
    Transaction tx(db_);
    if (!tx.began()) return sql_error("cannot begin");
    {
        auto& st = stmt(s_expire_secrets,
                        "UPDATE api_secret SET expires_at_s = ? WHERE client = ? AND "
                        "(expires_at_s IS NULL OR expires_at_s > ?)");
        Use u(st.get());
        if (u.bind(secs(old_expire_at)).bind(name).bind(secs(old_expire_at)).step() != SQLITE_DONE)
            return sql_error("cannot expire old secrets");
    }
    {
        auto& st = stmt(s_insert_secret,
                        "INSERT INTO api_secret (client, hash, created_at_s, expires_at_s) VALUES (?, ?, ?, NULL)");
        Use u(st.get());
        if (u.bind(name).bind(hash).bind(secs(at)).step() != SQLITE_DONE) return sql_error("cannot add secret");
    }
    if (tx.commit() != SQLITE_OK) return sql_error("cannot commit rotation");
    return {};
}

Status Store::revoke_client(const std::string& name, SysS at) {
    auto& st = stmt(s_revoke_client, "UPDATE api_client SET revoked_at_s = ? WHERE name = ? AND revoked_at_s IS NULL");
    Use u(st.get());
    if (u.bind(secs(at)).bind(name).step() != SQLITE_DONE) return sql_error("cannot revoke client");
    if (sqlite3_changes(db_) == 0)
        return make_error(Errc::invalid_argument, "no active API client named \"" + name + "\"");
    return {};
}

namespace {
ApiClient read_client(const Use& u) {
    ApiClient c{u.text(0), u.text(1) == "admin" ? Role::admin : Role::reader, from_secs(u.i64(2)), std::nullopt};
    if (!u.null(3)) c.revoked_at = from_secs(u.i64(3));
    return c;
}
}  // namespace

Result<std::optional<ApiClient>> Store::client(const std::string& name) {
    auto& st = stmt(s_select_client, "SELECT name, role, created_at_s, revoked_at_s FROM api_client WHERE name = ?");
    Use u(st.get());
    u.bind(name);
    const int rc = u.step();
    if (rc == SQLITE_DONE) return std::optional<ApiClient>{};
    if (rc != SQLITE_ROW) return sql_error("cannot read client");
    return std::optional<ApiClient>{read_client(u)};
}

Result<std::vector<ApiClient>> Store::clients() {
    auto& st = stmt(s_select_clients, "SELECT name, role, created_at_s, revoked_at_s FROM api_client ORDER BY name");
    Use u(st.get());
    std::vector<ApiClient> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) out.push_back(read_client(u));
    if (rc != SQLITE_DONE) return sql_error("cannot list clients");
    return out;
}

Result<std::vector<ApiSecret>> Store::valid_secrets(const std::string& name, SysS at) {
    auto& st = stmt(s_valid_secrets,
                    "SELECT s.id, s.client, s.hash, s.created_at_s, s.expires_at_s FROM api_secret s "
                    "JOIN api_client c ON c.name = s.client WHERE s.client = ? AND c.revoked_at_s IS NULL "
                    "AND (s.expires_at_s IS NULL OR s.expires_at_s > ?) ORDER BY s.id DESC");
    Use u(st.get());
    u.bind(name).bind(secs(at));
    std::vector<ApiSecret> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        ApiSecret s{u.i64(0), u.text(1), u.text(2), from_secs(u.i64(3)), std::nullopt};
        if (!u.null(4)) s.expires_at = from_secs(u.i64(4));
        out.push_back(std::move(s));
    }
    if (rc != SQLITE_DONE) return sql_error("cannot read secrets");
    return out;
}

Status Store::append_audit(const AuditRecord& a) {
    auto& st = stmt(s_insert_audit,
                    "INSERT INTO api_audit (at_ms, client, correlation_id, method, path, klant_ean, meter_ean, "
                    "window_start_s, window_end_s, rows, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    Use u(st.get());
    u.bind(millis(a.at)).bind(a.client).bind(a.correlation_id).bind(a.method).bind(a.path).bind(a.klant_ean);
    u.bind(a.meter_ean);
    u.bind(a.window_start ? std::optional(secs(*a.window_start)) : std::nullopt);
    u.bind(a.window_end ? std::optional(secs(*a.window_end)) : std::nullopt);
    u.bind(a.rows).bind(a.status);
    if (u.step() != SQLITE_DONE) return sql_error("cannot write audit row");
    return {};
}

Status Store::append_audit(const std::vector<AuditRecord>& records) {
    Transaction tx(db_);
    if (!tx.began()) return sql_error("cannot begin audit batch");
    for (const auto& a : records)
        if (Status st = append_audit(a); !st) return st;
    if (tx.commit() != SQLITE_OK) return sql_error("cannot commit audit rows");
    return {};
}

Result<std::vector<AuditRecord>> Store::recent_audit(std::int64_t limit) {
    auto& st = stmt(s_recent_audit,
                    "SELECT at_ms, client, correlation_id, method, path, klant_ean, meter_ean, window_start_s, "
                    "window_end_s, rows, status FROM api_audit ORDER BY id DESC LIMIT ?");
    Use u(st.get());
    u.bind(limit);
    std::vector<AuditRecord> out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        AuditRecord a{from_millis(u.i64(0)), u.text(1), u.text(2), u.text(3), u.text(4), u.text(5), u.text(6)};
        if (!u.null(7)) a.window_start = from_secs(u.i64(7));
        if (!u.null(8)) a.window_end = from_secs(u.i64(8));
        a.rows = u.i64(9);
        a.status = static_cast<int>(u.i64(10));
        out.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE) return sql_error("cannot read audit log");
    return out;
}

Result<std::int64_t> Store::prune_batch(SysS cutoff, std::int64_t batch) {
    // Not cached: pruning runs a few times a day, and these are cheap to prepare.
    static constexpr const char* k_sql[] = {
        "DELETE FROM intervals WHERE (meter_ean, end_s) IN "
        "(SELECT meter_ean, end_s FROM intervals WHERE end_s < ?1 ORDER BY end_s LIMIT ?2)",
        "DELETE FROM energy_reading WHERE (meter_ean, at_s) IN "
        "(SELECT meter_ean, at_s FROM energy_reading WHERE at_s < ?1 ORDER BY at_s LIMIT ?2)",
        "DELETE FROM event WHERE id IN (SELECT id FROM event WHERE at_ms < ?1 * 1000 ORDER BY at_ms LIMIT ?2)",
        "DELETE FROM api_audit WHERE id IN (SELECT id FROM api_audit WHERE at_ms < ?1 * 1000 ORDER BY at_ms LIMIT ?2)",
    };
    Transaction tx(db_);
    if (!tx.began()) return sql_error("cannot begin pruning");
    std::int64_t total = 0;
    for (const char* sql : k_sql) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) return sql_error("cannot prepare pruning");
        sqlite3_bind_int64(st, 1, secs(cutoff));
        sqlite3_bind_int64(st, 2, batch);
        const int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return sql_error("cannot prune");
        total += sqlite3_changes(db_);
    }
    if (tx.commit() != SQLITE_OK) return sql_error("cannot commit pruning");
    return total;
}

Result<StoreStats> Store::stats() {
    StoreStats s;
    s.schema_version = schema_version();
    sqlite3_stmt* st = nullptr;
    const char* sql =
        "SELECT (SELECT count(*) FROM intervals), (SELECT count(*) FROM intervals WHERE forward_pending = 1), "
        "(SELECT min(end_s) FROM intervals), (SELECT max(end_s) FROM intervals), "
        "(SELECT min(end_s) FROM intervals WHERE forward_pending = 1)";
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) return sql_error("cannot read statistics");
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return sql_error("cannot read statistics");
    }
    auto opt = [&](int col) {
        return sqlite3_column_type(st, col) == SQLITE_NULL ? std::optional<SysS>{}
                                                           : std::optional(from_secs(sqlite3_column_int64(st, col)));
    };
    s.intervals = sqlite3_column_int64(st, 0);
    s.pending_forward = sqlite3_column_int64(st, 1);
    s.oldest_interval = opt(2);
    s.newest_interval = opt(3);
    s.oldest_pending = opt(4);
    sqlite3_finalize(st);
    struct stat sb {};
    for (const char* suffix : {"", "-wal"})
        if (::stat((path_ + suffix).c_str(), &sb) == 0) s.file_bytes += sb.st_size;
    return s;
}

Result<std::string> Store::integrity_check() { return query_text(db_, "PRAGMA integrity_check"); }

Result<std::int64_t> Store::data_version() {
    auto& st = stmt(s_data_version, "PRAGMA data_version");
    Use u(st.get());
    if (u.step() != SQLITE_ROW) return sql_error("cannot read data_version");
    return u.i64(0);
}

Result<std::string> Store::pragma(std::string_view name) {
    for (char c : name)
        if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '_'))
            return make_error(Errc::invalid_argument, "not a pragma name");
    return query_text(db_, ("PRAGMA " + std::string(name)).c_str());
}

}  // namespace gw
