// The JSON writer and the text helpers: output a real parser (Boost.JSON) accepts, valid UTF-8
// whatever the input, no exponent notation.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cmath>
#include <limits>

#include "gw/core/json.hpp"
#include "gw/core/text.hpp"

namespace json = boost::json;

TEST_CASE("objects, arrays and the commas between their members") {
    gw::JsonWriter w;
    w.object().field("a", "x").key("b").array().integer(1).integer(std::int64_t{-2}).null().end();
    w.key("c").object().end().key("d").boolean(true).end();
    CHECK(w.str() == R"({"a":"x","b":[1,-2,null],"c":{},"d":true})");
    CHECK(json::parse(w.str()).is_object());
}

TEST_CASE("numbers are never written in exponent notation") {
    auto num = [](double v) { return gw::JsonWriter().number(v).str(); };
    auto fix = [](double v, int d) { return gw::JsonWriter().fixed(v, d).str(); };
    CHECK(num(1.0) == "1");
    CHECK(num(231.4) == "231.4");
    CHECK(num(-1234.5) == "-1234.5");
    CHECK(num(0.0001) == "0.0001");
    CHECK(num(1e21) == "1000000000000000000000");
    CHECK(num(-0.0) == "0");
    CHECK(num(std::nan("")) == "null");
    CHECK(num(std::numeric_limits<double>::infinity()) == "null");
    CHECK(fix(231.0, 1) == "231.0");
    CHECK(fix(0.99, 2) == "0.99");
    CHECK(fix(1.0, 2) == "1.00");
    CHECK(fix(-0.001, 1) == "0.0");
    for (double v : {1e-7, 123456789.125, 2.5e15, 1.0 / 3})
        CHECK(json::parse(num(v)).to_number<double>() == v);  // shortest, and exact
}

TEST_CASE("strings: escaped, and valid UTF-8 whatever comes in") {
    gw::JsonWriter w;
    w.array()
        .string("quote \" backslash \\ newline \n tab \t bell \a del \x7f")
        .string("caf\xc3\xa9");
    w.string("\xff \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82").end();
    const std::string& out = w.str();
    CHECK(gw::valid_utf8(out));
    const auto v = json::parse(out).as_array();
    CHECK(v[0].as_string() == "quote \" backslash \\ newline \n tab \t bell \a del \x7f");
    CHECK(v[1].as_string() == "caf\xc3\xa9");
    CHECK(v[2].as_string().find("\xef\xbf\xbd") !=
          json::string::npos);  // U+FFFD for what was invalid
}

TEST_CASE("strict UTF-8: overlong forms, surrogates and code points above U+10FFFF are invalid") {
    CHECK(gw::valid_utf8("plain ascii"));
    CHECK(gw::valid_utf8("\xe2\x82\xac \xf0\x9f\x98\x80"));  // euro sign, an emoji
    CHECK_FALSE(gw::valid_utf8("\xc0\xaf"));                 // overlong '/'
    CHECK_FALSE(gw::valid_utf8("\xe0\x80\xaf"));             // overlong, three bytes
    CHECK_FALSE(gw::valid_utf8("\xed\xa0\x80"));             // a surrogate
    CHECK_FALSE(gw::valid_utf8("\xf4\x90\x80\x80"));         // above U+10FFFF
    CHECK_FALSE(gw::valid_utf8("\xff"));
    CHECK_FALSE(gw::valid_utf8("\xe2\x82"));  // cut short
}

TEST_CASE("log-safe text escapes control characters and cuts long text") {
    CHECK(gw::log_safe("a\r\nERROR forged\x1b[31m") == "a\\x0d\\x0aERROR forged\\x1b[31m");
    CHECK(gw::log_safe("caf\xc3\xa9 \xff") == "caf\xc3\xa9 \\xff");
    CHECK(gw::log_safe(std::string(300, 'x'), 10) == "xxxxxxxxxx...");
}
