// meter-sim's model: units with register maps, energy counters, served truth and injected faults.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gw/core/registers.hpp"
#include "gw/drivers/decode.hpp"
#include "scenario.hpp"

struct _modbus_mapping_t;  // NOLINT(bugprone-reserved-identifier): libmodbus' own name

namespace gw::sim {

enum class FaultKind { none, timeout, slow, exception, corrupt, short_reply, drop };

struct Fault {
    FaultKind kind = FaultKind::none;
    int param = 0;  ///< slow: delay in ms; exception: the code
};

/// A value override for one register (fault injection): a special value or a fixed number.
struct ValueOverride {
    std::optional<SpecialValue> special;
    double number = 0;
};

/// One simulated meter (a Modbus unit id).
class SimUnit {
  public:
    SimUnit(int unit_id, std::string profile_name, RegisterMap map, ScenarioParams scenario);
    ~SimUnit();
    SimUnit(const SimUnit&) = delete;
    SimUnit& operator=(const SimUnit&) = delete;

    int id() const { return id_; }
    const std::string& profile() const { return profile_; }
    _modbus_mapping_t* mapping() { return mapping_; }

    /// Advances to scenario time `utc_ms`, `real_ms` milliseconds of wall time after the last
    /// update: integrates the power served over that wall time into the energy counters (exactly:
    /// the served power is constant in between), then serves the scenario's new values. The wall
    /// time, not the scenario time, because a reader sees power and energy on its own clock; a
    /// sped-up scenario changes the power faster, never the physics.
    void update(std::int64_t utc_ms, double real_ms);
    /// The last served values as one JSON object (what a reader of the registers must decode).
    std::string truth_json() const;
    std::string summary() const;

    /// The family's identification register (a model code or name): what a read of exactly
    /// those registers answers.
    struct Identity {
        RegFunction function;
        std::uint16_t address;
        std::vector<std::uint16_t> words;
    };
    void set_identity(Identity id) { identity_ = std::move(id); }
    const std::optional<Identity>& identity() const { return identity_; }

    Fault fault;
    std::map<Reg, ValueOverride> overrides;

  private:
    void serve(Reg r, double canonical);

    int id_;
    std::optional<Identity> identity_;
    std::string profile_;
    RegisterMap map_;
    ScenarioParams scenario_;
    _modbus_mapping_t* mapping_;
    std::int64_t t_ms_ = -1;
    bool started_ = false;
    std::array<std::optional<double>, k_reg_count>
        served_{};                              ///< decoded value of each served register
    double served_p_w_ = 0, served_q_var_ = 0;  ///< totals as a reader computes them
    double e_import_wh_ = 1'000'000, e_export_wh_ = 2'000'000, eq_import_varh_ = 300'000,
           eq_export_varh_ = 400'000;
};

}  // namespace gw::sim
