#include "openapi_check.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <regex>
#include <set>

namespace gw::test {

namespace json = boost::json;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

const std::string* find_header(const std::map<std::string, std::string>& headers,
                               std::string_view name) {
    for (const auto& [k, v] : headers)
        if (lower(k) == lower(name)) return &v;
    return nullptr;
}

/// Whether a concrete path fits a template such as /api/v1/meters/{meter_ean}.
bool path_matches(std::string_view tmpl, std::string_view path) {
    while (!tmpl.empty() && !path.empty()) {
        const auto t_end = tmpl.find('/', 1), p_end = path.find('/', 1);
        const auto t = tmpl.substr(0, t_end), p = path.substr(0, p_end);
        if (t.size() > 2 && t[1] == '{') {
            if (p.size() < 2) return false;
        } else if (t != p) {
            return false;
        }
        tmpl.remove_prefix(t.size());
        path.remove_prefix(p.size());
    }
    return tmpl.empty() && path.empty();
}

bool valid_date(const std::string& s) {
    static const std::regex re(R"(^(\d{4})-(\d{2})-(\d{2})$)");
    std::smatch m;
    if (!std::regex_match(s, m, re)) return false;
    const int mo = std::stoi(m[2]), d = std::stoi(m[3]);
    return mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

bool valid_date_time(const std::string& s) {
    static const std::regex re(
        R"(^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$)");
    std::smatch m;
    if (!std::regex_match(s, m, re)) return false;
    return valid_date(m[1]) && std::stoi(m[2]) < 24 && std::stoi(m[3]) < 60 && std::stoi(m[4]) < 61;
}

/// The first number of a JSON text written with an exponent (1E0), if any: the API writes
/// every number plainly, as clients that parse decimals expect.
std::optional<std::string> exponent_number(const std::string& text) {
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) continue;
        std::size_t j = i;
        while (j < text.size() && std::strchr("0123456789+-.eE", text[j]) != nullptr) ++j;
        const std::string token = text.substr(i, j - i);
        if (token.find_first_of("eE") != std::string::npos) return token;
        i = j - 1;
    }
    return std::nullopt;
}

double number_of(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.as_int64());
    if (v.is_uint64()) return static_cast<double>(v.as_uint64());
    return v.as_double();
}

std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() + 0 && std::isxdigit(s[i + 1]) &&
                   std::isxdigit(s[i + 2])) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

OpenApiCheck::OpenApiCheck(const std::string& document) : doc_(json::parse(document)) {}

const json::value& OpenApiCheck::resolve(const json::value& v) const {
    const json::value* cur = &v;
    for (int depth = 0; depth < 16 && cur->is_object() && cur->as_object().contains("$ref");
         ++depth) {
        const std::string ref(cur->as_object().at("$ref").as_string());
        if (ref.rfind("#/", 0) != 0) throw std::runtime_error("not a local $ref: " + ref);
        const json::value* node = &doc_;
        std::string rest = ref.substr(2);
        while (!rest.empty()) {
            const auto slash = rest.find('/');
            node = &node->as_object().at(rest.substr(0, slash));
            rest = slash == std::string::npos ? "" : rest.substr(slash + 1);
        }
        cur = node;
    }
    return *cur;
}

void OpenApiCheck::check_schema(const json::value& schema_in, const json::value& v,
                                const std::string& where, std::vector<std::string>& out) const {
    static const std::set<std::string> known{
        "type",      "nullable", "enum",        "pattern",
        "format",    "required", "properties",  "additionalProperties",
        "items",     "minimum",  "maximum",     "exclusiveMinimum",
        "minLength", "oneOf",    "description", "example",
        "$ref"};
    const json::object& s = resolve(schema_in).as_object();
    for (const auto& kv : s)
        if (!known.count(std::string(kv.key())))
            out.push_back(where + ": the checker does not know the keyword " +
                          std::string(kv.key()));
    auto fail = [&](const std::string& what) { out.push_back(where + ": " + what); };

    if (v.is_null()) {
        if (!(s.contains("nullable") && s.at("nullable").as_bool()) && s.contains("type"))
            fail("null, but the schema is not nullable");
        return;
    }
    if (s.contains("oneOf")) {
        int matching = 0;
        std::string why;
        for (const auto& alt : s.at("oneOf").as_array()) {
            std::vector<std::string> sub;
            check_schema(alt, v, where, sub);
            if (sub.empty())
                ++matching;
            else if (why.empty())
                why = sub.front();
        }
        if (matching != 1) fail("matches " + std::to_string(matching) + " of oneOf (" + why + ")");
    }
    if (s.contains("type")) {
        const std::string type(s.at("type").as_string());
        const bool ok = type == "object"    ? v.is_object()
                        : type == "array"   ? v.is_array()
                        : type == "string"  ? v.is_string()
                        : type == "boolean" ? v.is_bool()
                        : type == "integer" ? (v.is_int64() || v.is_uint64())
                        : type == "number"  ? v.is_number()
                                            : false;
        if (!ok) return fail("not of type " + type + ": " + json::serialize(v).substr(0, 80));
    }
    if (s.contains("enum")) {
        const auto& e = s.at("enum").as_array();
        if (std::find(e.begin(), e.end(), v) == e.end())
            fail(json::serialize(v).substr(0, 80) + " is not in the enum");
    }
    if (v.is_string()) {
        const std::string str(v.as_string());
        if (s.contains("pattern") &&
            !std::regex_search(str, std::regex(std::string(s.at("pattern").as_string()))))
            fail("\"" + str.substr(0, 80) + "\" does not match " +
                 std::string(s.at("pattern").as_string()));
        if (s.contains("minLength") &&
            static_cast<std::int64_t>(str.size()) < s.at("minLength").as_int64())
            fail("shorter than minLength");
        if (s.contains("format")) {
            const std::string f(s.at("format").as_string());
            if (f == "date" && !valid_date(str)) fail("\"" + str + "\" is not a date");
            if (f == "date-time" && !valid_date_time(str))
                fail("\"" + str + "\" is not a date-time");
        }
    }
    if (v.is_number()) {
        const double x = number_of(v);
        const bool exclusive = s.contains("exclusiveMinimum") && s.at("exclusiveMinimum").as_bool();
        if (s.contains("minimum")) {
            const double lo = number_of(s.at("minimum"));
            if (exclusive ? x <= lo : x < lo) fail(json::serialize(v) + " is below the minimum");
        }
        if (s.contains("maximum") && x > number_of(s.at("maximum")))
            fail(json::serialize(v) + " is above the maximum");
    }
    if (v.is_array() && s.contains("items")) {
        std::size_t i = 0;
        for (const auto& item : v.as_array())
            check_schema(s.at("items"), item, where + "[" + std::to_string(i++) + "]", out);
    }
    if (v.is_object()) {
        const auto& o = v.as_object();
        if (s.contains("required"))
            for (const auto& r : s.at("required").as_array())
                if (!o.contains(r.as_string()))
                    fail("the required member " + std::string(r.as_string()) + " is missing");
        const json::object* props =
            s.contains("properties") ? &s.at("properties").as_object() : nullptr;
        for (const auto& kv : o) {
            const std::string name(kv.key());
            if (props && props->contains(name)) {
                check_schema(props->at(name), kv.value(), where + "." + name, out);
            } else if (s.contains("additionalProperties")) {
                const auto& ap = s.at("additionalProperties");
                if (ap.is_bool()) {
                    if (!ap.as_bool()) fail("the member " + name + " is not in the schema");
                } else {
                    check_schema(ap, kv.value(), where + "." + name, out);
                }
            }
        }
    }
}

std::vector<std::string> OpenApiCheck::request_problems(const std::string& method_in,
                                                        const std::string& target) {
    std::vector<std::string> out;
    const auto q = target.find('?');
    const std::string path = target.substr(0, q);
    const std::string method = lower(method_in == "HEAD" ? "GET" : method_in);
    const json::object* op = nullptr;
    for (const auto& kv : doc_.at("paths").as_object())
        if (path_matches(kv.key(), path) && kv.value().as_object().contains(method))
            op = &kv.value().as_object().at(method).as_object();
    if (op == nullptr) return {"no operation " + method_in + " " + path};
    std::map<std::string, std::vector<std::string>> given;
    if (q != std::string::npos) {
        std::string_view rest(target);
        rest.remove_prefix(q + 1);
        while (!rest.empty()) {
            const auto amp = rest.find('&');
            const auto item = rest.substr(0, amp);
            const auto eq = item.find('=');
            given[url_decode(item.substr(0, eq))].push_back(
                eq == std::string_view::npos ? "" : url_decode(item.substr(eq + 1)));
            rest = amp == std::string_view::npos ? "" : rest.substr(amp + 1);
        }
    }
    std::set<std::string> known;
    if (op->contains("parameters"))
        for (const auto& pv : op->at("parameters").as_array()) {
            const auto& p = resolve(pv).as_object();
            if (p.at("in").as_string() != "query") continue;
            const std::string name(p.at("name").as_string());
            known.insert(name);
            const bool required = p.contains("required") && p.at("required").as_bool();
            if (!given.count(name)) {
                if (required) out.push_back("the required parameter " + name + " is missing");
                continue;
            }
            const auto& schema = resolve(p.at("schema")).as_object();
            const auto& values = given.at(name);
            auto typed = [](const json::object& sch, const std::string& v) -> json::value {
                if (sch.contains("type") && sch.at("type").as_string() == "integer" && !v.empty() &&
                    v.size() < 19 && std::all_of(v.begin(), v.end(), ::isdigit))
                    return std::stoll(v);
                return json::string(v);
            };
            if (schema.contains("type") && schema.at("type").as_string() == "array") {
                json::array arr;
                const auto& items = resolve(schema.at("items")).as_object();
                for (const auto& v : values) arr.push_back(typed(items, v));
                check_schema(p.at("schema"), arr, "parameter " + name, out);
            } else {
                if (values.size() > 1) out.push_back("the parameter " + name + " is repeated");
                check_schema(p.at("schema"), typed(schema, values.front()), "parameter " + name,
                             out);
            }
        }
    for (const auto& [name, values] : given)
        if (!known.count(name)) out.push_back("the parameter " + name + " is not documented");
    return out;
}

std::vector<std::string> OpenApiCheck::problems(const HttpExchange& x) {
    std::vector<std::string> out;
    const std::string path = x.target.substr(0, x.target.find('?'));
    const std::string method = lower(x.method == "HEAD" ? "GET" : x.method);
    const json::object& paths = doc_.at("paths").as_object();
    const json::object* op = nullptr;
    std::string tmpl;
    for (const auto& kv : paths)
        if (path_matches(kv.key(), path) && kv.value().as_object().contains(method)) {
            op = &kv.value().as_object().at(method).as_object();
            tmpl = std::string(kv.key());
        }
    const std::string status = std::to_string(x.status);
    const json::value* response = nullptr;
    if (op != nullptr) {
        const auto& responses = op->at("responses").as_object();
        if (responses.contains(status)) response = &resolve(responses.at(status));
    } else {
        // No operation: a path or method the document does not list gets an error the server
        // answers on any path (404 for an unknown path, 405 for another method on a known one),
        // in the shape of the document's error responses. The document has no 405 (no operation
        // it describes can get one): that answer has the shape of a 404, and names the method
        // the path takes in Allow.
        tmpl = "(not in the document)";
        const auto& errors = doc_.at("components").at("responses").as_object();
        if (x.status == 405 && !find_header(x.headers, "Allow"))
            out.push_back("405: the header Allow is missing");
        const char* name = x.status == 404 || x.status == 405 ? "NotFound"
                           : x.status == 400                  ? "BadRequest"
                           : x.status == 413                  ? "PayloadTooLarge"
                           : x.status == 414                  ? "UriTooLong"
                           : x.status == 431                  ? "HeadersTooLarge"
                                                              : nullptr;
        if (name) response = &errors.at(name);
    }
    ++checked_[x.method + " " + tmpl + " " + status];
    if (response == nullptr) {
        out.push_back(x.method + " " + path + ": status " + status +
                      " is not documented for this operation");
        return out;
    }
    const auto& r = response->as_object();
    if (r.contains("headers"))
        for (const auto& h : r.at("headers").as_object()) {
            const auto& spec = resolve(h.value()).as_object();
            const std::string* got = find_header(x.headers, h.key());
            const bool required = spec.contains("required") && spec.at("required").as_bool();
            if (!got) {
                if (required)
                    out.push_back(status + ": the header " + std::string(h.key()) + " is missing");
                continue;
            }
            // Header values are text; an integer schema means digits.
            const auto& schema = resolve(spec.at("schema")).as_object();
            json::value as_json = json::string(*got);
            if (schema.contains("type") && schema.at("type").as_string() == "integer") {
                if (got->empty() || !std::all_of(got->begin(), got->end(), ::isdigit)) {
                    out.push_back(status + ": the header " + std::string(h.key()) + " \"" + *got +
                                  "\" is not an integer");
                    continue;
                }
                as_json = std::stoll(*got);
            }
            check_schema(spec.at("schema"), as_json, status + " header " + std::string(h.key()),
                         out);
        }
    const std::string* ctype = find_header(x.headers, "Content-Type");
    const bool has_body = x.method != "HEAD" && !x.body.empty();
    if (!r.contains("content")) {
        if (has_body) out.push_back(status + ": a body where the document says none");
        return out;
    }
    if (!has_body) {
        if (x.method != "HEAD") out.push_back(status + ": no body");
        return out;
    }
    const std::string media = ctype ? lower(ctype->substr(0, ctype->find(';'))) : "";
    const auto& content = r.at("content").as_object();
    if (!content.contains(media)) {
        out.push_back(status + ": the content type \"" + media + "\" is not documented");
        return out;
    }
    if (media != "application/json") return out;
    if (auto e = exponent_number(x.body))
        out.push_back(status + ": a number in exponent form: " + *e);
    json::value body;
    try {
        body = json::parse(x.body);
    } catch (const std::exception& e) {
        out.push_back(status + ": the body is not JSON: " + e.what());
        return out;
    }
    check_schema(content.at(media).at("schema"), body, status + " body", out);
    return out;
}

}  // namespace gw::test
