// The head-end's reading of gateway messages: a good interval and manifest, and each kind of
// malformed payload refused with its reason.
#include <doctest/doctest.h>

#include <string>

#include "gw/ingest/messages.hpp"

using namespace std::chrono;
using namespace gw;

namespace {

const std::string k_topic = "meters/site-0001/871685900000000011/871685900000000035/interval";
const std::string k_good =
    R"({"id": "871685900000000035/2026-11-23T11:55:00Z", "gateway_id": "site-0001",
 "klant_ean": "871685900000000011", "meter_ean": "871685900000000035",
 "meter_type": "overdrachtspunt", "tijd": "2026-11-23T11:55:00Z", "interval_s": 300,
 "actief_vermogen_kw": -1234, "blind_vermogen_kvar": 12,
 "spanning_l1_v": 231.4, "spanning_l2_v": 230.9, "spanning_l3_v": null,
 "kwaliteit": "gemeten", "monsters": 298, "dekking": 0.99})";
const SysS k_now = time_point_cast<seconds>(*parse_utc("2026-11-23T12:00:00Z"));
const SysS k_oldest = k_now - days{400};

Result<IncomingInterval> parse(const std::string& payload, const std::string& topic = k_topic) {
    return ingest::parse_interval(topic, payload, "meters", k_now, k_oldest);
}

std::string with(const std::string& from, const std::string& to) {
    std::string s = k_good;
    const auto pos = s.find(from);
    REQUIRE(pos != std::string::npos);
    return s.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("topics are classified under the prefix") {
    CHECK(ingest::classify(k_topic, "meters").kind == ingest::TopicKind::interval);
    CHECK(ingest::classify(k_topic, "meters").gateway_id == "site-0001");
    CHECK(ingest::classify("meters/site-0001/manifest", "meters").kind ==
          ingest::TopicKind::manifest);
    CHECK(ingest::classify("meters/site-0001/status", "meters").kind == ingest::TopicKind::status);
    CHECK(ingest::classify("meters/site-0001/cmd/backfill", "meters").kind ==
          ingest::TopicKind::other);
    CHECK(ingest::classify("metersX/site-0001/status", "meters").kind == ingest::TopicKind::other);
}

TEST_CASE("a well-formed interval is read into the values the gateway serves") {
    auto r = parse(k_good);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    CHECK(r->gateway_id == "site-0001");
    CHECK(r->record.meter_ean.str() == "871685900000000035");
    CHECK(format_utc(r->record.end) == "2026-11-23T11:55:00Z");
    CHECK(r->record.p_w == -1234000.0);
    CHECK(r->record.q_var == 12000.0);
    CHECK(r->record.u1_v == 231.4);
    CHECK_FALSE(r->record.u3_v.has_value());
    CHECK(r->record.samples == 298);
    CHECK(r->record.coverage == 0.99);
    CHECK(r->record.quality == Quality::gemeten);
}

TEST_CASE("malformed intervals are refused with a reason") {
    const std::pair<std::string, std::string> cases[] = {
        {"{not json", "not a JSON object"},
        {"[1,2]", "not a JSON object"},
        {with("\"dekking\": 0.99", "\"dekking\": 0.99, \"extra\": 1"), "unknown field \"extra\""},
        {with("\"meter_ean\": \"871685900000000035\"", "\"meter_ean\": \"871685900000000036\""),
         "meter_ean"},
        {with("\"gateway_id\": \"site-0001\"", "\"gateway_id\": \"site-0002\""), "topic's"},
        {with("\"tijd\": \"2026-11-23T11:55:00Z\"", "\"tijd\": \"2026-11-23T11:56:00Z\""), "grid"},
        {with("\"tijd\": \"2026-11-23T11:55:00Z\"", "\"tijd\": \"2026-11-23T12:55:00Z\""),
         "future"},
        {with("\"tijd\": \"2026-11-23T11:55:00Z\"", "\"tijd\": \"2024-01-01T00:00:00Z\""),
         "retention"},
        {with("\"tijd\": \"2026-11-23T11:55:00Z\"", "\"tijd\": \"2026-11-23T12:55:00+01:00\""),
         "with Z"},
        {with("\"actief_vermogen_kw\": -1234", "\"actief_vermogen_kw\": 99999999"), "10 GW"},
        {with("\"actief_vermogen_kw\": -1234", "\"actief_vermogen_kw\": -12.5"), "integer"},
        {with("\"spanning_l1_v\": 231.4", "\"spanning_l1_v\": -3"), "out of range"},
        {with("\"dekking\": 0.99", "\"dekking\": 1.5"), "dekking"},
        {with("\"kwaliteit\": \"gemeten\"", "\"kwaliteit\": \"goed\""), "kwaliteit"},
        {with("\"monsters\": 298", "\"monsters\": \"298\""), "monsters"},
        {with("\"interval_s\": 300", "\"interval_s\": 7"), "divide"},
        {with("\"id\": \"871685900000000035/2026-11-23T11:55:00Z\"", "\"id\": \"x\""), "id"},
        {with("\"meter_type\": \"overdrachtspunt\"", "\"meter_type\": \"x\""), "meter_type"},
        {std::string("{\"id\": \"\xff\"}"), "UTF-8"},
        {std::string(70 * 1024, ' '), "64 KiB"},
    };
    for (const auto& [payload, reason] : cases) {
        auto r = parse(payload);
        INFO(payload.substr(0, 200));
        REQUIRE_FALSE(r.ok());
        CHECK_MESSAGE(r.error().message.find(reason) != std::string::npos, r.error().message);
    }
    // The topic must name the payload's customer and meter.
    auto other = parse(k_good, "meters/site-0001/871685900000000011/871685900000000028/interval");
    REQUIRE_FALSE(other.ok());
    CHECK(other.error().message.find("topic's") != std::string::npos);
}

TEST_CASE("manifests are read strictly, and a backfill request is what the gateway parses") {
    const std::string good =
        R"({"gateway_id": "site-0001", "interval_s": 300, "version": "0.6.0", "meters": [)"
        R"({"meter_ean": "871685900000000028", "klant_ean": "871685900000000011", "meter_type": "bruto_productie"}]})";
    auto m = ingest::parse_manifest("meters/site-0001/manifest", good, "meters");
    REQUIRE_MESSAGE(m.ok(), m.error().message);
    CHECK(m->gateway_id == "site-0001");
    REQUIRE(m->meters.size() == 1);
    CHECK(m->meters[0].type == MeterType::bruto_productie);
    CHECK_FALSE(ingest::parse_manifest("meters/site-0002/manifest", good, "meters").ok());
    CHECK_FALSE(ingest::parse_manifest("meters/site-0001/manifest", "{}", "meters").ok());
    std::string bad_ean = good;
    bad_ean.replace(bad_ean.find("871685900000000028"), 18, "871685900000000029");
    CHECK_FALSE(ingest::parse_manifest("meters/site-0001/manifest", bad_ean, "meters").ok());

    BackfillOrder o{"site-0001", *Ean18::parse("871685900000000028"),
                    time_point_cast<seconds>(*parse_utc("2026-11-23T11:00:00Z")),
                    time_point_cast<seconds>(*parse_utc("2026-11-23T12:00:00Z"))};
    CHECK(ingest::backfill_topic("meters", "site-0001") == "meters/site-0001/cmd/backfill");
    CHECK(
        ingest::backfill_payload(o) ==
        R"({"meter_ean":"871685900000000028","from":"2026-11-23T11:00:00Z","to":"2026-11-23T12:00:00Z"})");
}
