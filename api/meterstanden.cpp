// Energy register readings at interval ends.
#include "params.hpp"

#include <cmath>

#include "gw/core/text.hpp"

namespace gw {

using namespace std::chrono;
using namespace api;

namespace {

/// kWh with three decimals from Wh, exactly as text.
std::string kwh(double wh) {
    const auto milli = static_cast<long long>(std::llround(wh));  // Wh = milli-kWh
    const long long mag = milli < 0 ? -milli : milli;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%lld.%03lld", milli < 0 ? "-" : "", mag / 1000, mag % 1000);
    return buf;
}

}  // namespace

const OperationDoc api::k_meterstanden_doc{
    "getMeterstanden",
    "Energy register readings at interval ends",
    "Per interval end one row per energy register the meter's profile has, with the same "
    "field names as call 2: meting_type is the register (actief_levering and "
    "actief_teruglevering in kWh, blind_levering and blind_teruglevering in kVArh) and "
    "waarde its reading with three decimals. The window and paging work as in call 2.",
    &window_params(),
    nullptr,
    "Meterstanden",
    true,
    {400, 401, 403, 404, 429, 500, 503},
    {{"Meterstanden",
      std::string(R"({"type":"object","required":["meterstanden","next"],)"
                  R"("additionalProperties":false,"properties":{"meterstanden":{"type":"array",)"
                  R"("items":{"type":"object","additionalProperties":false,"required":["datum",)"
                  R"("tijd","klant_ean","meter_ean","waarde","meting_type","waarde_type"],)"
                  R"("properties":{"datum":)") +
          schema::date + R"(,"tijd":)" + schema::time_of_day + R"(,"klant_ean":)" + schema::ean +
          R"(,"meter_ean":)" + schema::ean +
          R"(,"waarde":{"type":"number","description":"The register's reading, three )"
          R"(decimals."},"meting_type":{"type":"string","enum":["actief_levering",)"
          R"("actief_teruglevering","blind_levering","blind_teruglevering"]},)"
          R"("waarde_type":{"type":"string","enum":["kWh","kVArh"]}}}},"next":)" +
          schema::next_page + "}}"}}};

http::Response Api::meterstanden(Ctx& ctx) {
    if (auto bad = check_params(ctx.query, window_params()))
        return error(ctx, 400, "invalid_parameter", *bad);
    Window w;
    if (auto bad = parse_window(ctx.query, config_, clock_, w))
        return error(ctx, 400, "invalid_parameter", *bad);
    if (auto denied = check_access(ctx, w)) return *denied;
    const int len = config_.gateway.interval_s;
    const SysS from =
        time_point_cast<seconds>(w.start + seconds{len} + milliseconds{999}) - seconds{1};
    constexpr std::int64_t nregs = 4;
    const std::int64_t first = w.offset / nregs;
    const std::int64_t want = (w.offset % nregs + w.max_rows + nregs - 1) / nregs;
    auto rows =
        store_.energy_readings(w.meter, from, time_point_cast<seconds>(w.end), first, want + 1);
    if (!rows)
        return error(ctx, 503, "storage_unavailable",
                     "storage unavailable: " + rows.error().message);
    static const char* names[nregs] = {"actief_levering", "actief_teruglevering", "blind_levering",
                                       "blind_teruglevering"};
    static const char* units[nregs] = {"kWh", "kWh", "kVArh", "kVArh"};
    std::string body = w.csv ? "datum,tijd,klant_ean,meter_ean,waarde,meting_type,waarde_type\n"
                             : "{\"meterstanden\":[";
    std::int64_t pos = first * nregs, rows_out = 0;
    bool more = false, first_row = true;
    for (const auto& e : *rows) {
        const std::array<std::optional<double>, nregs> vals{e.e_import_wh, e.e_export_wh,
                                                            e.eq_import_varh, e.eq_export_varh};
        for (std::size_t i = 0; i < nregs; ++i) {
            if (pos >= w.offset + w.max_rows) {
                more = true;
                break;
            }
            if (pos++ < w.offset || !vals[i]) continue;
            const std::string d = format_date(e.at), t = format_time_of_day(e.at),
                              v = kwh(*vals[i]);
            if (w.csv) {
                body += d + ',' + t + ',' + std::string(w.klant.str()) + ',' +
                        std::string(w.meter.str()) + ',' + v + ',' + names[i] + ',' + units[i] +
                        '\n';
            } else {
                if (!first_row) body += ',';
                first_row = false;
                body += "{\"datum\":\"" + d + "\",\"tijd\":\"" + t + "\",\"klant_ean\":\"" +
                        std::string(w.klant.str()) + "\",\"meter_ean\":\"" +
                        std::string(w.meter.str()) + "\",\"waarde\":" + v + ",\"meting_type\":\"" +
                        names[i] + "\",\"waarde_type\":\"" + units[i] + "\"}";
            }
            ++rows_out;
        }
        if (more) break;
    }
    ctx.audit.rows = rows_out;
    std::string next;
    if (more)
        next = next_page_base("/api/v1/meterstanden", w, ctx.query) +
               (one(ctx.query, "max_rows") ? "&max_rows=" + std::to_string(w.max_rows) : "") +
               (w.csv ? "&formaat=csv" : "") + "&offset=" + std::to_string(w.offset + w.max_rows);
    return finish_page(w, std::move(body), more, next);
}

}  // namespace gw
