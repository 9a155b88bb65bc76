#include "pg_cluster.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <stdexcept>

#include "site.hpp"

namespace gw::test {

namespace {
const std::string k_bin = "/usr/lib/postgresql/15/bin/";

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}
}  // namespace

PgCluster::PgCluster(TempDir& dir, std::string server_options)
    : data_(dir.file("pg")), log_(dir.file("pg.log")), options_(std::move(server_options)) {
    // The server refuses to run as root: the cluster belongs to postgres then, and it must be
    // able to reach the directory.
    ::mkdir(data_.c_str(), 0700);
    if (::geteuid() == 0) {
        const passwd* pw = ::getpwnam("postgres");
        if (pw == nullptr) throw std::runtime_error("no postgres user to run the test cluster as");
        ::chmod(dir.path().c_str(), 0711);
        if (::chown(data_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
            throw std::runtime_error("cannot hand " + data_ + " to postgres");
        write_file(log_, "");
        if (::chown(log_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
            throw std::runtime_error("cannot hand " + log_ + " to postgres");
    }
    run_as_owner(k_bin + "initdb --no-sync -A trust -U headend -E UTF8 --locale=C -D " +
                 quoted(data_) + " >/dev/null");
    port_ = free_port();
    start();
    run_as_owner(k_bin + "createdb -h 127.0.0.1 -p " + std::to_string(port_) +
                 " -U headend meters");
}

PgCluster::~PgCluster() {
    try {
        if (running_) stop("immediate");
    } catch (...) {
    }
}

std::string PgCluster::run_as_owner(const std::string& command) const {
    const std::string full =
        (::geteuid() == 0 ? "runuser -u postgres -- sh -c " + quoted(command) : command) + " 2>&1";
    FILE* p = ::popen(full.c_str(), "r");
    if (p == nullptr) throw std::runtime_error("cannot run " + command);
    std::string out;
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    const int rc = ::pclose(p);
    if (rc != 0) throw std::runtime_error(command + " failed: " + out);
    return out;
}

void PgCluster::start() {
    run_as_owner(k_bin + "pg_ctl -w -t 30 -D " + quoted(data_) + " -l " + quoted(log_) + " -o " +
                 quoted("-p " + std::to_string(port_) +
                        " -c listen_addresses=127.0.0.1 -c unix_socket_directories= " + options_) +
                 " start >/dev/null");
    running_ = true;
}

void PgCluster::stop(const std::string& mode) {
    run_as_owner(k_bin + "pg_ctl -w -t 30 -D " + quoted(data_) + " -m " + mode +
                 " stop >/dev/null");
    running_ = false;
}

std::string PgCluster::conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) +
           " dbname=meters user=headend connect_timeout=5";
}

std::string PgCluster::psql(const std::string& sql) const {
    return run_as_owner("psql -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " +
                        std::to_string(port_) + " -U headend -d meters -c " + quoted(sql));
}

}  // namespace gw::test
