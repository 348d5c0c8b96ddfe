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

int main() {
  RUN_TEST(VintLengths);
  RUN_TEST(KvsTimestamps);
  RUN_TEST(Strings);
  TEST_MAIN_END();
}
