// Parameter tables and parsing, and page closing.
#include "params.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "gw/core/text.hpp"

namespace gw::api {

using namespace std::chrono;

const std::vector<Param>& window_params() {
    static const std::vector<Param> table{
        {"klant_ean",
         true,
         false,
         "ean",
         "Customer (connection) EAN, 18 digits with a valid GS1 check digit.",
         {}},
        {"meter_ean", true, false, "ean", "Meter EAN; must belong to klant_ean.", {}},
        {"start_tijd",
         true,
         false,
         "time",
         "Window start, ISO 8601 with Z or an offset (send + as %2B). An interval is returned when "
         "start_tijd <= tijd - interval; pass the previous datum_laatste_meting to get exactly "
         "what is new.",
         {}},
        {"eind_tijd",
         false,
         false,
         "time",
         "Window end (inclusive for tijd), ISO 8601 with Z or an offset (send + as %2B). Default: "
         "now.",
         {}},
        {"offset",
         false,
         false,
         "integer",
         "Rows to skip (paging). Default 0.",
         {},
         0,
         1'000'000'000},
        {"max_rows", false, false, "integer", "Page size. Default 10000.", {}, 1, Api::k_max_page},
        {"formaat",
         false,
         false,
         "enum",
         "json (default) or csv. CSV pages carry the next page in a Link header.",
         {"json", "csv"}},
    };
    return table;
}

std::optional<std::string> check_params(const http::Query& q, const std::vector<Param>& table) {
    std::set<std::string> seen;
    for (const auto& item : q.items) {
        const std::string& k = item.first;
        const std::string& v = item.second;
        auto it =
            std::find_if(table.begin(), table.end(), [&](const Param& p) { return k == p.name; });
        if (it == table.end()) {
            std::string names;
            for (const auto& p : table) names += (names.empty() ? "" : ", ") + std::string(p.name);
            return "unknown parameter \"" + k.substr(0, 64) + "\"" +
                   (names.empty() ? std::string("; this endpoint takes none")
                                  : "; expected " + names);
        }
        if (!it->repeatable && !seen.insert(k).second)
            return "parameter " + k + " given more than once";
        if (v.empty()) return "parameter " + k + " is empty";
        if (v.size() > 512) return "parameter " + k + " is too long";
    }
    for (const auto& p : table)
        if (p.required && q.count(p.name) == 0)
            return "missing required parameter " + std::string(p.name);
    return std::nullopt;
}

std::vector<std::string> list_values(const http::Query& q, const char* name) {
    std::vector<std::string> out;
    for (const auto& v : q.all(name)) {
        std::stringstream ss(v);
        for (std::string part; std::getline(ss, part, ',');)
            if (!part.empty()) out.push_back(part);
    }
    return out;
}

std::optional<std::string> one(const http::Query& q, const char* name) {
    auto all = q.all(name);
    if (all.empty()) return std::nullopt;
    return all.front();
}

std::optional<std::string> parse_window(const http::Query& q, const Config& cfg, const Clock& clock,
                                        Api::Window& w) {
    auto ean = [&](const char* name, Ean18& out) -> std::optional<std::string> {
        const auto v = *one(q, name);
        auto e = Ean18::parse(v);
        if (!e) return std::string(name) + " \"" + v.substr(0, 32) + "\": " + e.error().message;
        out = *e;
        return std::nullopt;
    };
    if (auto bad = ean("klant_ean", w.klant)) return bad;
    if (auto bad = ean("meter_ean", w.meter)) return bad;
    auto time = [&](const char* name, SysMs& out) -> std::optional<std::string> {
        const auto v = *one(q, name);
        auto t = parse_utc(v);
        // A '+' in a query string is a space: "12:00:00+01:00" sent as is arrives as
        // "12:00:00 01:00".
        const bool plus_lost = v.size() > 16 && v.find(' ', 16) != std::string::npos;
        if (!t)
            return std::string(name) + " \"" + v.substr(0, 40) + "\": " + t.error().message +
                   (plus_lost ? "; a '+' in a URL means a space: send the offset's + as %2B" : "");
        out = *t;
        return std::nullopt;
    };
    if (auto bad = time("start_tijd", w.start)) return bad;
    // Now, to the second: the next-page links carry it, and times are written to the second.
    w.end = time_point_cast<seconds>(clock.utc_now());
    if (one(q, "eind_tijd"))
        if (auto bad = time("eind_tijd", w.end)) return bad;
    if (w.start >= w.end) return "start_tijd must be before eind_tijd";
    if (w.end - w.start > days{Api::k_max_window_days})
        return "the window may span at most " + std::to_string(Api::k_max_window_days) +
               " days; page through longer periods";
    auto integer = [&](const char* name, std::int64_t& out, std::int64_t lo,
                       std::int64_t hi) -> std::optional<std::string> {
        const auto v = one(q, name);
        if (!v) return std::nullopt;
        const bool digits =
            !v->empty() && v->size() <= 10 && std::all_of(v->begin(), v->end(), ::isdigit);
        const long long n = digits ? std::stoll(*v) : -1;
        if (!digits || n < lo || n > hi)
            return std::string(name) + " must be a whole number from " + std::to_string(lo) +
                   " to " + std::to_string(hi) + ", got \"" + v->substr(0, 20) + "\"";
        out = n;
        return std::nullopt;
    };
    for (const char* name : {"offset", "max_rows"}) {
        const Param& p = param(window_params(), name);
        if (auto bad = integer(name, name == std::string_view("offset") ? w.offset : w.max_rows,
                               p.minimum, p.maximum))
            return bad;
    }
    if (auto f = one(q, "formaat")) {
        if (*f != "json" && *f != "csv")
            return "formaat must be json or csv, got \"" + f->substr(0, 20) + "\"";
        w.csv = *f == "csv";
    }
    w.meter_cfg = cfg.find_meter(w.meter);
    return std::nullopt;
}

std::string next_page_base(const char* endpoint, const Api::Window& w, const http::Query& q) {
    return std::string(endpoint) + "?klant_ean=" + w.klant.to_string() +
           "&meter_ean=" + w.meter.to_string() +
           "&start_tijd=" + http::url_encode(*one(q, "start_tijd")) + "&eind_tijd=" +
           http::url_encode(one(q, "eind_tijd") ? *one(q, "eind_tijd")
                                                : format_utc(time_point_cast<seconds>(w.end)));
}

http::Response finish_page(const Api::Window& w, std::string body, bool more,
                           const std::string& next) {
    http::Response r;
    r.no_store = true;
    if (w.csv) {
        r.content_type = "text/csv; charset=utf-8";
        if (more) r.set("Link", "<" + next + ">; rel=\"next\"");
    } else {
        body += "],\"next\":" + (more ? json_quote(next) : std::string("null")) + "}";
    }
    r.body = std::move(body);
    return r;
}

std::string opt_time_json(const std::optional<SysS>& t) {
    return t ? json_quote(format_utc(*t)) : "null";
}

}  // namespace gw::api
