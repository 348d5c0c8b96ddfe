#include "lacing.h"

#include "vint.h"

namespace kvs {

namespace {

// Reads one EBML-laced size field; signed fields are stored with a bias (RFC 8794 / Matroska lacing).
bool ReadLaceVint(const std::uint8_t* data, std::size_t size, std::size_t* at, bool is_signed,
                  std::int64_t* value) {
  if (*at >= size) return false;
  const std::uint32_t length = VintLength(data[*at]);
  if (length == 0 || *at + length > size) return false;
  const std::uint64_t raw = VintValue(data + *at, length, nullptr);
  *at += length;
  if (!is_signed) {
    *value = static_cast<std::int64_t>(raw);
    return true;
  }
  const std::int64_t bias = (std::int64_t{1} << (7 * length - 1)) - 1;
  *value = static_cast<std::int64_t>(raw) - bias;
  return true;
}

}  // namespace

bool SplitLaces(Lacing lacing, const std::uint8_t* data, std::size_t size, std::vector<ByteView>* frames,
                std::string* error) {
  frames->clear();
  if (size < 1) {
    *error = "laced block without a frame count";
    return false;
  }
  const std::size_t count = static_cast<std::size_t>(data[0]) + 1;
  std::size_t at = 1;
  std::vector<std::uint64_t> sizes;
  sizes.reserve(count);
  if (lacing == Lacing::kFixed) {
    const std::size_t body = size - at;
    if (body % count != 0) {
      *error = "fixed-size lacing: payload does not divide into equal frames";
      return false;
    }
    sizes.assign(count, body / count);
  } else {
    std::uint64_t total = 0;
    for (std::size_t k = 0; k + 1 < count; ++k) {
      std::uint64_t lace = 0;
      if (lacing == Lacing::kXiph) {
        std::uint8_t byte = 255;
        while (byte == 255) {
          if (at >= size) {
            *error = "Xiph lacing: sizes run past the block";
            return false;
          }
          byte = data[at++];
          lace += byte;
        }
      } else {
        std::int64_t field = 0;
        if (!ReadLaceVint(data, size, &at, k > 0, &field)) {
          *error = "EBML lacing: bad size field";
          return false;
        }
        const std::int64_t value = k == 0 ? field : static_cast<std::int64_t>(sizes.back()) + field;
        if (value < 0) {
          *error = "EBML lacing: negative frame size";
          return false;
        }
        lace = static_cast<std::uint64_t>(value);
      }
      if (lace > size) {  // also keeps `total` from overflowing
        *error = "lace size larger than the block";
        return false;
      }
      total += lace;
      sizes.push_back(lace);
    }
    if (total > size - at) {
      *error = "lace sizes add up to more than the block";
      return false;
    }
    sizes.push_back(size - at - total);
  }
  for (std::uint64_t lace : sizes) {
    frames->push_back(ByteView{data + at, static_cast<std::size_t>(lace)});
    at += static_cast<std::size_t>(lace);
  }
  return true;
}

}  // namespace kvs
