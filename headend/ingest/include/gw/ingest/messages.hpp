// What the head-end reads from and writes to MQTT: topics, the interval and manifest payloads
// (parsed strictly: a message that does not fit is refused with a reason), backfill requests.
#pragma once

#include <string>
#include <string_view>

#include "gw/core/error.hpp"
#include "gw/core/time.hpp"
#include "gw/pgstore/pg_store.hpp"

namespace gw::ingest {

enum class TopicKind { interval, manifest, status, other };
/// The kind of a topic under `prefix` and its gateway id ({prefix}/{gateway_id}/...).
struct TopicInfo {
    TopicKind kind = TopicKind::other;
    std::string gateway_id;
};
TopicInfo classify(std::string_view topic, std::string_view prefix);

/// Interval values outside these are refused as malformed.
inline constexpr long long k_max_abs_kw = 10'000'000;  ///< 10 GW: no site is larger
inline constexpr double k_max_voltage_v = 1'000'000;
inline constexpr int k_max_samples = 1'000'000;

/// One interval message: the topic's gateway, customer and meter must be the payload's; every
/// field of docs/mqtt.md must be there with its type, and nothing else; `tijd` on the
/// interval grid, not after `now` and not before `oldest`.
Result<IncomingInterval> parse_interval(std::string_view topic, std::string_view payload,
                                        std::string_view prefix, SysS now, SysS oldest);
/// A manifest message on {prefix}/{gateway_id}/manifest.
Result<Manifest> parse_manifest(std::string_view topic, std::string_view payload,
                                std::string_view prefix);

std::string backfill_topic(std::string_view prefix, const std::string& gateway_id);
std::string backfill_payload(const BackfillOrder& order);

}  // namespace gw::ingest
