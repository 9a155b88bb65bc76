// openapi_validate: checks one HTTP exchange saved by curl against an OpenAPI document, for the
// shell tests. Prints each problem and exits 1 if there is one.
// Usage: openapi_validate DOCUMENT METHOD TARGET HEADERS BODY
//   HEADERS is curl's -D output (the status line and the headers), BODY its -o output.
#include <fstream>
#include <iostream>
#include <sstream>

#include "openapi_check.hpp"

namespace {

std::string slurp(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::cerr << "usage: openapi_validate DOCUMENT METHOD TARGET HEADERS BODY\n";
        return 64;
    }
    try {
        gw::test::OpenApiCheck check(slurp(argv[1]));
        gw::test::HttpExchange x{argv[2], argv[3], 0, {}, slurp(argv[5])};
        std::istringstream headers(slurp(argv[4]));
        std::string line;
        while (std::getline(headers, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a 100 Continue, say)
                x.headers.clear();
                const auto sp = line.find(' ');
                x.status = sp == std::string::npos ? 0 : std::atoi(line.c_str() + sp + 1);
                continue;
            }
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            x.headers[line.substr(0, colon)] = value;
        }
        const auto problems = check.problems(x);
        for (const auto& p : problems)
            std::cerr << x.method << " " << x.target << ": " << p << "\n";
        return problems.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "openapi_validate: " << e.what() << "\n";
        return 2;
    }
}
