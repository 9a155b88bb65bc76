// The gateway's configuration: plain structs, parsed from one TOML file and validated in full.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gw/core/ean.hpp"
#include "gw/core/log.hpp"
#include "gw/core/registers.hpp"

namespace gw {

enum class MeterType : std::uint8_t { bruto_productie, overdrachtspunt };
std::string_view meter_type_name(MeterType t);

/// The meter's own convention for the sign of power.
enum class SignConvention : std::uint8_t { import_positive, export_positive };
enum class VoltageMode : std::uint8_t { phase_to_neutral, phase_to_phase };
std::string_view voltage_mode_name(VoltageMode m);
enum class AveragingMethod : std::uint8_t { samples, energy };
/// tcp: Modbus TCP (MBAP). rtu: RTU frames on a serial device. rtu_over_tcp: RTU frames with
/// CRC over a TCP stream (a serial-to-Ethernet converter in transparent mode).
enum class LinkType : std::uint8_t { tcp, rtu, rtu_over_tcp };
/// "tcp", "rtu", "rtu_over_tcp": the config's names.
std::string_view link_type_name(LinkType t);

struct GatewayConfig {
    std::string id;
    int interval_s = 300;
    log::Level log_level = log::Level::info;
    bool trust_clock = false;
};

struct StorageConfig {
    std::string path;
    int retention_days = 31;
};

struct ApiConfig {
    bool enabled = true;
    std::string listen_host = "0.0.0.0";
    std::uint16_t listen_port = 8443;
    std::string tls_cert;
    std::string tls_key;
    int rate_limit_per_minute = 60;
    int token_lifetime_s = 3600;
    int max_connections = 32;             ///< in total; when full, the longest-idle one is closed
    int max_connections_per_address = 8;  ///< from one source address
    int handshake_timeout_s = 10;         ///< TLS handshake after the TCP connection
    int request_timeout_s = 10;    ///< a request, from its first byte (or the handshake) to its end
    int keepalive_timeout_s = 30;  ///< idle wait for the next request on a kept-alive connection
    /// metrics_listen: a loopback address for GET /metrics over plain HTTP without login
    /// (metrics_port 0: not configured).
    std::string metrics_host;
    std::uint16_t metrics_port = 0;
};

struct MqttConfig {
    bool enabled = false;
    std::string uri;  ///< tcp://host:port or ssl://host:port
    std::string client_id;
    std::string topic_prefix = "meters";
    std::string username;       ///< empty: anonymous
    std::string password_file;  ///< empty: no password
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    int keepalive_s = 30;
    bool clean_session = false;
    int reconnect_max_s = 30;
    int max_inflight = 16;
    bool uses_tls() const { return uri.rfind("ssl://", 0) == 0; }
};

struct CustomerConfig {
    Ean18 klant_ean;
    std::string name;
};

struct LinkConfig {
    std::string id;
    LinkType type = LinkType::tcp;
    // TCP
    std::string host;
    std::uint16_t port = 502;
    // RTU (baud also on rtu_over_tcp: the converter's serial side, for timing and read plans)
    std::string device;
    int baud = 19200;
    char parity = 'E';
    int data_bits = 8;
    int stop_bits = 1;
    // Both
    int response_timeout_ms = 500;
    int byte_timeout_ms = 100;
    int request_delay_ms = 0;      ///< least silence before each request, from the last frame
    int inter_frame_delay_ms = 0;  ///< RTU framing: extra silence after t3.5
    int turnaround_ms = 10;  ///< the meters' typical time to answer: the read planner's estimate
    int retries = 1;         ///< further attempts of one read after a timeout or CRC error
    int reconnect_max_ms = 30000;

    /// RTU framing (on a serial device or over TCP): frames are separated by t3.5 silence.
    bool rtu_framing() const { return type != LinkType::tcp; }
    /// One character on the serial line: 11 bits (start, 8 data, parity or a second stop, stop).
    std::chrono::microseconds char_time() const {
        return std::chrono::microseconds{11'000'000LL / baud};
    }
    /// The silence the link keeps between two frames: t3.5 (fixed 1750 us above 19200 baud, as
    /// the Modbus serial line guide says), the extra inter_frame_delay_ms, at least
    /// request_delay_ms. Zero on Modbus TCP unless request_delay_ms asks for it.
    std::chrono::microseconds frame_gap() const;
};

/// One unit the Modbus TCP server answers for: the meter whose register map it serves.
struct ModbusServerUnit {
    int unit_id = 1;
    Ean18 meter;
    /// Reads of registers the gateway does not poll go to the bus (queued behind its own polls);
    /// off: they get exception 02.
    bool passthrough = false;
    /// Holding registers a client may write (FC06, FC16), passed to the bus: first..last,
    /// inclusive. Empty: every write is refused (exception 01).
    std::vector<std::pair<std::uint16_t, std::uint16_t>> writable;
};

/// [modbus_server]: shares the meters' latest samples with a park controller over Modbus TCP.
struct ModbusServerConfig {
    bool enabled = false;  ///< set when the section is present
    std::string listen_host;
    std::uint16_t listen_port = 0;
    int max_connections = 8;
    int max_connections_per_address = 4;
    int idle_timeout_s = 60;
    int max_queued = 16;  ///< pass-through reads waiting for the bus, over all clients
    std::vector<ModbusServerUnit> units;
};

struct PlausibilityLimits {
    double max_abs_power_kw = 1'000'000;  ///< per total, after CT/VT ratios
    double min_voltage_v = 0;
    double max_voltage_v = 1'000'000;
};

struct MeterConfig {
    Ean18 meter_ean;
    Ean18 klant_ean;
    MeterType type = MeterType::bruto_productie;
    std::string link;  ///< id of a LinkConfig
    int unit_id = 1;
    std::string profile;    ///< built-in profile name, or "custom"
    RegisterMap registers;  ///< resolved: the profile's map or the custom one
    int poll_ms = 1000;
    SignConvention sign = SignConvention::import_positive;
    double ct_ratio = 1.0;
    double vt_ratio = 1.0;
    VoltageMode voltage = VoltageMode::phase_to_neutral;
    AveragingMethod method = AveragingMethod::samples;
    PlausibilityLimits limits;
    double cross_check_tolerance_pct = 5.0;
    double cross_check_min_kw = 1.0;
    /// Registers a coalesced read may skip over at most (8 on tcp, 32 with RTU framing); the
    /// planner reads a hole only where that costs less bus time than another request.
    int max_read_gap = 8;

    /// How long after its end an interval is closed: a poll period and a half second, so that
    /// a sample stamped just before the end can still arrive.
    std::chrono::milliseconds close_grace() const {
        return std::chrono::milliseconds{poll_ms + 500};
    }
};

struct Config {
    std::string file;  ///< the path it was read from
    GatewayConfig gateway;
    StorageConfig storage;
    ApiConfig api;
    MqttConfig mqtt;
    std::vector<CustomerConfig> customers;
    std::vector<LinkConfig> links;
    std::vector<MeterConfig> meters;
    ModbusServerConfig modbus_server;

    const LinkConfig* find_link(std::string_view id) const;
    const CustomerConfig* find_customer(const Ean18& klant) const;
    const MeterConfig* find_meter(const Ean18& meter) const;
};

/// The fleet head-end's configuration (SPEC 8): its own [headend] and [postgres] sections, and
/// the gateway's [api] and [mqtt] sections with the head-end's additions.
struct HeadendConfig {
    std::string file;
    std::string id;
    log::Level log_level = log::Level::info;
    /// A missing interval older than this (after its end) is asked for again.
    int backfill_after_s = 900;
    /// Backfill requests for one gap before it counts as unfillable.
    int backfill_attempts = 3;
    std::string pg_conninfo;
    int retention_days = 400;
    ApiConfig api;
    MqttConfig mqtt;
    std::string shared_group = "headend";  ///< subscribes with $share/{shared_group}/...
    /// MQTT 5 session expiry: how long the broker keeps an absent instance's session (and the
    /// share's messages it goes on queueing there); longer absences are filled by backfill.
    int session_expiry_s = 300;
    int batch_max = 1000;  ///< messages per insert transaction at most
    int batch_ms = 200;    ///< how long a batch may wait to fill
};

/// One finding about the file: where, which key, what was expected.
struct Diagnostic {
    std::string file;
    int line = 0;  ///< 0: unknown
    int column = 0;
    std::string key;  ///< dotted key path, e.g. meter[1].registers.p_total.type
    std::string message;
    /// "file:line:col: key: message"
    std::string str() const;
};

/// Gives the register map of a built-in profile, or nullptr when there is none of that name.
/// Supplied by the caller so that core does not depend on the drivers.
using ProfileLookup = std::function<const RegisterMap*(std::string_view name)>;

struct ConfigResult {
    std::optional<Config> config;  ///< set only when errors is empty
    std::vector<Diagnostic> errors;
};

/// Reads and validates a configuration file. All errors are collected, not just the first.
ConfigResult load_config(const std::string& path, const ProfileLookup& profiles);
/// The same for text in memory; `file` names it in diagnostics.
ConfigResult parse_config(std::string_view text, const std::string& file,
                          const ProfileLookup& profiles);

/// Reads and validates a head-end configuration file (SPEC 8), all errors collected.
struct HeadendConfigResult {
    std::optional<HeadendConfig> config;  ///< set only when errors is empty
    std::vector<Diagnostic> errors;
};
HeadendConfigResult load_headend_config(const std::string& path);
HeadendConfigResult parse_headend_config(std::string_view text, const std::string& file);
/// The head-end's TLS and MQTT files that are missing or unreadable.
std::vector<Diagnostic> check_referenced_files(const HeadendConfig& config);

/// Files and devices the configuration refers to that are missing or unreadable
/// (TLS files, serial devices, the MQTT password and CA files). `--check-config`
/// prints them as warnings; start-up treats them as errors.
std::vector<Diagnostic> check_referenced_files(const Config& config);

}  // namespace gw
