// Parsing of the gateways' MQTT messages, and the backfill requests the head-end sends.
#include "gw/ingest/messages.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <vector>

#include "gw/core/json.hpp"
#include "gw/core/text.hpp"

namespace gw::ingest {

using namespace std::chrono;
namespace json = boost::json;

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const auto pos = s.find(sep, start);
        out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
        if (pos == std::string_view::npos) return out;
        start = pos + 1;
    }
}

Error bad(std::string message) {
    return make_error(Errc::invalid_argument, std::move(message));
}

/// Field access with the reason when a field is missing or of another type.
class Fields {
  public:
    explicit Fields(const json::object& o) : o_(o) {}
    const json::value* get(const char* k) const { return o_.if_contains(k); }
    Result<std::string> text(const char* k) const {
        const auto* v = get(k);
        if (v == nullptr || !v->is_string())
            return bad(std::string("\"") + k + "\" must be a string");
        return std::string(v->as_string());
    }
    Result<Ean18> ean(const char* k) const {
        auto t = text(k);
        if (!t) return t.error();
        auto e = Ean18::parse(*t);
        if (!e) return bad(std::string(k) + " \"" + t->substr(0, 32) + "\": " + e.error().message);
        return *e;
    }
    Result<long long> integer(const char* k) const {
        const auto* v = get(k);
        if (v == nullptr) return bad(std::string("\"") + k + "\" is missing");
        if (v->is_int64()) return static_cast<long long>(v->as_int64());
        if (v->is_uint64() && v->as_uint64() <= 9'000'000'000'000'000'000ULL)
            return static_cast<long long>(v->as_uint64());
        return bad(std::string("\"") + k + "\" must be an integer");
    }
    /// A number or null; integers are numbers too.
    Result<std::optional<double>> number_or_null(const char* k) const {
        const auto* v = get(k);
        if (v == nullptr) return bad(std::string("\"") + k + "\" is missing");
        if (v->is_null()) return std::optional<double>{};
        if (v->is_double()) return std::optional<double>{v->as_double()};
        if (v->is_int64()) return std::optional<double>{static_cast<double>(v->as_int64())};
        if (v->is_uint64()) return std::optional<double>{static_cast<double>(v->as_uint64())};
        return bad(std::string("\"") + k + "\" must be a number or null");
    }
    Result<std::optional<long long>> integer_or_null(const char* k) const {
        const auto* v = get(k);
        if (v == nullptr) return bad(std::string("\"") + k + "\" is missing");
        if (v->is_null()) return std::optional<long long>{};
        auto i = integer(k);
        if (!i) return i.error();
        return std::optional<long long>{*i};
    }

  private:
    const json::object& o_;
};

Result<json::object> parse_object(std::string_view payload) {
    if (payload.size() > std::size_t{64} * 1024) return bad("larger than 64 KiB");
    if (!valid_utf8(payload)) return bad("not UTF-8");
    boost::system::error_code ec;
    json::value v = json::parse(payload, ec);
    if (ec || !v.is_object()) return bad("not a JSON object");
    return std::move(v.as_object());
}

Result<MeterType> meter_type(const std::string& s) {
    if (s == "bruto_productie") return MeterType::bruto_productie;
    if (s == "overdrachtspunt") return MeterType::overdrachtspunt;
    return bad("meter_type \"" + s.substr(0, 32) +
               "\" is neither bruto_productie nor overdrachtspunt");
}

}  // namespace

TopicInfo classify(std::string_view topic, std::string_view prefix) {
    TopicInfo info;
    if (topic.size() <= prefix.size() + 1 || topic.substr(0, prefix.size()) != prefix ||
        topic[prefix.size()] != '/')
        return info;
    const auto parts = split(topic.substr(prefix.size() + 1), '/');
    info.gateway_id = std::string(parts[0]);
    if (parts.size() == 4 && parts[3] == "interval")
        info.kind = TopicKind::interval;
    else if (parts.size() == 2 && parts[1] == "manifest")
        info.kind = TopicKind::manifest;
    else if (parts.size() == 2 && parts[1] == "status")
        info.kind = TopicKind::status;
    return info;
}

Result<IncomingInterval> parse_interval(std::string_view topic, std::string_view payload,
                                        std::string_view prefix, SysS now, SysS oldest) {
    const TopicInfo where = classify(topic, prefix);
    if (where.kind != TopicKind::interval) return bad("not an interval topic");
    const auto parts = split(topic.substr(prefix.size() + 1), '/');
    auto obj = parse_object(payload);
    if (!obj) return obj.error();
    static const char* const known[] = {"id",
                                        "gateway_id",
                                        "klant_ean",
                                        "meter_ean",
                                        "meter_type",
                                        "tijd",
                                        "interval_s",
                                        "actief_vermogen_kw",
                                        "blind_vermogen_kvar",
                                        "spanning_l1_v",
                                        "spanning_l2_v",
                                        "spanning_l3_v",
                                        "kwaliteit",
                                        "monsters",
                                        "dekking"};
    for (const auto& kv : *obj) {
        bool ok = false;
        for (const char* k : known) ok = ok || kv.key() == k;
        if (!ok) return bad("unknown field \"" + std::string(kv.key()).substr(0, 40) + "\"");
    }
    const Fields f(*obj);
    IncomingInterval in;
    in.topic = std::string(topic);
    auto gw_id = f.text("gateway_id");
    if (!gw_id) return gw_id.error();
    if (*gw_id != where.gateway_id || !is_identifier(*gw_id, 128))
        return bad("gateway_id \"" + gw_id->substr(0, 40) + "\" is not the topic's");
    in.gateway_id = *gw_id;
    auto klant = f.ean("klant_ean");
    if (!klant) return klant.error();
    auto meter = f.ean("meter_ean");
    if (!meter) return meter.error();
    if (parts[1] != klant->to_string() || parts[2] != meter->to_string())
        return bad("klant_ean and meter_ean must be the topic's");
    auto type = f.text("meter_type");
    if (!type) return type.error();
    if (auto t = meter_type(*type); !t) return t.error();
    auto iv = f.integer("interval_s");
    if (!iv) return iv.error();
    if (!valid_interval_s(*iv))
        return bad("interval_s " + std::to_string(*iv) + " does not divide an hour");
    auto tijd = f.text("tijd");
    if (!tijd) return tijd.error();
    if (tijd->empty() || tijd->back() != 'Z') return bad("tijd must be UTC with Z");
    auto at = parse_utc(*tijd);
    if (!at) return bad("tijd: " + at.error().message);
    const SysS end = time_point_cast<seconds>(*at);
    if (SysMs{end} != *at || end.time_since_epoch().count() % *iv != 0)
        return bad("tijd " + *tijd + " is not on the " + std::to_string(*iv) + " s grid");
    if (end > now + seconds{*iv}) return bad("tijd " + *tijd + " is in the future");
    if (end <= oldest) return bad("tijd " + *tijd + " is older than the retention");
    auto id = f.text("id");
    if (!id) return id.error();
    if (*id != meter->to_string() + "/" + format_utc(end))
        return bad("id \"" + id->substr(0, 60) + "\" is not {meter_ean}/{tijd}");
    IntervalRecord& r = in.record;
    r.meter_ean = *meter;
    r.end = end;
    r.interval_s = static_cast<int>(*iv);
    auto p = f.integer_or_null("actief_vermogen_kw");
    if (!p) return p.error();
    auto q = f.integer_or_null("blind_vermogen_kvar");
    if (!q) return q.error();
    for (const auto* v : {&*p, &*q})
        if (*v && std::llabs(**v) > k_max_abs_kw) return bad("a power beyond 10 GW");
    if (*p) r.p_w = static_cast<double>(**p) * 1000.0;
    if (*q) r.q_var = static_cast<double>(**q) * 1000.0;
    std::optional<double>* volts[] = {&r.u1_v, &r.u2_v, &r.u3_v};
    const char* volt_keys[] = {"spanning_l1_v", "spanning_l2_v", "spanning_l3_v"};
    for (int i = 0; i < 3; ++i) {
        auto u = f.number_or_null(volt_keys[i]);
        if (!u) return u.error();
        if (*u && (!std::isfinite(**u) || **u < 0 || **u > k_max_voltage_v))
            return bad(std::string(volt_keys[i]) + " out of range");
        *volts[i] = *u;
    }
    auto kw = f.text("kwaliteit");
    if (!kw) return kw.error();
    if (*kw == "gemeten")
        r.quality = Quality::gemeten;
    else if (*kw == "onvolledig")
        r.quality = Quality::onvolledig;
    else
        return bad("kwaliteit \"" + kw->substr(0, 20) + "\" is neither gemeten nor onvolledig");
    auto n = f.integer("monsters");
    if (!n) return n.error();
    if (*n < 0 || *n > k_max_samples) return bad("monsters out of range");
    r.samples = static_cast<int>(*n);
    auto d = f.number_or_null("dekking");
    if (!d) return d.error();
    if (!*d || !std::isfinite(**d) || **d < 0 || **d > 1) return bad("dekking must be 0..1");
    r.coverage = **d;
    return in;
}

Result<Manifest> parse_manifest(std::string_view topic, std::string_view payload,
                                std::string_view prefix) {
    const TopicInfo where = classify(topic, prefix);
    if (where.kind != TopicKind::manifest) return bad("not a manifest topic");
    auto obj = parse_object(payload);
    if (!obj) return obj.error();
    for (const auto& kv : *obj)
        if (kv.key() != "gateway_id" && kv.key() != "interval_s" && kv.key() != "version" &&
            kv.key() != "meters")
            return bad("unknown field \"" + std::string(kv.key()).substr(0, 40) + "\"");
    const Fields f(*obj);
    Manifest m;
    auto id = f.text("gateway_id");
    if (!id) return id.error();
    if (*id != where.gateway_id || !is_identifier(*id, 128))
        return bad("gateway_id \"" + id->substr(0, 40) + "\" is not the topic's");
    m.gateway_id = *id;
    auto iv = f.integer("interval_s");
    if (!iv) return iv.error();
    if (!valid_interval_s(*iv)) return bad("interval_s does not divide an hour");
    m.interval_s = static_cast<int>(*iv);
    auto v = f.text("version");
    if (!v) return v.error();
    m.version = v->substr(0, 64);
    const auto* meters = f.get("meters");
    if (meters == nullptr || !meters->is_array()) return bad("\"meters\" must be a list");
    if (meters->as_array().size() > 1000) return bad("more than 1000 meters");
    for (const auto& item : meters->as_array()) {
        if (!item.is_object()) return bad("each of \"meters\" must be an object");
        for (const auto& kv : item.as_object())
            if (kv.key() != "meter_ean" && kv.key() != "klant_ean" && kv.key() != "meter_type")
                return bad("unknown meter field \"" + std::string(kv.key()).substr(0, 40) + "\"");
        const Fields mf(item.as_object());
        auto me = mf.ean("meter_ean");
        if (!me) return me.error();
        auto ke = mf.ean("klant_ean");
        if (!ke) return ke.error();
        auto t = mf.text("meter_type");
        if (!t) return t.error();
        auto type = meter_type(*t);
        if (!type) return type.error();
        m.meters.push_back({*me, *ke, *type});
    }
    return m;
}

std::string backfill_topic(std::string_view prefix, const std::string& gateway_id) {
    return std::string(prefix) + "/" + gateway_id + "/cmd/backfill";
}

std::string backfill_payload(const BackfillOrder& order) {
    JsonWriter w;
    w.object().field("meter_ean", order.meter_ean.to_string());
    w.field("from", format_utc(order.from)).field("to", format_utc(order.to));
    return std::move(w.end()).take();
}

}  // namespace gw::ingest
