// EAN-18 parsing and GS1 check digit.
#include "gw/core/ean.hpp"

#include <algorithm>

namespace gw {

int Ean18::check_digit(std::string_view digits17) {
    // GS1: starting with the digit next to the check digit, weights alternate 3, 1, 3, ...
    int sum = 0;
    int weight = 3;
    for (auto it = digits17.rbegin(); it != digits17.rend(); ++it) {
        sum += (*it - '0') * weight;
        weight = weight == 3 ? 1 : 3;
    }
    return (10 - sum % 10) % 10;
}

Result<Ean18> Ean18::parse(std::string_view text) {
    if (text.size() != 18) {
        return make_error(Errc::invalid_argument,
                          "must be 18 digits, got " + std::to_string(text.size()) + " characters");
    }
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return make_error(Errc::invalid_argument, "must contain only the digits 0-9");
    }
    const int expected = check_digit(text.substr(0, 17));
    const int got = text[17] - '0';
    if (got != expected) {
        return make_error(Errc::invalid_argument, "check digit is " + std::to_string(got) +
                                                      ", expected " + std::to_string(expected) +
                                                      " (GS1 mod-10)");
    }
    Ean18 ean;
    std::copy(text.begin(), text.end(), ean.digits_.begin());
    return ean;
}

}  // namespace gw
