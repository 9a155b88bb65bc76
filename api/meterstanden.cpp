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
    &window_params(),
    nullptr,
    "Meterstanden",
    true,
    {{"Meterstanden",
      R"({"type":"object","properties":{"meterstanden":{"type":"array","items":{"type":"object",)"
      R"("properties":{"datum":{"type":"string"},"tijd":{"type":"string"},)"
      R"("klant_ean":{"type":"string"},"meter_ean":{"type":"string"},)"
      R"("register":{"type":"string","enum":["actief_levering","actief_teruglevering",)"
      R"("blind_levering","blind_teruglevering"]},"waarde":{"type":"number"},)"
      R"("eenheid":{"type":"string","enum":["kWh","kVArh"]}}}},)"
      R"("next":{"type":"string","nullable":true}}})"}}};

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
    std::string body =
        w.csv ? "datum,tijd,klant_ean,meter_ean,register,waarde,eenheid\n" : "{\"meterstanden\":[";
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
                        std::string(w.meter.str()) + ',' + names[i] + ',' + v + ',' + units[i] +
                        '\n';
            } else {
                if (!first_row) body += ',';
                first_row = false;
                body += "{\"datum\":\"" + d + "\",\"tijd\":\"" + t + "\",\"klant_ean\":\"" +
                        std::string(w.klant.str()) + "\",\"meter_ean\":\"" +
                        std::string(w.meter.str()) + "\",\"register\":\"" + names[i] +
                        "\",\"waarde\":" + v + ",\"eenheid\":\"" + units[i] + "\"}";
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
