// Call 2: the measurements of one meter in a window, as stored or as 15/60-minute means.
#include "params.hpp"

#include <algorithm>

#include "gw/core/quantity.hpp"
#include "gw/core/resample.hpp"
#include "gw/core/text.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

namespace {

std::vector<Param> metingen_params() {
    auto p = window_params();
    p.push_back(
        {"meting_type",
         false,
         true,
         "enum",
         "Only these quantities: repeat the parameter or separate them with commas. Default: all.",
         {"actief_vermogen", "blind_vermogen", "spanning_L1", "spanning_L2", "spanning_L3"}});
    p.push_back({"resolutie",
                 false,
                 false,
                 "enum",
                 "5min, 15min or 60min: the mean of the stored intervals in each bucket, its "
                 "quality the worst of its parts (a missing part makes it onvolledig). A bucket "
                 "is served once it is final. Default: the gateway's interval (5 minutes in "
                 "production).",
                 {"5min", "15min", "60min"}});
    return p;
}

const std::vector<Param> k_metingen_params = metingen_params();

/// After its end, how long until every part of a bucket that will ever be stored is stored:
/// the interval is closed a grace after its end and committed at once.
constexpr seconds k_commit_margin{10};

}  // namespace

const OperationDoc api::k_metingen_doc{
    "getMetingen",
    "Call 2: the measurements of one meter in a window",
    "Per interval end (datum, tijd in UTC) one row per quantity: net active and reactive power "
    "in whole kW and kVAr (+ import, - export) and the voltage per phase in V with one decimal. "
    "An interval is in the window when start_tijd <= tijd - interval and tijd <= eind_tijd. A "
    "row, once served, never changes: intervals are served once committed, and buckets of "
    "resolutie 15min or 60min once final (their end has passed and every part that will be "
    "stored is stored). Pages: offset and max_rows count rows; next is the following page's "
    "URL (a Link header with formaat=csv).",
    &k_metingen_params,
    nullptr,
    "Metingen",
    true,
    {400, 401, 403, 404, 429, 500, 503},
    {{"Metingen",
      std::string(R"({"type":"object","required":["metingen","next"],)"
                  R"("additionalProperties":false,"properties":{"metingen":{"type":"array",)"
                  R"("items":{"oneOf":[{"$ref":"#/components/schemas/MetingVermogen"},)"
                  R"({"$ref":"#/components/schemas/MetingSpanning"}]}},"next":)") +
          schema::next_page + "}}"},
     {"MetingVermogen",
      std::string(R"({"type":"object","description":"Active or reactive power: a whole )"
                  R"(number, + import, - export.","additionalProperties":false,"required":)"
                  R"(["datum","tijd","klant_ean","meter_ean","waarde","meting_type",)"
                  R"("waarde_type","kwaliteit"],"properties":{"datum":)") +
          schema::date + R"(,"tijd":)" + schema::time_of_day + R"(,"klant_ean":)" + schema::ean +
          R"(,"meter_ean":)" + schema::ean +
          R"(,"waarde":{"type":"integer"},"meting_type":{"type":"string","enum":[)"
          R"("actief_vermogen","blind_vermogen"]},"waarde_type":{"type":"string","enum":)"
          R"(["kW","kVAr"]},"kwaliteit":{"$ref":"#/components/schemas/Kwaliteit"}}})"},
     {"MetingSpanning",
      std::string(R"({"type":"object","description":"Voltage of one phase, one decimal.",)"
                  R"("additionalProperties":false,"required":["datum","tijd","klant_ean",)"
                  R"("meter_ean","waarde","meting_type","waarde_type","kwaliteit"],)"
                  R"("properties":{"datum":)") +
          schema::date + R"(,"tijd":)" + schema::time_of_day + R"(,"klant_ean":)" + schema::ean +
          R"(,"meter_ean":)" + schema::ean +
          R"(,"waarde":{"type":"number","minimum":0},"meting_type":{"type":"string","enum":[)"
          R"("spanning_L1","spanning_L2","spanning_L3"]},"waarde_type":{"type":"string",)"
          R"("enum":["V"]},"kwaliteit":{"$ref":"#/components/schemas/Kwaliteit"}}})"},
     {"Kwaliteit",
      R"({"type":"string","enum":["gemeten","onvolledig"],"description":"gemeten: samples )"
      R"(cover at least 90 % of the interval (of every part of a bucket); onvolledig otherwise."})"}}};

http::Response Api::metingen(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, k_metingen_params))
        return error(ctx, 400, "invalid_parameter", *bad);
    Window w;
    if (auto bad = parse_window(ctx.query, config_, clock_, w))
        return error(ctx, 400, "invalid_parameter", *bad);
    std::vector<Quantity> types;
    for (const auto& v : list_values(ctx.query, "meting_type")) {
        auto qt = quantity_from_api_name(v);
        if (!qt)
            return error(ctx, 400, "invalid_parameter",
                         "meting_type \"" + v.substr(0, 32) +
                             "\" is unknown; expected actief_vermogen, blind_vermogen, "
                             "spanning_L1, spanning_L2 or spanning_L3");
        if (std::find(types.begin(), types.end(), *qt) == types.end()) types.push_back(*qt);
    }
    if (types.empty()) types.assign(k_all_quantities.begin(), k_all_quantities.end());
    std::sort(types.begin(), types.end());
    // Without resolutie: the stored intervals themselves (5 minutes in production; shorter in demos
    // and tests).
    int bucket_s = config_.gateway.interval_s;
    if (auto res = one(ctx.query, "resolutie")) {
        if (*res == "5min")
            bucket_s = 300;
        else if (*res == "15min")
            bucket_s = 900;
        else if (*res == "60min")
            bucket_s = 3600;
        else
            return error(
                ctx, 400, "invalid_parameter",
                "resolutie must be 5min, 15min or 60min, got \"" + res->substr(0, 20) + "\"");
    }
    const int interval_s = config_.gateway.interval_s;
    if (bucket_s < interval_s)
        return error(ctx, 400, "invalid_parameter",
                     "resolutie is finer than this gateway's interval of " +
                         std::to_string(interval_s) + " s");
    if (auto denied = check_access(ctx, w)) return *denied;
    if (auto hit = cached(ctx)) return *hit;

    // Rows are (bucket, type) positions: offset and max_rows count positions, so pages are
    // stable and their union is the whole result.
    const auto ntypes = static_cast<std::int64_t>(types.size());
    std::vector<Bucket> buckets;
    bool more = false, cacheable = true;
    // The store's "end > from": an interval (end - len >= start) <=> end >= start + len.
    const SysMs first_end = w.start + seconds{interval_s};
    const SysS from = time_point_cast<seconds>(first_end + milliseconds{999}) - seconds{1};
    const SysS to = time_point_cast<seconds>(w.end);
    const std::int64_t first_bucket = w.offset / ntypes;
    const std::int64_t want_buckets = (w.offset % ntypes + w.max_rows + ntypes - 1) / ntypes;
    if (bucket_s == interval_s) {
        auto rows = store_.intervals(w.meter, from, to, first_bucket, want_buckets + 1);
        if (!rows)
            return error(ctx, 503, "storage_unavailable",
                         "storage unavailable: " + rows.error().message);
        for (const auto& r : *rows) buckets.push_back({r.end, values_of(r), r.quality, 1});
    } else {
        // Means of the parts; the window must hold the whole bucket.
        auto rows = store_.intervals(w.meter, time_point_cast<seconds>(w.start) - seconds{1}, to, 0,
                                     1'000'000);
        if (!rows)
            return error(ctx, 503, "storage_unavailable",
                         "storage unavailable: " + rows.error().message);
        // A bucket is served once final: its end has passed and every part that will ever be
        // stored is stored (the newest committed interval is at or past it, or the commit
        // delay of its last part has passed), and no part of it is held in memory unstored.
        auto newest = store_.latest_end(w.meter);
        if (!newest)
            return error(ctx, 503, "storage_unavailable",
                         "storage unavailable: " + newest.error().message);
        SysS final_until = time_point_cast<seconds>(clock_.utc_now() - w.meter_cfg->close_grace() -
                                                    k_commit_margin);
        if (*newest) final_until = std::max(final_until, **newest);
        if (live_)
            for (const auto& ml : live_().meters)
                if (ml.meter_ean == w.meter.str() && ml.oldest_uncommitted)
                    final_until = std::min(final_until, *ml.oldest_uncommitted - seconds{1});
        // Time alone can make a bucket final: an answer that left one out is not cached.
        cacheable = final_until >= to;
        const auto all = resample(*rows, interval_s, bucket_s, w.start, std::min(to, final_until));
        for (auto b = first_bucket;
             b < static_cast<std::int64_t>(all.size()) && b < first_bucket + want_buckets + 1; ++b)
            buckets.push_back(all[static_cast<std::size_t>(b)]);
    }
    std::int64_t pos = first_bucket * ntypes;
    const std::int64_t end_pos = w.offset + w.max_rows;
    std::string body;
    body.reserve(static_cast<std::size_t>(std::min<std::int64_t>(w.max_rows, 1500)) * 200);
    if (w.csv)
        body = "datum,tijd,klant_ean,meter_ean,waarde,meting_type,waarde_type,kwaliteit\n";
    else
        body = "{\"metingen\":[";
    bool first = true;
    std::int64_t rows_out = 0;
    const std::string klant(w.klant.str()), meter(w.meter.str());
    // Appended piece by piece: this loop builds a day's 300 KB without temporaries.
    std::array<std::string, 5> type_tail;  // ",\"meting_type\":...,\"kwaliteit\":\"" per type
    for (Quantity qt : types)
        type_tail[static_cast<std::size_t>(qt)] =
            w.csv ? "," + std::string(api_name(qt)) + "," + std::string(unit(qt)) + ","
                  : ",\"meting_type\":\"" + std::string(api_name(qt)) + "\",\"waarde_type\":\"" +
                        std::string(unit(qt)) + "\",\"kwaliteit\":\"";
    const std::string ids =
        w.csv ? "," + klant + "," + meter + ","
              : "\",\"klant_ean\":\"" + klant + "\",\"meter_ean\":\"" + meter + "\",\"waarde\":";
    for (const auto& b : buckets) {
        const std::string when = w.csv ? format_date(b.end) + "," + format_time_of_day(b.end)
                                       : "{\"datum\":\"" + format_date(b.end) + "\",\"tijd\":\"" +
                                             format_time_of_day(b.end);
        const std::string_view quality = quality_name(b.quality);
        for (Quantity qt : types) {
            if (pos >= end_pos) {
                more = true;
                break;
            }
            if (pos++ < w.offset) continue;
            const auto& v = b.values[static_cast<std::size_t>(qt)];
            if (!v) continue;
            if (!w.csv && !first) body += ',';
            first = false;
            body += when;
            body += ids;
            body += format_served(qt, *v);
            body += type_tail[static_cast<std::size_t>(qt)];
            body += quality;
            body += w.csv ? "\n" : "\"}";
            ++rows_out;
        }
        if (more) break;
    }
    ctx.audit.rows = rows_out;
    std::string next;
    if (more) {
        next = next_page_base("/api/v1/metingen", w, ctx.query);
        for (Quantity qt : types)
            if (types.size() < 5) next += "&meting_type=" + std::string(api_name(qt));
        if (auto res = one(ctx.query, "resolutie")) next += "&resolutie=" + *res;
        if (one(ctx.query, "max_rows")) next += "&max_rows=" + std::to_string(w.max_rows);
        if (w.csv) next += "&formaat=csv";
        next += "&offset=" + std::to_string(w.offset + w.max_rows);
    }
    auto page = finish_page(w, std::move(body), more, next);
    return cacheable ? remember(ctx, std::move(page)) : page;
}

}  // namespace gw
