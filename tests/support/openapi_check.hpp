// Checks an HTTP response against an OpenAPI 3.0 document: the status is listed for the path and
// method, the content type is one the document names, the JSON body matches its schema, and
// every required header is there and matches its schema.
//
// The schema checker knows the keywords the gateway's document uses (type, nullable, enum,
// pattern, format date and date-time, required, properties, additionalProperties, items,
// minimum, maximum, exclusiveMinimum, minLength, oneOf, $ref) and reports any other keyword
// as a problem, so a schema can never pass by being misunderstood.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gw::test {

struct HttpExchange {
    std::string method;  ///< of the request
    std::string target;  ///< of the request: path and query
    int status = 0;
    std::map<std::string, std::string> headers;  ///< of the response, any case
    std::string body;
};

class OpenApiCheck {
  public:
    explicit OpenApiCheck(const std::string& document);

    /// What does not match the document; empty when the response does.
    std::vector<std::string> problems(const HttpExchange& x);

    /// What in a request's query the document does not admit: an undocumented parameter, a
    /// missing required one, a value its schema refuses (a repeated parameter is an array of
    /// its values; '+' is a space and %XX a byte, as servers decode them).
    std::vector<std::string> request_problems(const std::string& method, const std::string& target);

    /// Responses checked so far, per "METHOD path-template status".
    const std::map<std::string, int>& checked() const { return checked_; }

    /// Problems of `value` against `schema` (a JSON Schema of the document), at `where`.
    void check_schema(const boost::json::value& schema, const boost::json::value& value,
                      const std::string& where, std::vector<std::string>& out) const;

  private:
    const boost::json::value& resolve(const boost::json::value& v) const;

    boost::json::value doc_;
    std::map<std::string, int> checked_;
};

}  // namespace gw::test
