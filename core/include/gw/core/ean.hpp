// EAN-18 (GS1 GSRN as used for Dutch connection and meter EANs) with check-digit validation.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "gw/core/error.hpp"

namespace gw {

/// An 18-digit EAN whose GS1 check digit is valid. Immutable value type.
class Ean18 {
  public:
    /// Parses exactly 18 ASCII digits with a correct check digit. The error message
    /// says which rule failed ("must be 18 digits, got 17", "check digit is 3, expected 1").
    static Result<Ean18> parse(std::string_view text);

    /// The GS1 check digit for the first 17 digits of `digits17` (mod-10, weights 3,1 from the
    /// right).
    static int check_digit(std::string_view digits17);

    /// "000000000000000000" (valid, but no real EAN): the value before a parsed one is assigned.
    Ean18() { digits_.fill('0'); }

    std::string_view str() const { return {digits_.data(), digits_.size()}; }
    std::string to_string() const { return std::string(str()); }

    friend bool operator==(const Ean18&, const Ean18&) = default;
    friend auto operator<=>(const Ean18&, const Ean18&) = default;

  private:
    std::array<char, 18> digits_{};
};

}  // namespace gw
