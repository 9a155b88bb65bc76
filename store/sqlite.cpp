// SQLite RAII.
#include "sqlite.hpp"

#include <sqlite3.h>

namespace gw::sql {

bool is_damage(int rc) {
    const int primary = rc & 0xff;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

bool is_constraint(int rc) {
    return (rc & 0xff) == SQLITE_CONSTRAINT;
}

Errc errc_of(int rc) {
    switch (rc & 0xff) {
        case SQLITE_CORRUPT:
            return Errc::store_damaged;
        case SQLITE_NOTADB:
            return Errc::store_not_a_database;
        case SQLITE_READONLY:
            return Errc::store_read_only;
        case SQLITE_FULL:
            return Errc::store_full;
        default:
            return Errc::store_io;
    }
}

Prepared::Prepared(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st_, nullptr) != SQLITE_OK)
        st_ = nullptr;
}

Prepared::~Prepared() {
    sqlite3_finalize(st_);
}

Use::Use(Prepared& p) : st_(p.get()), bind_rc_(st_ ? SQLITE_OK : SQLITE_ERROR) {}

Use::Use(Db& db, const char* sql) : st_(nullptr), owned_(true), bind_rc_(SQLITE_ERROR) {
    if (db.handle() != nullptr &&
        sqlite3_prepare_v2(db.handle(), sql, -1, &st_, nullptr) == SQLITE_OK)
        bind_rc_ = SQLITE_OK;
}

Use::~Use() {
    if (st_ == nullptr) return;
    if (owned_) {
        sqlite3_finalize(st_);
        return;
    }
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
}

Use& Use::check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
}

Use& Use::bind(std::int64_t v) {
    return st_ ? check(sqlite3_bind_int64(st_, ++i_, v)) : *this;
}
Use& Use::bind(double v) {
    return st_ ? check(sqlite3_bind_double(st_, ++i_, v)) : *this;
}
Use& Use::bind(std::string_view v) {
    return st_ ? check(sqlite3_bind_text(st_, ++i_, v.data(), static_cast<int>(v.size()),
                                         SQLITE_TRANSIENT))
               : *this;
}
Use& Use::bind_null() {
    return st_ ? check(sqlite3_bind_null(st_, ++i_)) : *this;
}

int Use::step() {
    return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(st_);
}
int Use::row_code() {
    return SQLITE_ROW;
}
int Use::done_code() {
    return SQLITE_DONE;
}

std::int64_t Use::i64(int col) const {
    return sqlite3_column_int64(st_, col);
}
double Use::f64(int col) const {
    return sqlite3_column_double(st_, col);
}
bool Use::null(int col) const {
    return sqlite3_column_type(st_, col) == SQLITE_NULL;
}
std::optional<double> Use::opt_f64(int col) const {
    return null(col) ? std::nullopt : std::optional(f64(col));
}
std::optional<std::int64_t> Use::opt_i64(int col) const {
    return null(col) ? std::nullopt : std::optional(i64(col));
}
std::string Use::text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col)))
             : std::string();
}

Db::~Db() {
    close();
}

Status Db::open(const std::string& path, bool create, int busy_timeout_ms) {
    close();
    path_ = path;
    const int flags =
        SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        Error e = error("cannot open");
        close();
        return e;
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    return {};
}

void Db::close() {
    statements_.clear();
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
}

Status Db::exec(const char* sql) {
    if (db_ == nullptr) return make_error(Errc::store_io, path_ + " is not open");
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string m = err ? err : "unknown error";
        sqlite3_free(err);
        return error("statement failed (" + m + ")");
    }
    return {};
}

Result<std::string> Db::text(const char* sql) {
    Use u(*this, sql);
    std::string out;
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
        if (!out.empty()) out += "; ";
        out += u.text(0);
    }
    if (rc != SQLITE_DONE) return error("query failed");
    return out;
}

Prepared& Db::stmt(int id, const char* sql) {
    const auto i = static_cast<std::size_t>(id);
    if (statements_.size() <= i) statements_.resize(i + 1);
    auto& slot = statements_[i];
    if (!slot || !slot->ok()) slot = std::make_unique<Prepared>(db_, sql);
    return *slot;
}

int Db::last_rc() const {
    return db_ ? sqlite3_extended_errcode(db_) : SQLITE_CANTOPEN;
}

std::int64_t Db::changes() const {
    return db_ ? sqlite3_changes(db_) : 0;
}

Error Db::error(const std::string& what) const {
    const int rc = last_rc();
    const char* msg = db_ ? sqlite3_errmsg(db_) : "not open";
    std::string m = what + " in " + path_ + ": " + msg;
    if ((rc & 0xff) == SQLITE_FULL) m += " (the disk is full)";
    return make_error(errc_of(rc), m);
}

Tx::Tx(Db& db) : db_(db) {
    began_ = db_.handle() != nullptr &&
             sqlite3_exec(db_.handle(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
}

Tx::~Tx() {
    if (began_ && !done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

bool Tx::commit() {
    if (!began_) return false;
    const int rc = sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) done_ = true;
    return done_;
}

}  // namespace gw::sql
