// The store's only contact with the SQLite C API: a connection, prepared statements reused by
// id, one use of a statement, and a transaction that rolls back unless committed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gw/core/error.hpp"
#include "gw/core/time.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace gw::sql {

/// Time columns: whole seconds and milliseconds since the epoch (UTC).
inline std::int64_t secs(SysS t) {
    return t.time_since_epoch().count();
}
inline std::int64_t millis(SysMs t) {
    return t.time_since_epoch().count();
}
inline SysS from_secs(std::int64_t s) {
    return SysS{std::chrono::seconds{s}};
}
inline SysMs from_millis(std::int64_t ms) {
    return SysMs{std::chrono::milliseconds{ms}};
}

/// Proven damage (SQLITE_CORRUPT, SQLITE_NOTADB): the only errors that may quarantine a file.
/// A full disk, an I/O error, a read-only file system or a lock is not damage.
bool is_damage(int rc);
/// Our error code for an SQLite result code.
Errc errc_of(int rc);
/// A constraint failed (a duplicate key).
bool is_constraint(int rc);

class Db;

/// A prepared statement, prepared once per connection and reused.
class Prepared {
  public:
    Prepared(sqlite3* db, const char* sql);
    ~Prepared();
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;
    bool ok() const { return st_ != nullptr; }
    sqlite3_stmt* get() { return st_; }

  private:
    sqlite3_stmt* st_ = nullptr;
};

/// One use of a statement: binds by position from 1, steps, resets on destruction. A statement
/// that failed to prepare (a damaged or altered schema) binds nothing and steps to an error, so
/// the caller reports SQLite's message.
class Use {
  public:
    explicit Use(Prepared& p);
    /// A one-off statement (prepared here, finalized on destruction).
    Use(Db& db, const char* sql);
    ~Use();
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

    Use& bind(std::int64_t v);
    Use& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
    Use& bind(std::uint32_t v) { return bind(static_cast<std::int64_t>(v)); }
    Use& bind(double v);
    Use& bind(std::string_view v);
    Use& bind(const char* v) { return bind(std::string_view(v)); }
    Use& bind(const std::string& v) { return bind(std::string_view(v)); }
    Use& bind_null();
    template <class T>
    Use& bind(const std::optional<T>& v) {
        return v ? bind(*v) : bind_null();
    }

    /// SQLITE_ROW, SQLITE_DONE or an error code.
    int step();
    /// Steps to the end; true when it got there without an error.
    bool run() { return step() == done_code(); }
    static int row_code();
    static int done_code();

    std::int64_t i64(int col) const;
    double f64(int col) const;
    bool null(int col) const;
    std::optional<double> opt_f64(int col) const;
    std::optional<std::int64_t> opt_i64(int col) const;
    std::string text(int col) const;

  private:
    Use& check(int rc);
    sqlite3_stmt* st_;
    bool owned_ = false;
    int i_ = 0;
    int bind_rc_;
};

/// One connection to one database file.
///
/// Thread-safety: none; one thread uses a Db.
class Db {
  public:
    Db() = default;
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    /// Opens `path` (SQLITE_OPEN_READWRITE, plus CREATE when `create`), with extended result
    /// codes and a busy timeout (how long to wait for another connection's lock).
    Status open(const std::string& path, bool create, int busy_timeout_ms = 5000);
    void close();
    bool is_open() const { return db_ != nullptr; }
    const std::string& path() const { return path_; }

    /// Runs one or more statements without results.
    Status exec(const char* sql);
    /// Every row's first column, joined by "; " (PRAGMA quick_check and the like).
    Result<std::string> text(const char* sql);
    /// The statement cached under `id` (prepared on first use, or again after a failure).
    Prepared& stmt(int id, const char* sql);

    /// An error naming `what`, this file, SQLite's message, and a hint for a full disk.
    Error error(const std::string& what) const;
    /// The extended result code of the last failure on this connection.
    int last_rc() const;
    std::int64_t changes() const;
    sqlite3* handle() { return db_; }

  private:
    sqlite3* db_ = nullptr;
    std::string path_;
    std::vector<std::unique_ptr<Prepared>> statements_;
};

/// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed.
class Tx {
  public:
    explicit Tx(Db& db);
    ~Tx();
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;
    bool began() const { return began_; }
    bool commit();

  private:
    Db& db_;
    bool began_ = false;
    bool done_ = false;
};

}  // namespace gw::sql
