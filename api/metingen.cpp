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
         "Only these quantities (repeatable or comma-separated).",
         {"actief_vermogen", "blind_vermogen", "spanning_L1", "spanning_L2", "spanning_L3"}});
    p.push_back({"resolutie",
                 false,
                 false,
                 "enum",
                 "5min, 15min or 60min: means of the stored interval values, quality the worst of "
                 "its parts (a missing part makes it onvolledig). Default: the gateway's interval "
                 "(5 minutes in production).",
                 {"5min", "15min", "60min"}});
    return p;
}

const std::vector<Param> k_metingen_params = metingen_params();

}  // namespace

const OperationDoc api::k_metingen_doc{
    "getMetingen",
    "Call 2: 5-minute measurements of one meter in a window",
    &k_metingen_params,
    nullptr,
    "Metingen",
    true,
    {{"Metingen",
      R"({"type":"object","properties":{"metingen":{"type":"array","items":{"type":"object",)"
      R"("properties":{"datum":{"type":"string","format":"date"},"tijd":{"type":"string"},)"
      R"("klant_ean":{"type":"string"},"meter_ean":{"type":"string"},"waarde":{"type":"number"},)"
      R"("meting_type":{"type":"string"},"waarde_type":{"type":"string","enum":["kW","kVAr","V"]},)"
      R"("kwaliteit":{"type":"string","enum":["gemeten","onvolledig"]}}}},)"
      R"("next":{"type":"string","nullable":true}}})"}}};

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
    bool more = false;
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
        const auto all = resample(*rows, interval_s, bucket_s, w.start, to);
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
    return remember(ctx, finish_page(w, std::move(body), more, next));
}

}  // namespace gw
