// A throwaway PostgreSQL 15 cluster for a test: initdb and pg_ctl in a temporary directory, as a
// non-root user (postgres when the test runs as root), on a free loopback port; stopped by
// pg_ctl (which signals the postmaster's PID) when the fixture goes.
#pragma once

#include <string>

#include "temp_dir.hpp"

namespace gw::test {

class PgCluster {
  public:
    /// `server_options`: settings for the server ("-c name=value ..."); by default durability
    /// is off (fsync), which a test that only restarts the server cleanly does not need.
    explicit PgCluster(TempDir& dir,
                       std::string server_options = "-c fsync=off -c full_page_writes=off");
    ~PgCluster();
    PgCluster(const PgCluster&) = delete;
    PgCluster& operator=(const PgCluster&) = delete;

    void start();
    /// `mode`: smart | fast | immediate (a crash: no shutdown checkpoint).
    void stop(const std::string& mode = "fast");
    int port() const { return port_; }
    /// A libpq connection string for database `meters`, user `headend`.
    std::string conninfo() const;
    /// Runs SQL with psql; its output (tuples only, unaligned).
    std::string psql(const std::string& sql) const;

  private:
    std::string run_as_owner(const std::string& command) const;
    std::string data_, log_, options_;
    int port_ = 0;
    bool running_ = false;
};

}  // namespace gw::test
