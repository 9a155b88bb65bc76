// Register decoding: types, word and byte order, scale, sentinels, NaN.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "gw/drivers/decode.hpp"

using gw::DataType;
using gw::RegisterSpec;

namespace {
RegisterSpec spec(DataType t, gw::WordOrder wo = gw::WordOrder::big, double scale = 1.0,
                  gw::ByteOrder bo = gw::ByteOrder::big) {
    RegisterSpec s;
    s.type = t;
    s.word_order = wo;
    s.byte_order = bo;
    s.scale = scale;
    return s;
}
double dec(const RegisterSpec& s, std::vector<std::uint16_t> w) {
    auto r = gw::decode_value(s, w);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *r;
}
gw::Errc dec_err(const RegisterSpec& s, std::vector<std::uint16_t> w) {
    auto r = gw::decode_value(s, w);
    REQUIRE_FALSE(r.ok());
    return static_cast<gw::Errc>(r.error().code.value());
}
}  // namespace

TEST_CASE("integers of every width, signed and unsigned") {
    CHECK(dec(spec(DataType::int16), {0xFFFE}) == -2);
    CHECK(dec(spec(DataType::uint16), {0xFFFE}) == 65534);
    CHECK(dec(spec(DataType::int32), {0xFFFF, 0xFFFE}) == -2);
    CHECK(dec(spec(DataType::uint32), {0x0001, 0x0000}) == 65536);
    CHECK(dec(spec(DataType::int64), {0xFFFF, 0xFFFF, 0xFFFF, 0xFF38}) == -200);
    CHECK(dec(spec(DataType::uint64), {0x0000, 0x0001, 0x0000, 0x0000}) == 4294967296.0);
}

TEST_CASE("word order: low word first (Carlo Gavazzi style)") {
    CHECK(dec(spec(DataType::int32, gw::WordOrder::little), {0x0000, 0x0001}) == 65536);
    CHECK(dec(spec(DataType::int32, gw::WordOrder::little), {0xFFFE, 0xFFFF}) == -2);
    CHECK(dec(spec(DataType::uint64, gw::WordOrder::little), {0x0004, 0x0003, 0x0002, 0x0001}) ==
          static_cast<double>(0x0001000200030004ULL));
}

TEST_CASE("byte order inside a register") {
    CHECK(dec(spec(DataType::uint16, gw::WordOrder::big, 1, gw::ByteOrder::little), {0x3412}) ==
          0x1234);
    CHECK(dec(spec(DataType::float32, gw::WordOrder::big, 1, gw::ByteOrder::little),
              {0x6643, 0x0080}) == 230.5f);
}

TEST_CASE("floats: IEEE-754, big and little word order") {
    CHECK(dec(spec(DataType::float32), {0x4366, 0x8000}) == 230.5);  // 0x43668000
    CHECK(dec(spec(DataType::float32, gw::WordOrder::little), {0x8000, 0x4366}) == 230.5);
    CHECK(dec(spec(DataType::float64), {0x4059, 0x0000, 0x0000, 0x0000}) == 100.0);
    CHECK(dec(spec(DataType::float32), {0xC47A, 0x0000}) == -1000.0);
}

TEST_CASE("scale multiplies into the canonical unit") {
    CHECK(dec(spec(DataType::int32, gw::WordOrder::big, 0.1), {0x0000, 0x0903}) ==
          doctest::Approx(230.7));
    CHECK(dec(spec(DataType::float32, gw::WordOrder::big, 1000), {0x3F80, 0x0000}) ==
          1000.0);  // 1 kW -> 1000 W
}

TEST_CASE("sentinels are 'not available', never data") {
    CHECK(dec_err(spec(DataType::int16), {0x7FFF}) == gw::Errc::value_not_available);
    CHECK(dec_err(spec(DataType::int16), {0x8000}) == gw::Errc::value_not_available);
    CHECK(dec_err(spec(DataType::int32), {0x7FFF, 0xFFFF}) == gw::Errc::value_not_available);
    CHECK(dec_err(spec(DataType::int32), {0x8000, 0x0000}) == gw::Errc::value_not_available);
    CHECK(dec_err(spec(DataType::int32, gw::WordOrder::little), {0xFFFF, 0x7FFF}) ==
          gw::Errc::value_not_available);
    CHECK(dec_err(spec(DataType::int64), {0x8000, 0, 0, 0}) == gw::Errc::value_not_available);
    auto ones = spec(DataType::uint16);
    CHECK(dec(ones, {0xFFFF}) == 65535);  // only where the map says so
    ones.all_ones_invalid = true;
    CHECK(dec_err(ones, {0xFFFF}) == gw::Errc::value_not_available);
    auto ones32 = spec(DataType::uint32);
    ones32.all_ones_invalid = true;
    CHECK(dec_err(ones32, {0xFFFF, 0xFFFF}) == gw::Errc::value_not_available);
    CHECK(dec(ones32, {0xFFFF, 0xFFFE}) == 4294967294.0);
}

TEST_CASE("NaN and infinity are rejected") {
    CHECK(dec_err(spec(DataType::float32), {0x7FC0, 0x0000}) == gw::Errc::value_not_finite);
    CHECK(dec_err(spec(DataType::float32), {0xFFC0, 0x0000}) ==
          gw::Errc::value_not_finite);  // Schneider's N/A
    CHECK(dec_err(spec(DataType::float32), {0x7F80, 0x0000}) == gw::Errc::value_not_finite);
    CHECK(dec_err(spec(DataType::float64), {0xFFF0, 0, 0, 0}) == gw::Errc::value_not_finite);
}

TEST_CASE("encode is the inverse of decode, for the simulator") {
    for (auto t : {DataType::int16, DataType::uint16, DataType::int32, DataType::uint32,
                   DataType::int64, DataType::uint64, DataType::float32, DataType::float64}) {
        for (auto wo : {gw::WordOrder::big, gw::WordOrder::little}) {
            const bool is_unsigned =
                t == DataType::uint16 || t == DataType::uint32 || t == DataType::uint64;
            const double value = is_unsigned ? 2307.0 : -2307.0;
            auto s = spec(t, wo, 0.1);
            CAPTURE(gw::data_type_name(t));
            CHECK(dec(s, gw::encode_value(s, value)) == doctest::Approx(value).epsilon(1e-6));
        }
    }
    // values beyond the range saturate one step short of the sentinel
    auto s16 = spec(DataType::int16);
    CHECK(dec(s16, gw::encode_value(s16, 1e9)) == 32766);
    CHECK(dec(s16, gw::encode_value(s16, -1e9)) == -32767);
    for (auto special : {gw::SpecialValue::nan, gw::SpecialValue::not_available}) {
        auto f = spec(DataType::float32);
        CHECK_FALSE(gw::decode_value(f, gw::encode_special(f, special)).ok());
        auto i = spec(DataType::int32);
        CHECK_FALSE(gw::decode_value(i, gw::encode_special(i, special)).ok());
    }
}
