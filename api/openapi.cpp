// The OpenAPI document, generated from the parameter tables the handlers validate with.
#include <boost/json.hpp>

#include "params.hpp"

namespace gw::api {

namespace json = boost::json;

std::string openapi_document(const std::string& version) {
    json::object paths;
    auto params_json = [](const std::vector<Param>& ps) {
        json::array arr;
        for (const auto& p : ps) {
            json::object schema;
            if (std::string_view(p.type) == "integer") {
                schema["type"] = "integer";
                schema["minimum"] = std::string_view(p.name) == "max_rows" ? 1 : 0;
                if (std::string_view(p.name) == "max_rows") schema["maximum"] = Api::k_max_page;
            } else if (std::string_view(p.type) == "enum") {
                schema["type"] = "string";
                json::array e;
                for (const char* v : p.values) e.emplace_back(v);
                schema["enum"] = e;
            } else if (std::string_view(p.type) == "ean") {
                schema["type"] = "string";
                schema["pattern"] = "^[0-9]{18}$";
            } else {
                schema["type"] = "string";
                schema["format"] = "date-time";
            }
            if (p.repeatable) schema = json::object{{"type", "array"}, {"items", schema}};
            json::object o{{"name", p.name},
                           {"in", "query"},
                           {"required", p.required},
                           {"description", p.description},
                           {"schema", schema}};
            if (p.repeatable) {
                o["style"] = "form";
                o["explode"] = true;
            }
            arr.push_back(o);
        }
        return arr;
    };
    auto errors = [](json::object responses) {
        for (const char* code :
             {"400", "401", "403", "404", "405", "413", "414", "429", "431", "503"})
            if (!responses.contains(code))
                responses[code] =
                    json::object{{"description", "error"},
                                 {"content",
                                  {{"application/json",
                                    {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
        return responses;
    };
    auto op = [&](const char* summary, const std::vector<Param>& ps, const char* schema,
                  bool secured, const char* extra_type = nullptr) {
        json::object content{
            {"application/json",
             {{"schema", {{"$ref", std::string("#/components/schemas/") + schema}}}}}};
        if (extra_type) content[extra_type] = json::object{{"schema", {{"type", "string"}}}};
        json::object o{
            {"summary", summary},
            {"parameters", params_json(ps)},
            {"responses", errors({{"200", {{"description", "OK"}, {"content", content}}}})}};
        if (!secured) o["security"] = json::array{};
        return o;
    };
    paths["/healthz"] = {
        {"get", op("Liveness, without authentication and without data", {}, "Health", false)}};
    paths["/api/v1/openapi.json"] = {{"get", op("This document", {}, "Any", false)}};
    paths["/api/v1/token"] = {
        {"post", op("A bearer token for Basic credentials", {}, "Token", true)}};
    paths["/api/v1/meters"] = {{"get", op("Call 1: available measurements per customer",
                                          k_meters_params, "Meters", true)}};
    paths["/api/v1/meters/{meter_ean}"] = {
        {"get", op("Master data and state of one meter", {}, "Meter", true)},
        {"parameters",
         json::array{{{"name", "meter_ean"},
                      {"in", "path"},
                      {"required", true},
                      {"schema", {{"type", "string"}, {"pattern", "^[0-9]{18}$"}}}}}}};
    paths["/api/v1/metingen"] = {
        {"get", op("Call 2: 5-minute measurements of one meter in a window", k_metingen_params,
                   "Metingen", true, "text/csv")}};
    paths["/api/v1/meterstanden"] = {
        {"get", op("Energy register readings at interval ends", k_meterstanden_params,
                   "Meterstanden", true, "text/csv")}};
    paths["/api/v1/status"] = {{"get", op("Gateway health", {}, "Status", true)}};
    json::object schemas{
        {"Any", {{"type", "object"}}},
        {"Health", {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}}},
        {"Token",
         {{"type", "object"},
          {"properties",
           {{"access_token", {{"type", "string"}}},
            {"token_type", {{"type", "string"}}},
            {"expires_in", {{"type", "integer"}}}}}}},
        {"Error",
         {{"type", "object"},
          {"properties",
           {{"error",
             {{"type", "object"},
              {"properties",
               {{"code", {{"type", "string"}}},
                {"message", {{"type", "string"}}},
                {"correlation_id", {{"type", "string"}}}}}}}}}}},
        {"Meters",
         {{"type", "object"},
          {"properties",
           {{"meters",
             {{"type", "array"},
              {"items",
               {{"type", "object"},
                {"properties",
                 {{"klant_ean", {{"type", "string"}}},
                  {"meter_ean", {{"type", "string"}}},
                  {"meter_type",
                   {{"type", "string"}, {"enum", {"bruto_productie", "overdrachtspunt"}}}},
                  {"datum_laatste_meting",
                   {{"type", "string"}, {"format", "date-time"}, {"nullable", true}}}}}}}}},
            {"niet_beschikbaar",
             {{"type", "array"},
              {"items",
               {{"type", "object"},
                {"properties",
                 {{"klant_ean", {{"type", "string"}}},
                  {"reden",
                   {{"type", "string"}, {"enum", {"onbekend", "geen_toestemming"}}}}}}}}}}}}}},
        {"Metingen",
         {{"type", "object"},
          {"properties",
           {{"metingen",
             {{"type", "array"},
              {"items",
               {{"type", "object"},
                {"properties",
                 {{"datum", {{"type", "string"}, {"format", "date"}}},
                  {"tijd", {{"type", "string"}}},
                  {"klant_ean", {{"type", "string"}}},
                  {"meter_ean", {{"type", "string"}}},
                  {"waarde", {{"type", "number"}}},
                  {"meting_type", {{"type", "string"}}},
                  {"waarde_type", {{"type", "string"}, {"enum", {"kW", "kVAr", "V"}}}},
                  {"kwaliteit", {{"type", "string"}, {"enum", {"gemeten", "onvolledig"}}}}}}}}}},
            {"next", {{"type", "string"}, {"nullable", true}}}}}}},
        {"Meterstanden",
         {{"type", "object"},
          {"properties",
           {{"meterstanden",
             {{"type", "array"},
              {"items",
               {{"type", "object"},
                {"properties",
                 {{"datum", {{"type", "string"}}},
                  {"tijd", {{"type", "string"}}},
                  {"klant_ean", {{"type", "string"}}},
                  {"meter_ean", {{"type", "string"}}},
                  {"register",
                   {{"type", "string"},
                    {"enum",
                     {"actief_levering", "actief_teruglevering", "blind_levering",
                      "blind_teruglevering"}}}},
                  {"waarde", {{"type", "number"}}},
                  {"eenheid", {{"type", "string"}, {"enum", {"kWh", "kVArh"}}}}}}}}}},
            {"next", {{"type", "string"}, {"nullable", true}}}}}}},
        {"Meter", {{"type", "object"}}},
        {"Status", {{"type", "object"}}},
    };
    json::object doc{
        {"openapi", "3.0.3"},
        {"info",
         {{"title", "meter-gateway pull API"},
          {"version", version},
          {"description",
           "Liander Dynamisch Terugleveren: 5-minute net active/reactive power (kW, kVAr, whole "
           "numbers, + import / - export) and voltage per phase (V, one decimal), UTC."}}},
        {"servers", json::array{{{"url", "/"}}}},
        {"security", json::array{{{"basic", json::array{}}}, {{"bearer", json::array{}}}}},
        {"paths", paths},
        {"components",
         {{"securitySchemes",
           {{"basic", {{"type", "http"}, {"scheme", "basic"}}},
            {"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
          {"schemas", schemas}}},
    };
    return json::serialize(doc);
}

}  // namespace gw::api
