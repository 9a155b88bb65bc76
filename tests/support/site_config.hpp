// The gateway configuration of a test, built in one place (no TOML pasted into each test).
#pragma once

#include <string>
#include <vector>

namespace gw::test {

inline constexpr const char* k_klant = "871685900000000011";
inline constexpr const char* k_meter_a = "871685900000000028";  ///< bruto_productie
inline constexpr const char* k_meter_b = "871685900000000035";  ///< overdrachtspunt

struct LinkSpec {
    std::string id = "lan";
    std::string type = "tcp";  ///< tcp | rtu
    int port = 0;              ///< tcp
    std::string device;        ///< rtu
    int response_timeout_ms = 200;
    int reconnect_max_ms = 1000;
    std::string extra;  ///< more `key = value` lines
};

struct MeterSpec {
    std::string meter_ean = k_meter_b;
    std::string meter_type = "overdrachtspunt";
    std::string link = "lan";
    int unit_id = 1;
    std::string profile = "eastron-sdm630";
    int poll_ms = 200;
    std::string extra;
    std::string klant_ean = k_klant;
};

/// A gateway configuration as TOML; every process test builds its site here.
struct SiteConfig {
    std::string id = "test-site";
    int interval_s = 5;
    std::string log_level = "debug";
    bool trust_clock = true;
    std::string db;
    bool api = false;  ///< on 127.0.0.1:0 with the test certificate
    std::string api_extra;
    std::string mqtt_uri;  ///< empty: [mqtt] enabled = false
    std::string mqtt_extra;
    std::string extra;  ///< more top-level sections
    std::vector<std::string> customers{k_klant};
    std::vector<LinkSpec> links;
    std::vector<MeterSpec> meters;

    std::string toml() const;
    /// Writes toml() to `path` and returns it.
    std::string write(const std::string& path) const;
};

}  // namespace gw::test
