// The commissioning checks over a site's latest samples: does each meter answer, and does each
// meter's sign setting agree with what the site is doing. Shown on the commissioning page and
// by `gatewayctl check`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gw/core/config.hpp"
#include "gw/drivers/link_state.hpp"
#include "gw/drivers/sample.hpp"

namespace gw {

/// One meter as the checks see it.
struct MeterReading {
    const MeterConfig* meter = nullptr;
    LinkState link = LinkState::unknown;
    std::optional<std::string> last_error;
    std::optional<Sample> sample;  ///< the latest valid sample, if any
};

struct SiteProblem {
    std::string meter_ean;
    std::string kind;     ///< "link" or "sign"
    std::string message;  ///< plain words, for the installer
};

/// Below this much power (W) a reading says nothing about direction: standby draw of an
/// inverter at night, a meter's zero offset.
inline constexpr double k_sign_floor_w = 500;

/// The link check: every meter's link state is ok.
/// The sign check (convention: + is import from the grid, - export to it):
/// - a production meter (bruto_productie) shows production as export; one that reads an import
///   above the floor has its sign setting the wrong way round;
/// - while the production meters show production, the transfer point (overdrachtspunt) shows
///   export, or an import smaller than the site's own draw; one that reads an import above the
///   floor (and above 5 % of the production) while the site produces looks reversed too, and
///   the message says that a site drawing more than production plus that import would explain
///   it.
/// A meter without a sample is left to the link check. A pure function.
std::vector<SiteProblem> check_site(const std::vector<MeterReading>& meters);

}  // namespace gw
