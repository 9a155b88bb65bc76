// The access file (API clients, secret hashes, consent history) and the audit log.
#include "gw/store/store.hpp"
#include "sqlite.hpp"

namespace gw {

using namespace std::chrono;

namespace {

using sql::from_millis;
using sql::from_secs;
using sql::millis;
using sql::secs;

// Statement ids of the access connection.
enum AccessStmt {
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
    s_update_hash,
};

// Statement ids of the data connection used here (after those of intervals.cpp).
enum AuditStmt { s_insert_audit = 100, s_recent_audit };

ApiClient read_client(const sql::Use& u) {
    // The schema's CHECK admits only known roles; anything else would be a damaged row, and
    // gets the role that may do least.
    ApiClient c{u.text(0), parse_role(u.text(1)).value_or(Role::reader), from_secs(u.i64(2)),
                std::nullopt};
    if (!u.null(3)) c.revoked_at = from_secs(u.i64(3));
    return c;
}

constexpr const char* k_insert_secret =
    "INSERT INTO api_secret (client, hash, created_at_s, expires_at_s) VALUES (?, ?, ?, NULL)";

}  // namespace

Status Store::record_consent(const Ean18& klant, bool granted, SysS at, const std::string& actor) {
    sql::Use u(access_->stmt(
        s_insert_consent,
        "INSERT INTO consent_event (klant_ean, granted, at_s, actor) VALUES (?, ?, ?, ?)"));
    if (!u.bind(klant.str()).bind(granted ? 1 : 0).bind(secs(at)).bind(actor).run())
        return access_->error("cannot store consent");
    return {};
}

Result<bool> Store::consent_active(const Ean18& klant) {
    sql::Use u(access_->stmt(
        s_consent_active,
        "SELECT granted FROM consent_event WHERE klant_ean = ? ORDER BY id DESC LIMIT 1"));
    u.bind(klant.str());
    const int rc = u.step();
    if (rc == sql::Use::done_code()) return false;
    if (rc != sql::Use::row_code()) return access_->error("cannot read consent");
    return u.i64(0) == 1;
}

Result<std::vector<ConsentEvent>> Store::consent_history(const Ean18* klant) {
    sql::Use u(
        klant ? access_->stmt(s_consent_one,
                              "SELECT id, klant_ean, granted, at_s, actor FROM consent_event "
                              "WHERE klant_ean = ? ORDER BY id")
              : access_->stmt(
                    s_consent_all,
                    "SELECT id, klant_ean, granted, at_s, actor FROM consent_event ORDER BY id"));
    if (klant) u.bind(klant->str());
    std::vector<ConsentEvent> out;
    int rc;
    while ((rc = u.step()) == sql::Use::row_code()) {
        auto ean = Ean18::parse(u.text(1));
        if (!ean)
            return make_error(Errc::store_damaged,
                              "stored klant EAN \"" + u.text(1) + "\" is invalid");
        out.push_back({u.i64(0), *ean, u.i64(2) == 1, from_secs(u.i64(3)), u.text(4)});
    }
    if (rc != sql::Use::done_code()) return access_->error("cannot read consent history");
    return out;
}

Status Store::add_client(const std::string& name, Role role, const std::string& hash, SysS at) {
    sql::Db& db = *access_;
    sql::Tx tx(db);
    if (!tx.began()) return db.error("cannot begin");
    {
        sql::Use u(db.stmt(s_insert_client,
                           "INSERT INTO api_client (name, role, created_at_s) VALUES (?, ?, ?)"));
        const int rc = u.bind(name).bind(role_name(role)).bind(secs(at)).step();
        if (sql::is_constraint(rc))
            return make_error(Errc::invalid_argument,
                              "an API client named \"" + name + "\" already exists");
        if (rc != sql::Use::done_code()) return db.error("cannot add client");
    }
    {
        sql::Use u(db.stmt(s_insert_secret, k_insert_secret));
        if (!u.bind(name).bind(hash).bind(secs(at)).run()) return db.error("cannot add secret");
    }
    if (!tx.commit()) return db.error("cannot commit client");
    return {};
}

Status Store::rotate_secret(const std::string& name, const std::string& hash, SysS at,
                            SysS old_expire_at) {
    auto existing = client(name);
    if (!existing) return existing.error();
    if (!*existing || (*existing)->revoked_at)
        return make_error(Errc::invalid_argument, "no active API client named \"" + name + "\"");
    sql::Db& db = *access_;
    sql::Tx tx(db);
    if (!tx.began()) return db.error("cannot begin");
    {
        sql::Use u(db.stmt(s_expire_secrets,
                           "UPDATE api_secret SET expires_at_s = ? WHERE client = ? AND "
                           "(expires_at_s IS NULL OR expires_at_s > ?)"));
        if (!u.bind(secs(old_expire_at)).bind(name).bind(secs(old_expire_at)).run())
            return db.error("cannot expire old secrets");
    }
    {
        sql::Use u(db.stmt(s_insert_secret, k_insert_secret));
        if (!u.bind(name).bind(hash).bind(secs(at)).run()) return db.error("cannot add secret");
    }
    if (!tx.commit()) return db.error("cannot commit rotation");
    return {};
}

Status Store::revoke_client(const std::string& name, SysS at) {
    sql::Use u(access_->stmt(
        s_revoke_client,
        "UPDATE api_client SET revoked_at_s = ? WHERE name = ? AND revoked_at_s IS NULL"));
    if (!u.bind(secs(at)).bind(name).run()) return access_->error("cannot revoke client");
    if (access_->changes() == 0)
        return make_error(Errc::invalid_argument, "no active API client named \"" + name + "\"");
    return {};
}

Result<std::optional<ApiClient>> Store::client(const std::string& name) {
    sql::Use u(access_->stmt(
        s_select_client,
        "SELECT name, role, created_at_s, revoked_at_s FROM api_client WHERE name = ?"));
    u.bind(name);
    const int rc = u.step();
    if (rc == sql::Use::done_code()) return std::optional<ApiClient>{};
    if (rc != sql::Use::row_code()) return access_->error("cannot read client");
    return std::optional<ApiClient>{read_client(u)};
}

Result<std::vector<ApiClient>> Store::clients() {
    sql::Use u(access_->stmt(
        s_select_clients,
        "SELECT name, role, created_at_s, revoked_at_s FROM api_client ORDER BY name"));
    std::vector<ApiClient> out;
    int rc;
    while ((rc = u.step()) == sql::Use::row_code()) out.push_back(read_client(u));
    if (rc != sql::Use::done_code()) return access_->error("cannot list clients");
    return out;
}

Result<std::vector<ApiSecret>> Store::valid_secrets(const std::string& name, SysS at) {
    sql::Use u(access_->stmt(
        s_valid_secrets,
        "SELECT s.id, s.client, s.hash, s.created_at_s, s.expires_at_s FROM api_secret s "
        "JOIN api_client c ON c.name = s.client WHERE s.client = ? AND c.revoked_at_s IS NULL "
        "AND (s.expires_at_s IS NULL OR s.expires_at_s > ?) ORDER BY s.id DESC"));
    u.bind(name).bind(secs(at));
    std::vector<ApiSecret> out;
    int rc;
    while ((rc = u.step()) == sql::Use::row_code()) {
        ApiSecret s{u.i64(0), u.text(1), u.text(2), from_secs(u.i64(3)), std::nullopt};
        if (!u.null(4)) s.expires_at = from_secs(u.i64(4));
        out.push_back(std::move(s));
    }
    if (rc != sql::Use::done_code()) return access_->error("cannot read secrets");
    return out;
}

Status Store::update_secret_hash(std::int64_t secret_id, const std::string& hash) {
    sql::Use u(access_->stmt(s_update_hash, "UPDATE api_secret SET hash = ? WHERE id = ?"));
    if (!u.bind(hash).bind(secret_id).run()) return access_->error("cannot update a secret's hash");
    return {};
}

Status Store::append_audit(const AuditRecord& a) {
    if (Status st = check_data_ready(); !st) return st;
    sql::Use u(data_->stmt(
        s_insert_audit,
        "INSERT INTO api_audit (at_ms, client, correlation_id, method, path, klant_ean, meter_ean, "
        "window_start_s, window_end_s, rows, status, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    u.bind(millis(a.at))
        .bind(a.client)
        .bind(a.correlation_id)
        .bind(a.method)
        .bind(a.path)
        .bind(a.klant_ean);
    u.bind(a.meter_ean);
    u.bind(a.window_start ? std::optional(secs(*a.window_start)) : std::nullopt);
    u.bind(a.window_end ? std::optional(secs(*a.window_end)) : std::nullopt);
    u.bind(a.rows).bind(a.status).bind(a.detail);
    if (!u.run()) return data_->error("cannot write audit row");
    return {};
}

Status Store::append_audit(const std::vector<AuditRecord>& records) {
    if (Status st = check_data_ready(); !st) return st;
    sql::Tx tx(*data_);
    if (!tx.began()) return data_->error("cannot begin audit batch");
    for (const auto& a : records)
        if (Status st = append_audit(a); !st) return st;
    if (!tx.commit()) return data_->error("cannot commit audit rows");
    return {};
}

Result<std::vector<AuditRecord>> Store::recent_audit(std::int64_t limit) {
    if (Status st = check_data_ready(); !st) return st.error();
    sql::Use u(data_->stmt(
        s_recent_audit,
        "SELECT at_ms, client, correlation_id, method, path, klant_ean, meter_ean, window_start_s, "
        "window_end_s, rows, status, detail FROM api_audit ORDER BY id DESC LIMIT ?"));
    u.bind(limit);
    std::vector<AuditRecord> out;
    int rc;
    while ((rc = u.step()) == sql::Use::row_code()) {
        AuditRecord a{from_millis(u.i64(0)),
                      u.text(1),
                      u.text(2),
                      u.text(3),
                      u.text(4),
                      u.text(5),
                      u.text(6)};
        if (!u.null(7)) a.window_start = from_secs(u.i64(7));
        if (!u.null(8)) a.window_end = from_secs(u.i64(8));
        a.rows = u.i64(9);
        a.status = static_cast<int>(u.i64(10));
        a.detail = u.text(11);
        out.push_back(std::move(a));
    }
    if (rc != sql::Use::done_code()) return data_->error("cannot read audit log");
    return out;
}

}  // namespace gw
