// A small blocking HTTPS client for process tests: one request per connection, from any
// loopback source address, with the time it took.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace gw::test {

struct HttpsReply {
    int status = 0;  ///< 0: no answer (connection refused, closed, timed out)
    std::map<std::string, std::string> headers;
    std::string body;
    std::chrono::milliseconds took{0};
    std::string error;
};

/// GET (or `method`) `target` on 127.0.0.1:`port`, with Basic `user`:`password` when given.
HttpsReply https_request(int port, const std::string& target, const std::string& user = "",
                         const std::string& password = "", const std::string& from = "127.0.0.1",
                         const std::string& method = "GET",
                         std::chrono::milliseconds timeout = std::chrono::seconds{10});

/// "Basic base64(user:password)".
std::string basic_auth(const std::string& user, const std::string& password);

}  // namespace gw::test
