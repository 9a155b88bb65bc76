// One-shot reads for the field tools (gatewayctl read, scan, check): every register of a map in
// one go, and probes of unit ids with the built-in profiles' signatures.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gw/core/config.hpp"
#include "gw/drivers/register_reader.hpp"
#include "gw/drivers/sample.hpp"

namespace gw {

/// One register as read: its words on the wire and its decoded value in the canonical unit
/// (W, var, V, Wh, varh; before CT/VT ratios and the sign setting).
struct RegisterValue {
    Reg reg;
    RegisterSpec spec;
    std::vector<std::uint16_t> words;  ///< empty when its block could not be read
    std::optional<double> value;
    std::string problem;  ///< why there is no value (sentinel, NaN, read error)
};

struct OneRead {
    std::vector<RegisterValue> registers;  ///< every register of the map, in Reg order
    std::optional<Error> error;            ///< the first failed request, if any
    std::optional<Sample> sample;          ///< as the gateway would take it
    std::optional<Error> sample_error;     ///< why it would not
};

/// Reads every register of `meter`'s map once (coalesced as the poller does) and decodes it.
OneRead read_once(RegisterReader& link, const MeterConfig& meter, SysMs at, SteadyMs now);

/// What a probe of one unit id found.
struct Probe {
    int unit = 0;
    bool answered = false;  ///< a reply or a Modbus exception: something is there
    std::string profile;    ///< the built-in profile whose signature matches; empty: unknown
    std::string how;        ///< "signature: model code ..." or "guessed: ..."
    std::string detail;     ///< for the log: the error when nothing answered
};

/// Probes `unit`: first a read of one register any meter family has (an exception reply also
/// counts as an answer), then each built-in profile's identification registers (a model code or
/// name). Where none matches, a guess: the first profile whose three phase voltages decode to
/// 80..300 V and whose active power reads.
Probe probe_unit(RegisterReader& link, int unit, SteadyMs now);

}  // namespace gw
