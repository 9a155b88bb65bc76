// EAN-18 parsing and GS1 check digits.
#include <doctest/doctest.h>

#include "gw/core/ean.hpp"

using gw::Ean18;

TEST_CASE("valid EANs from the specification parse") {
    for (const char* text : {"871685900000000011", "871685900000000028", "871685900000000035",
                             "871685900000000042", "000000000000000000"}) {
        CAPTURE(text);
        auto e = Ean18::parse(text);
        REQUIRE(e.ok());
        CHECK(e->str() == text);
    }
}

TEST_CASE("check digit follows GS1 mod-10 with weights 3,1 from the right") {
    CHECK(Ean18::check_digit("87168590000000001") == 1);
    CHECK(Ean18::check_digit("87168590000000002") == 8);
    CHECK(Ean18::check_digit("87168590000000003") == 5);
    CHECK(Ean18::check_digit("00000000000000000") == 0);
    CHECK(Ean18::check_digit("00000000000000001") == 7);  // 1*3 = 3 -> 10-3
    CHECK(Ean18::check_digit("00000000000000010") == 9);  // 1*1 = 1 -> 10-1
}

TEST_CASE("every wrong check digit is rejected with the expected digit named") {
    for (char d = '0'; d <= '9'; ++d) {
        std::string text = "87168590000000001";
        text += d;
        auto e = Ean18::parse(text);
        CHECK(e.ok() == (d == '1'));
        if (d != '1')
            CHECK(e.error().message ==
                  std::string("check digit is ") + d + ", expected 1 (GS1 mod-10)");
    }
}

TEST_CASE("malformed EANs are rejected with a reason") {
    SUBCASE("too short") {
        auto e = Ean18::parse("87168590000000001");
        REQUIRE_FALSE(e.ok());
        CHECK(e.error().message == "must be 18 digits, got 17 characters");
    }
    SUBCASE("too long") {
        CHECK_FALSE(Ean18::parse("8716859000000000110").ok());
    }
    SUBCASE("empty") {
        CHECK_FALSE(Ean18::parse("").ok());
    }
    SUBCASE("letters") {
        auto e = Ean18::parse("87168590000000001A");
        REQUIRE_FALSE(e.ok());
        CHECK(e.error().message == "must contain only the digits 0-9");
    }
    SUBCASE("spaces and signs") {
        CHECK_FALSE(Ean18::parse(" 71685900000000011").ok());
        CHECK_FALSE(Ean18::parse("-71685900000000011").ok());
    }
    SUBCASE("a transposition of two digits is caught") {
        CHECK_FALSE(Ean18::parse("781685900000000011").ok());
    }
}
