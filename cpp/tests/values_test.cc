#include "check.h"
#include "values.h"
#include "vint.h"

using namespace kvs;

static void VintLengths() {
  CHECK_EQ(VintLength(0x80), 1u);
  CHECK_EQ(VintLength(0x40), 2u);
  CHECK_EQ(VintLength(0x01), 8u);
  CHECK_EQ(VintLength(0x00), 0u);
  const std::uint8_t unknown[] = {0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  bool all_ones = false;
  CHECK_EQ(VintValue(unknown, 8, &all_ones), (std::uint64_t{1} << 56) - 1);
  CHECK(all_ones);
  const std::uint8_t two[] = {0x40, 0x02};
  CHECK_EQ(VintValue(two, 2, &all_ones), 2u);
  CHECK(!all_ones);
}

static void KvsTimestamps() {
  CHECK(ParseSecondsAsMillis("1511852108.513") == std::int64_t{1511852108513});
  CHECK(ParseSecondsAsMillis("0.000") == std::int64_t{0});
  CHECK(ParseSecondsAsMillis("45") == std::int64_t{45000});
  CHECK(ParseSecondsAsMillis("1.5") == std::int64_t{1500});
  CHECK(ParseSecondsAsMillis("1.23456") == std::int64_t{1234});
  CHECK(!ParseSecondsAsMillis("abc"));
  CHECK(!ParseSecondsAsMillis(""));
  CHECK(!ParseSecondsAsMillis("99999999999999999999"));
  CHECK(ParseInteger("15858") == std::int64_t{15858});
  CHECK(!ParseInteger("12a"));
}

static void Strings() {
  const std::uint8_t padded[] = {'a', 'b', 0, 0};
  CHECK_EQ(ReadString(padded, 4), std::string("ab"));
  const std::uint8_t f32[] = {0x47, 0x3B, 0x80, 0x00};  // 48000.0f
  CHECK(ReadFloat(f32, 4) == 48000.0);
  CHECK(!ReadFloat(f32, 3));
  CHECK(!ReadUnsigned(padded, 9));
}

static void Utf8() {
  CHECK(IsValidUtf8("plain"));
  CHECK(IsValidUtf8("caf\xC3\xA9 \xF0\x9F\x93\xB7"));         // 2- and 4-byte sequences
  CHECK(!IsValidUtf8("\xC0\xAF"));                             // overlong
  CHECK(!IsValidUtf8("\xED\xA0\x80"));                         // a surrogate
  CHECK(!IsValidUtf8("ab\xE2\x82"));                            // cut short
  CHECK_EQ(ToValidUtf8("caf\xC3\xA9"), std::string("caf\xC3\xA9"));  // valid text is kept
  CHECK_EQ(ToValidUtf8("a\xFF" "b"), std::string("a\xEF\xBF\xBD" "b"));
  CHECK_EQ(ToValidUtf8("ab\xE2\x82"), std::string("ab\xEF\xBF\xBD\xEF\xBF\xBD"));  // each stray byte
  CHECK(IsValidUtf8(ToValidUtf8("\x80\xC3(\xF4\x90\x80\x80")));
}

int main() {
  RUN_TEST(VintLengths);
  RUN_TEST(KvsTimestamps);
  RUN_TEST(Strings);
  RUN_TEST(Utf8);
  TEST_MAIN_END();
}
