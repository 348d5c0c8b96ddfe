#include <vector>

#include "check.h"
#include "lacing.h"

using namespace kvs;

static std::vector<std::size_t> Sizes(Lacing lacing, const std::vector<std::uint8_t>& data, bool* ok) {
  std::vector<ByteView> frames;
  std::string error;
  *ok = SplitLaces(lacing, data.data(), data.size(), &frames, &error);
  std::vector<std::size_t> sizes;
  for (const ByteView& f : frames) sizes.push_back(f.size);
  return sizes;
}

static void Xiph() {
  // 3 frames: 300 (255 + 45), 2, and the rest (4).
  std::vector<std::uint8_t> data = {2, 255, 45, 2};
  data.resize(data.size() + 300 + 2 + 4, 7);
  bool ok = false;
  CHECK((Sizes(Lacing::kXiph, data, &ok) == std::vector<std::size_t>{300, 2, 4}));
  CHECK(ok);
}

static void Ebml() {
  // 3 frames: 5, then +1 (6), rest. Signed 1-byte delta +1 is 0x80 | (1 + 63).
  std::vector<std::uint8_t> data = {2, 0x85, 0x80 | 64};
  data.resize(data.size() + 5 + 6 + 3, 1);
  bool ok = false;
  CHECK((Sizes(Lacing::kEbml, data, &ok) == std::vector<std::size_t>{5, 6, 3}));
  CHECK(ok);
}

static void Fixed() {
  std::vector<std::uint8_t> data = {3};
  data.resize(1 + 12, 0);
  bool ok = false;
  CHECK((Sizes(Lacing::kFixed, data, &ok) == std::vector<std::size_t>{3, 3, 3, 3}));
  CHECK(ok);
  data.push_back(0);
  Sizes(Lacing::kFixed, data, &ok);
  CHECK(!ok);
}

static void Hostile() {
  bool ok = true;
  Sizes(Lacing::kXiph, {255, 255, 255}, &ok);  // 256 frames, sizes run off the end
  CHECK(!ok);
  Sizes(Lacing::kEbml, {1, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, &ok);  // size larger than block
  CHECK(!ok);
  Sizes(Lacing::kEbml, {2, 0x81, 0x80}, &ok);  // 1 then -63: negative
  CHECK(!ok);
  Sizes(Lacing::kXiph, {}, &ok);
  CHECK(!ok);
}

int main() {
  RUN_TEST(Xiph);
  RUN_TEST(Ebml);
  RUN_TEST(Fixed);
  RUN_TEST(Hostile);
  TEST_MAIN_END();
}
