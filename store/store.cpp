// Opening the store: identify each file, tell damage from a passing failure, quarantine only
// proven damage, migrate, and recover credentials from a quarantined file.
#include "gw/store/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "gw/core/log.hpp"
#include "schema.hpp"
#include "sqlite.hpp"

namespace gw {

using namespace std::chrono;

namespace {

constexpr const char* k_log = "store";

/// What tells the two files apart.
struct FileSpec {
    const char* what;  ///< "store" or "access store", for messages
    int application_id;
    const char* const* migrations;
    int version;
    bool wal;
};

const FileSpec k_data{"store", schema::k_data_application_id, schema::k_data_migrations.data(),
                      static_cast<int>(schema::k_data_migrations.size()), true};
const FileSpec k_access{"access store", schema::k_access_application_id,
                        schema::k_access_migrations.data(),
                        static_cast<int>(schema::k_access_migrations.size()), false};

std::string dir_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

/// Checks made before SQLite touches the file, so that a file that is not ours is never
/// modified. Creates a missing file with mode 0640: it holds password hashes or measurements.
Status precheck(const std::string& path, bool create, bool& existed) {
    struct stat sb {};
    existed = ::stat(path.c_str(), &sb) == 0;
    const std::string dir = dir_of(path);
    if (existed) {
        if (!S_ISREG(sb.st_mode))
            return make_error(Errc::store_not_a_database, path + " is not a regular file");
        // A journal needs to write the file and create files beside it.
        if (::access(path.c_str(), R_OK | W_OK) != 0 || ::access(dir.c_str(), W_OK | X_OK) != 0)
            return make_error(Errc::store_read_only,
                              path + " or its directory " + dir +
                                  " is not writable by this user: " + std::strerror(errno));
        if (sb.st_size > 0) {
            char header[16] = {};
            std::ifstream in(path, std::ios::binary);
            in.read(header, sizeof header);
            if (!in || std::memcmp(header, "SQLite format 3", 16) != 0)
                return make_error(
                    Errc::store_not_a_database,
                    path + " is not an SQLite database; refusing to touch it (check storage.path)");
        }
        return {};
    }
    if (!create) return make_error(Errc::store_io, path + " does not exist");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return make_error(
            errno == ENOENT ? Errc::store_io : Errc::store_read_only,
            "cannot create " + path + ": directory " + dir + ": " + std::strerror(errno));
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
    if (fd < 0 && errno != EEXIST)
        return make_error(errno == ENOSPC ? Errc::store_full : Errc::store_io,
                          "cannot create " + path + ": " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return {};
}

/// The outcome of checking one file.
struct Check {
    Status status;
    bool damaged = false;  ///< the status is proven damage (only then may the file be moved aside)
    int version = 0;
};

/// Opens `path`, identifies it and runs `quick_check`. Failures that are not proven damage
/// come back with damaged = false.
Check open_and_check(sql::Db& db, const std::string& path, const FileSpec& spec, bool create,
                     int busy_ms) {
    Check c;
    bool existed = false;
    if (Status st = precheck(path, create, existed); !st) {
        c.status = st;
        return c;
    }
    if (Status st = db.open(path, false, busy_ms); !st) {
        c.status = st;
        return c;
    }
    auto failed = [&](const std::string& what) {
        const int rc = db.last_rc();
        Check out;
        out.damaged = sql::is_damage(rc);
        Error e = db.error(what);
        if (out.damaged)
            e = make_error(Errc::store_damaged, path + " is damaged (" + e.message + ")");
        out.status = e;
        return out;
    };
    // One statement, so one snapshot: another process may be creating the file right now.
    auto ident = db.text(
        "SELECT application_id || ' ' || user_version || ' ' || "
        "(SELECT count(*) FROM sqlite_master) FROM pragma_application_id, pragma_user_version");
    if (!ident) return failed("cannot read the header");
    long id = 0, tables = 0;
    int version = 0;
    if (std::sscanf(ident->c_str(), "%ld %d %ld", &id, &version, &tables) != 3) {
        c.status = make_error(Errc::store_damaged, path + " is damaged (unreadable header)");
        c.damaged = true;
        return c;
    }
    if (id != spec.application_id && !(id == 0 && tables == 0)) {
        c.status = make_error(
            Errc::store_foreign_database,
            path + " is an SQLite database of another application; refusing to touch it");
        return c;
    }
    if (version > spec.version) {
        c.status = make_error(Errc::store_newer_schema,
                              path + " has schema version " + std::to_string(version) +
                                  ", newer than this program's " + std::to_string(spec.version) +
                                  "; install the newer release or restore a backup");
        return c;
    }
    auto check = db.text("PRAGMA quick_check");
    if (!check) return failed("cannot check");
    if (*check != "ok") {
        c.status = make_error(Errc::store_damaged,
                              path + " is damaged (quick_check: " + check->substr(0, 500) + ")");
        c.damaged = true;
        return c;
    }
    // WAL + FULL: a commit is durable once COMMIT returns, even across a power cut. The access
    // file keeps a rollback journal, which needs no extra file to be read (on a full disk too).
    auto mode = db.text(spec.wal ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE");
    if (!mode || *mode != (spec.wal ? "wal" : "delete"))
        return failed("cannot set the journal mode");
    const char* pragmas = spec.wal
                              ? "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                                "PRAGMA journal_size_limit=262144; PRAGMA wal_autocheckpoint=256"
                              : "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON";
    if (Status st = db.exec(pragmas); !st) return failed("cannot configure");
    c.version = version;
    return c;
}

/// Runs the migrations from the file's version up to the spec's, in one transaction.
Status migrate(sql::Db& db, const FileSpec& spec) {
    sql::Tx tx(db);
    if (!tx.began()) return db.error("cannot begin migration");
    auto version = db.text("PRAGMA user_version");
    if (!version) return db.error("cannot read the schema version");
    int v = std::stoi(*version);
    if (v > spec.version)  // another process may have migrated it meanwhile
        return make_error(Errc::store_newer_schema,
                          db.path() + " has a newer schema version " + *version);
    if (v == spec.version) return {};
    const int from = v;
    for (; v < spec.version; ++v)
        if (Status st = db.exec(spec.migrations[v]); !st) return st;
    const std::string set = "PRAGMA user_version=" + std::to_string(v) +
                            "; PRAGMA application_id=" + std::to_string(spec.application_id);
    if (Status st = db.exec(set.c_str()); !st) return st;
    if (!tx.commit()) return db.error("cannot commit migration");
    if (from > 0)
        log::info(k_log, "migrated ", db.path(), " from schema version ", from, " to ", v);
    return {};
}

/// Renames a damaged file and its journals aside; returns the new name.
Result<std::string> move_aside(const std::string& path, const std::string& problem) {
    std::string stamp = format_utc(time_point_cast<seconds>(system_clock::now()));
    for (char& c : stamp)
        if (c == ':') c = '-';
    const std::string aside = path + ".damaged-" + stamp;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        const std::string from = path + suffix;
        if (::access(from.c_str(), F_OK) == 0 &&
            std::rename(from.c_str(), (aside + suffix).c_str()) != 0)
            return make_error(
                Errc::store_damaged,
                path + " is damaged and could not be moved aside: " + std::strerror(errno));
    }
    log::error(k_log, "DATABASE DAMAGED: ", path, " failed its check (", problem, "); moved it to ",
               aside, " and started a new one");
    return aside;
}

/// Copies what can still be read of the credential and consent tables of `from` (a damaged
/// access file, or a damaged data file from before version 3) into the access file.
std::string recover_access_rows(sql::Db& access, const std::string& from) {
    sql::Db old;
    if (!old.open(from, false)) return "nothing recovered: " + from + " cannot be opened";
    struct Table {
        const char* name;
        const char* select;
        const char* insert;
        int columns;
    };
    // Values are copied as text; the columns' INTEGER affinity turns them back into numbers.
    static const Table tables[] = {
        {"api_client", "SELECT name, role, created_at_s, revoked_at_s FROM api_client",
         "INSERT OR IGNORE INTO api_client (name, role, created_at_s, revoked_at_s) VALUES (?, ?, "
         "?, ?)",
         4},
        {"api_secret", "SELECT id, client, hash, created_at_s, expires_at_s FROM api_secret",
         "INSERT OR IGNORE INTO api_secret (id, client, hash, created_at_s, expires_at_s) VALUES "
         "(?, ?, ?, ?, ?)",
         5},
        {"consent_event", "SELECT id, klant_ean, granted, at_s, actor FROM consent_event",
         "INSERT OR IGNORE INTO consent_event (id, klant_ean, granted, at_s, actor) VALUES (?, ?, "
         "?, ?, ?)",
         5},
    };
    std::string report;
    for (const auto& t : tables) {
        sql::Use exists(old,
                        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
        exists.bind(t.name);
        if (exists.step() == sql::Use::row_code() && exists.i64(0) == 0)
            continue;  // a newer data file: not there
        sql::Use rd(old, t.select);
        long long copied = 0;
        int rc;
        while ((rc = rd.step()) == sql::Use::row_code()) {
            sql::Use wr(access, t.insert);
            for (int col = 0; col < t.columns; ++col) {
                if (rd.null(col))
                    wr.bind_null();
                else
                    wr.bind(rd.text(col));
            }
            if (wr.run()) ++copied;
        }
        if (!report.empty()) report += ", ";
        report += std::to_string(copied) + " row(s) of " + t.name;
        if (rc != sql::Use::done_code()) report += " (the rest unreadable)";
    }
    return report;
}

}  // namespace

std::string Store::access_path_for(const std::string& data_path) {
    const auto slash = data_path.rfind('/');
    const auto dot = data_path.rfind('.');
    if (dot != std::string::npos && (slash == std::string::npos || dot > slash + 1))
        return data_path.substr(0, dot) + "-access" + data_path.substr(dot);
    return data_path + "-access";
}

Store::Store(std::string path, OpenOptions options)
    : path_(std::move(path)),
      access_path_(access_path_for(path_)),
      options_(options),
      data_(std::make_unique<sql::Db>()),
      access_(std::make_unique<sql::Db>()) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const OpenOptions& options) {
    std::unique_ptr<Store> store(new Store(path, options));
    if (Status st = store->open_access(); !st) return st.error();
    if (Status st = store->open_data(); !st) {
        // A file that is not ours, or from a newer release, is a mistake to fix, not a passing
        // state.
        const auto code = st.error().code;
        const bool passing =
            code == Errc::store_io || code == Errc::store_full || code == Errc::store_read_only ||
            code == Errc::store_damaged;  // damaged and not allowed to move it aside
        if (!options.allow_unavailable || !passing) return st.error();
        store->data_error_ = st.error();
        log::error(
            k_log, "STORAGE UNAVAILABLE: ", st.error().message,
            "; polling goes on and closed intervals are held in memory until it can be written");
    }
    return store;
}

Status Store::open_access() {
    Check c =
        open_and_check(*access_, access_path_, k_access, options_.create, options_.busy_timeout_ms);
    if (c.damaged && options_.move_damaged_aside) {
        access_->close();
        auto aside = move_aside(access_path_, c.status.error().message);
        if (!aside) return aside.error();
        c = open_and_check(*access_, access_path_, k_access, true, options_.busy_timeout_ms);
        if (c.status) c.status = migrate(*access_, k_access);
        if (c.status) {
            const std::string recovered = recover_access_rows(*access_, *aside);
            log::error(k_log, "recovered from the damaged access store: ", recovered);
            open_events_.push_back(
                {time_point_cast<milliseconds>(system_clock::now()), "", "store_recreated",
                 "damaged access store moved to " + *aside + "; recovered " + recovered});
        }
        return c.status;
    }
    if (!c.status) return c.status;
    return migrate(*access_, k_access);
}

Status Store::open_data() {
    Check c = open_and_check(*data_, path_, k_data, options_.create, options_.busy_timeout_ms);
    if (c.damaged && options_.move_damaged_aside) {
        data_->close();
        const std::string problem = c.status.error().message;
        auto aside = move_aside(path_, problem);
        if (!aside) return aside.error();
        // Before version 3 the data file held the credentials: keep what can be read of them.
        std::string recovered;
        if (access_->is_open()) recovered = recover_access_rows(*access_, *aside);
        open_events_.push_back({time_point_cast<milliseconds>(system_clock::now()), "",
                                "store_recreated",
                                "damaged store moved to " + *aside + ": " + problem +
                                    (recovered.empty() ? "" : "; recovered " + recovered)});
        c = open_and_check(*data_, path_, k_data, true, options_.busy_timeout_ms);
    }
    if (!c.status) {
        data_->close();
        return c.status;
    }
    if (c.version > 0 && c.version < 3) {
        // Version 3 moved the credentials and the consent history into the access file. The
        // copy is idempotent (a crash before the migration commits copies again).
        if (!access_->is_open()) {
            data_->close();
            return make_error(Errc::store_io,
                              path_ + " needs the access store to migrate, and it is unavailable");
        }
        sql::Use attach(*data_, "ATTACH DATABASE ? AS acc");
        attach.bind(access_path_);
        if (!attach.run()) {
            Error e = data_->error("cannot attach the access store");
            data_->close();
            return e;
        }
        Status copied = data_->exec(
            "BEGIN IMMEDIATE;"
            "INSERT OR IGNORE INTO acc.api_client (name, role, created_at_s, revoked_at_s) "
            "  SELECT name, role, created_at_s, revoked_at_s FROM main.api_client;"
            "INSERT OR IGNORE INTO acc.api_secret (id, client, hash, created_at_s, expires_at_s) "
            "  SELECT id, client, hash, created_at_s, expires_at_s FROM main.api_secret;"
            "INSERT OR IGNORE INTO acc.consent_event (id, klant_ean, granted, at_s, actor) "
            "  SELECT id, klant_ean, granted, at_s, actor FROM main.consent_event;"
            "COMMIT;");
        if (!copied) (void)data_->exec("ROLLBACK");
        (void)data_->exec("DETACH DATABASE acc");
        if (!copied) {
            data_->close();
            return copied;
        }
    }
    if (Status st = migrate(*data_, k_data); !st) {
        data_->close();
        return st;
    }
    data_error_.reset();
    for (const auto& e : open_events_) (void)append_event_row(e);
    open_events_.clear();
    return {};
}

bool Store::data_available() const {
    return data_->is_open();
}

Status Store::reopen_data() {
    if (data_->is_open()) return {};
    if (!access_->is_open())
        if (Status st = open_access(); !st) return st;
    Status st = open_data();
    if (!st) {
        data_error_ = st.error();
        return st;
    }
    log::info(k_log, path_, " is available again");
    return {};
}

Status Store::check_data_ready() const {
    if (data_->is_open()) return {};
    if (data_error_) return *data_error_;
    return make_error(Errc::store_io, path_ + " is not open");
}

int Store::schema_version() const {
    if (!data_->is_open()) return -1;
    auto v = data_->text("PRAGMA user_version");
    return v ? std::stoi(*v) : -1;
}

Result<std::string> Store::integrity_check() {
    if (Status st = check_data_ready(); !st) return st.error();
    auto a = data_->text("PRAGMA integrity_check");
    if (!a) return a.error();
    auto b = access_->text("PRAGMA integrity_check");
    if (!b) return b.error();
    if (*a == "ok" && *b == "ok") return std::string("ok");
    return "data: " + *a + "; access: " + *b;
}

Result<std::int64_t> Store::data_version() {
    enum { s_data_version };
    std::int64_t out = 0;
    for (sql::Db* db : {data_.get(), access_.get()}) {
        if (!db->is_open()) return make_error(Errc::store_io, db->path() + " is not open");
        sql::Use u(db->stmt(s_data_version, "PRAGMA data_version"));
        if (u.step() != sql::Use::row_code()) return db->error("cannot read data_version");
        out = out * 1'000'003 + u.i64(0);
    }
    return out;
}

Result<std::string> Store::pragma(std::string_view name) {
    sql::Db* db = data_.get();
    if (name.rfind("access.", 0) == 0) {
        db = access_.get();
        name.remove_prefix(7);
    }
    for (char c : name)
        if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '_'))
            return make_error(Errc::invalid_argument, "not a pragma name");
    return db->text(("PRAGMA " + std::string(name)).c_str());
}

}  // namespace gw
