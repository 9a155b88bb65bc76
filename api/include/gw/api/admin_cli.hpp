// The admin commands gatewayctl and headendctl share: API clients and consent, on any
// AccessAdmin store (the gateway's SQLite, the head-end's PostgreSQL).
#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gw/core/ean.hpp"
#include "gw/core/error.hpp"
#include "gw/core/store_api.hpp"
#include "gw/core/time.hpp"

namespace gw::cli {

/// A command line that does not fit the usage: the tool prints it with its usage, exit 64.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Options after the positional words: --name value pairs, only those `allowed`.
std::map<std::string, std::string> options(const std::vector<std::string>& args, std::size_t from,
                                           std::initializer_list<const char*> allowed);
/// "7d", "12h", "30m", "600s" (or a bare number of seconds).
std::chrono::seconds parse_duration(const std::string& text);
Ean18 ean_arg(const std::string& text, const char* what);

template <class T>
T must(Result<T> r) {
    if (!r) throw std::runtime_error(r.error().message);
    return std::move(r).value();
}
inline void must(const Status& s) {
    if (!s) throw std::runtime_error(s.error().message);
}

/// The usage lines of the client and consent commands.
extern const char* const k_access_usage;

/// `client add|rotate|revoke|list ...` (a[0] == "client"). Prints a new secret once.
int client_command(AccessAdmin& store, const std::vector<std::string>& a, SysS now,
                   std::ostream& out);

/// The customers a tool knows (to list current consent, and to warn about unknown ones).
struct KnownCustomers {
    std::vector<std::pair<Ean18, std::string>> list;  ///< EAN and name
    std::string source;                               ///< where they come from, for the warning
};
/// `consent grant|revoke|list ...` (a[0] == "consent").
int consent_command(AccessAdmin& store, const KnownCustomers& known,
                    const std::vector<std::string>& a, SysS now, std::ostream& out,
                    std::ostream& err);

}  // namespace gw::cli
