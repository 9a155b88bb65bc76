// The data file: master data, intervals and energy readings, the open interval's carried
// state, the MQTT outbox, events, pruning, checkpoints and statistics.
#include <sys/stat.h>

#include "gw/store/store.hpp"
#include "sqlite.hpp"

namespace gw {

using namespace std::chrono;

namespace {

using sql::from_millis;
using sql::from_secs;
using sql::millis;
using sql::secs;

// Statement ids of the data connection.
enum DataStmt {
    s_upsert_customer,
    s_upsert_meter,
    s_insert_interval,
    s_upsert_energy,
    s_insert_event,
    s_select_range,
    s_count_range,
    s_latest,
    s_latest_end,
    s_energy_range,
    s_pending,
    s_mark_forwarded,
    s_requeue,
    s_recent_events,
    s_insert_carry,
};

#define GW_INTERVAL_COLS                                                                       \
    "meter_ean, end_s, interval_s, p_w, q_var, u1_v, u2_v, u3_v, quality, samples, coverage, " \
    "flags"

Result<IntervalRecord> read_interval(const sql::Use& u) {
    auto ean = Ean18::parse(u.text(0));
    if (!ean)
        return make_error(Errc::store_damaged, "stored meter EAN \"" + u.text(0) + "\" is invalid");
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

/// Steps a query of interval rows to the end.
Result<std::vector<IntervalRecord>> read_intervals(sql::Db& db, sql::Use& u, const char* what) {
    std::vector<IntervalRecord> out;
    int rc;
    while ((rc = u.step()) == sql::Use::row_code()) {
        auto r = read_interval(u);
        if (!r) return r.error();
        out.push_back(*r);
    }
    if (rc != sql::Use::done_code()) return db.error(what);
    return out;
}

}  // namespace

Status Store::sync_master_data(const Config& config, SysS now) {
    if (Status st = check_data_ready(); !st) return st;
    sql::Db& db = *data_;
    sql::Tx tx(db);
    if (!tx.began()) return db.error("cannot begin");
    auto& cust = db.stmt(s_upsert_customer,
                         "INSERT INTO customer (klant_ean, name, updated_at) VALUES (?, ?, ?) "
                         "ON CONFLICT (klant_ean) DO UPDATE SET name = excluded.name, updated_at = "
                         "excluded.updated_at");
    for (const auto& c : config.customers) {
        sql::Use u(cust);
        if (!u.bind(c.klant_ean.str()).bind(c.name).bind(secs(now)).run())
            return db.error("cannot store customer");
    }
    auto& met = db.stmt(
        s_upsert_meter,
        "INSERT INTO meter (meter_ean, klant_ean, meter_type, profile, link, unit_id, "
        "voltage_mode, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (meter_ean) DO UPDATE SET "
        "klant_ean = excluded.klant_ean, meter_type = excluded.meter_type, profile = "
        "excluded.profile, "
        "link = excluded.link, unit_id = excluded.unit_id, voltage_mode = excluded.voltage_mode, "
        "updated_at = excluded.updated_at");
    for (const auto& m : config.meters) {
        sql::Use u(met);
        u.bind(m.meter_ean.str())
            .bind(m.klant_ean.str())
            .bind(meter_type_name(m.type))
            .bind(m.profile);
        u.bind(m.link).bind(m.unit_id).bind(voltage_mode_name(m.voltage)).bind(secs(now));
        if (!u.run()) return db.error("cannot store meter");
    }
    if (!tx.commit()) return db.error("cannot commit master data");
    return {};
}

Status Store::append_event_row(const EventRecord& e) {
    sql::Use u(data_->stmt(
        s_insert_event, "INSERT INTO event (at_ms, meter_ean, kind, detail) VALUES (?, ?, ?, ?)"));
    u.bind(millis(e.at)).bind(e.meter_ean).bind(e.kind).bind(e.detail);
    if (!u.run()) return data_->error("cannot store event");
    return {};
}

Result<bool> Store::commit_interval(const IntervalRecord& r, const EnergyReading* energy,
                                    bool forward, const std::vector<EventRecord>& events,
                                    SysMs committed_at) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Db& db = *data_;
    sql::Tx tx(db);
    if (!tx.began()) return db.error("cannot begin interval transaction");
    {
        // A stored interval is final: a second one under the same key changes nothing.
        sql::Use u(db.stmt(s_insert_interval,
                           "INSERT INTO intervals (meter_ean, end_s, interval_s, p_w, q_var, u1_v, "
                           "u2_v, u3_v, quality, "
                           "samples, coverage, flags, forward_pending, committed_at_ms) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                           "(meter_ean, end_s) DO NOTHING"));
        u.bind(r.meter_ean.str()).bind(secs(r.end)).bind(r.interval_s);
        u.bind(r.p_w).bind(r.q_var).bind(r.u1_v).bind(r.u2_v).bind(r.u3_v);
        u.bind(quality_name(r.quality)).bind(r.samples).bind(r.coverage).bind(r.flags);
        u.bind(forward ? 1 : 0).bind(millis(committed_at));
        if (!u.run()) return db.error("cannot store interval");
    }
    if (db.changes() == 0) return false;
    if (energy != nullptr) {
        sql::Use u(db.stmt(
            s_upsert_energy,
            "INSERT INTO energy_reading (meter_ean, at_s, e_import_wh, e_export_wh, "
            "eq_import_varh, "
            "eq_export_varh) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (meter_ean, at_s) DO NOTHING"));
        u.bind(energy->meter_ean.str())
            .bind(secs(energy->at))
            .bind(energy->e_import_wh)
            .bind(energy->e_export_wh);
        u.bind(energy->eq_import_varh).bind(energy->eq_export_varh);
        if (!u.run()) return db.error("cannot store energy reading");
    }
    for (const auto& e : events)
        if (Status st = append_event_row(e); !st) return st.error();
    if (!tx.commit()) return db.error("cannot commit interval");
    return true;
}

Result<std::vector<IntervalRecord>> Store::intervals(const Ean18& meter, SysS from, SysS to,
                                                     std::int64_t offset, std::int64_t limit) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Use u(data_->stmt(s_select_range,
                           "SELECT " GW_INTERVAL_COLS
                           " FROM intervals WHERE meter_ean = ? AND end_s > ? AND end_s <= ? "
                           "ORDER BY end_s LIMIT ? OFFSET ?"));
    u.bind(meter.str()).bind(secs(from)).bind(secs(to)).bind(limit).bind(offset);
    return read_intervals(*data_, u, "cannot read intervals");
}

Result<std::int64_t> Store::count_intervals(const Ean18& meter, SysS from, SysS to) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Use u(data_->stmt(
        s_count_range,
        "SELECT count(*) FROM intervals WHERE meter_ean = ? AND end_s > ? AND end_s <= ?"));
    u.bind(meter.str()).bind(secs(from)).bind(secs(to));
    if (u.step() != sql::Use::row_code()) return data_->error("cannot count intervals");
    return u.i64(0);
}

Result<std::vector<IntervalRecord>> Store::latest_intervals(const Ean18& meter, std::int64_t n) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Use u(data_->stmt(s_latest,
                           "SELECT " GW_INTERVAL_COLS
                           " FROM intervals WHERE meter_ean = ? ORDER BY end_s DESC LIMIT ?"));
    u.bind(meter.str()).bind(n);
    return read_intervals(*data_, u, "cannot read intervals");
}

Result<std::optional<SysS>> Store::latest_end(const Ean18& meter) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Use u(data_->stmt(s_latest_end, "SELECT max(end_s) FROM intervals WHERE meter_ean = ?"));
    u.bind(meter.str());
    if (u.step() != sql::Use::row_code()) return data_->error("cannot read newest interval");
    if (u.null(0)) return std::optional<SysS>{};
    return std::optional<SysS>{from_secs(u.i64(0))};
}

Result<std::vector<EnergyReading>> Store::energy_readings(const Ean18& meter, SysS from, SysS to,
                                                          std::int64_t offset, std::int64_t limit) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Use u(data_->stmt(
        s_energy_range,
        "SELECT at_s, e_import_wh, e_export_wh, eq_import_varh, eq_export_varh FROM energy_reading "
        "WHERE meter_ean = ? AND at_s > ? AND at_s <= ? ORDER BY at_s LIMIT ? OFFSET ?"));
    u.bind(meter.str()).bind(secs(from)).bind(secs(to)).bind(limit).bind(offset);
    std::vector<EnergyReading> out;
    int rc;
    while ((rc = u.step()) == sql::Use::row_code())
        out.push_back(
            {meter, from_secs(u.i64(0)), u.opt_f64(1), u.opt_f64(2), u.opt_f64(3), u.opt_f64(4)});
    if (rc != sql::Use::done_code()) return data_->error("cannot read energy readings");
    return out;
}

Status Store::save_carry(const std::vector<CarryRecord>& records) {
    if (Status st = check_data_ready(); !st) return st;
    sql::Db& db = *data_;
    sql::Tx tx(db);
    if (!tx.began()) return db.error("cannot begin");
    if (Status st = db.exec("DELETE FROM interval_carry"); !st) return st;
    for (const auto& c : records) {
        sql::Use u(
            db.stmt(s_insert_carry,
                    "INSERT INTO interval_carry (meter_ean, end_s, interval_s, saved_at_ms, "
                    "held_ms, samples, "
                    "p_ws, q_ws, u1_ws, u2_ws, u3_ws, start_at_ms, e_import_wh, e_export_wh, "
                    "eq_import_varh, "
                    "eq_export_varh) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        u.bind(c.meter_ean.str())
            .bind(secs(c.end))
            .bind(c.interval_s)
            .bind(millis(c.saved_at))
            .bind(c.held_ms);
        u.bind(c.samples).bind(c.p_ws).bind(c.q_ws).bind(c.u_ws[0]).bind(c.u_ws[1]).bind(c.u_ws[2]);
        u.bind(c.start_at ? std::optional(millis(*c.start_at)) : std::nullopt);
        u.bind(c.e_import_wh).bind(c.e_export_wh).bind(c.eq_import_varh).bind(c.eq_export_varh);
        if (!u.run()) return db.error("cannot keep the open interval");
    }
    if (!tx.commit()) return db.error("cannot commit the open interval");
    return {};
}

Result<std::vector<CarryRecord>> Store::take_carry() {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Db& db = *data_;
    sql::Tx tx(db);
    if (!tx.began()) return db.error("cannot begin");
    std::vector<CarryRecord> out;
    {
        sql::Use u(
            db,
            "SELECT meter_ean, end_s, interval_s, saved_at_ms, held_ms, samples, p_ws, q_ws, "
            "u1_ws, "
            "u2_ws, u3_ws, start_at_ms, e_import_wh, e_export_wh, eq_import_varh, eq_export_varh "
            "FROM interval_carry ORDER BY meter_ean");
        int rc;
        while ((rc = u.step()) == sql::Use::row_code()) {
            auto ean = Ean18::parse(u.text(0));
            if (!ean) continue;  // not ours to continue; dropped with the rest below
            CarryRecord c{*ean, from_secs(u.i64(1))};
            c.interval_s = static_cast<int>(u.i64(2));
            c.saved_at = from_millis(u.i64(3));
            c.held_ms = u.i64(4);
            c.samples = static_cast<int>(u.i64(5));
            c.p_ws = u.f64(6);
            c.q_ws = u.f64(7);
            c.u_ws = {u.f64(8), u.f64(9), u.f64(10)};
            if (auto at = u.opt_i64(11)) c.start_at = from_millis(*at);
            c.e_import_wh = u.opt_f64(12);
            c.e_export_wh = u.opt_f64(13);
            c.eq_import_varh = u.opt_f64(14);
            c.eq_export_varh = u.opt_f64(15);
            out.push_back(c);
        }
        if (rc != sql::Use::done_code()) return db.error("cannot read the kept open interval");
    }
    if (Status st = db.exec("DELETE FROM interval_carry"); !st) return st.error();
    if (!tx.commit()) return db.error("cannot commit");
    return out;
}

Result<std::vector<IntervalRecord>> Store::pending_forward(std::int64_t limit) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Use u(data_->stmt(
        s_pending, "SELECT " GW_INTERVAL_COLS
                   " FROM intervals WHERE forward_pending = 1 ORDER BY end_s, meter_ean LIMIT ?"));
    u.bind(limit);
    return read_intervals(*data_, u, "cannot read the outbox");
}

Status Store::mark_forwarded(const std::vector<IntervalKey>& keys, SysMs at) {
    if (Status st = check_data_ready(); !st) return st;
    if (keys.empty()) return {};
    sql::Db& db = *data_;
    sql::Tx tx(db);
    if (!tx.began()) return db.error("cannot begin");
    for (const auto& k : keys) {
        sql::Use u(db.stmt(s_mark_forwarded,
                           "UPDATE intervals SET forward_pending = 0, forwarded_at_ms = ? "
                           "WHERE meter_ean = ? AND end_s = ?"));
        if (!u.bind(millis(at)).bind(k.meter_ean.str()).bind(secs(k.end)).run())
            return db.error("cannot mark interval forwarded");
    }
    if (!tx.commit()) return db.error("cannot commit forwarded marks");
    return {};
}

Result<std::int64_t> Store::requeue_forward(const Ean18& meter, SysS from, SysS to) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Db& db = *data_;
    sql::Use u(db.stmt(s_requeue,
                       "UPDATE intervals SET forward_pending = 1 "
                       "WHERE meter_ean = ? AND end_s > ? AND end_s <= ? AND forward_pending = 0"));
    if (!u.bind(meter.str()).bind(secs(from)).bind(secs(to)).run())
        return db.error("cannot queue intervals again");
    return db.changes();
}

Status Store::append_event(const EventRecord& e) {
    if (Status st = check_data_ready(); !st) return st;
    return append_event_row(e);
}

Result<std::vector<EventRecord>> Store::recent_events(std::int64_t limit) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Use u(
        data_->stmt(s_recent_events,
                    "SELECT at_ms, meter_ean, kind, detail FROM event ORDER BY id DESC LIMIT ?"));
    u.bind(limit);
    std::vector<EventRecord> out;
    int rc;
    while ((rc = u.step()) == sql::Use::row_code())
        out.push_back({from_millis(u.i64(0)), u.text(1), u.text(2), u.text(3)});
    if (rc != sql::Use::done_code()) return data_->error("cannot read events");
    return out;
}

Result<std::int64_t> Store::prune_batch(SysS cutoff, std::int64_t batch) {
    if (Status st = check_data_ready(); !st) return st.error();
    // Not cached: pruning runs a few times a day, and these are cheap to prepare.
    static constexpr const char* k_sql[] = {
        "DELETE FROM intervals WHERE (meter_ean, end_s) IN "
        "(SELECT meter_ean, end_s FROM intervals WHERE end_s < ?1 ORDER BY end_s LIMIT ?2)",
        "DELETE FROM energy_reading WHERE (meter_ean, at_s) IN "
        "(SELECT meter_ean, at_s FROM energy_reading WHERE at_s < ?1 ORDER BY at_s LIMIT ?2)",
        "DELETE FROM event WHERE id IN (SELECT id FROM event WHERE at_ms < ?1 * 1000 ORDER BY "
        "at_ms LIMIT ?2)",
        "DELETE FROM api_audit WHERE id IN (SELECT id FROM api_audit WHERE at_ms < ?1 * 1000 ORDER "
        "BY at_ms LIMIT ?2)",
    };
    sql::Db& db = *data_;
    sql::Tx tx(db);
    if (!tx.began()) return db.error("cannot begin pruning");
    std::int64_t total = 0;
    for (const char* text : k_sql) {
        sql::Use u(db, text);
        if (!u.bind(secs(cutoff)).bind(batch).run()) return db.error("cannot prune");
        total += db.changes();
    }
    if (!tx.commit()) return db.error("cannot commit pruning");
    return total;
}

Status Store::checkpoint() {
    if (Status st = check_data_ready(); !st) return st;
    // PASSIVE: never waits for a reader (the admin CLI); the next commit after a complete
    // checkpoint restarts the log, and journal_size_limit truncates it.
    sql::Use u(*data_, "PRAGMA wal_checkpoint(PASSIVE)");
    if (u.step() != sql::Use::row_code()) return data_->error("cannot checkpoint");
    return {};
}

Result<StoreStats> Store::stats() {
    if (Status st = check_data_ready(); !st) return st.error();
    StoreStats s;
    s.schema_version = schema_version();
    sql::Use u(*data_,
               "SELECT (SELECT count(*) FROM intervals), (SELECT count(*) FROM intervals WHERE "
               "forward_pending = 1), "
               "(SELECT min(end_s) FROM intervals), (SELECT max(end_s) FROM intervals), "
               "(SELECT min(end_s) FROM intervals WHERE forward_pending = 1)");
    if (u.step() != sql::Use::row_code()) return data_->error("cannot read statistics");
    auto opt = [&](int col) {
        return u.null(col) ? std::optional<SysS>{} : std::optional(from_secs(u.i64(col)));
    };
    s.intervals = u.i64(0);
    s.pending_forward = u.i64(1);
    s.oldest_interval = opt(2);
    s.newest_interval = opt(3);
    s.oldest_pending = opt(4);
    struct stat sb {};
    for (const std::string& base : {path_, access_path_})
        for (const char* suffix : {"", "-wal", "-journal"})
            if (::stat((base + suffix).c_str(), &sb) == 0) s.file_bytes += sb.st_size;
    if (::stat((path_ + "-wal").c_str(), &sb) == 0) s.wal_bytes = sb.st_size;
    return s;
}

}  // namespace gw
