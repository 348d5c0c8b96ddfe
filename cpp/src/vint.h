// EBML variable-length integers (RFC 8794 section 4).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvs {

// Length in bytes (1-8) announced by a vint's first byte, or 0 when the marker is missing.
inline std::uint32_t VintLength(std::uint8_t first) {
  if (first == 0) return 0;
  std::uint32_t length = 1;
  for (std::uint8_t mask = 0x80; (first & mask) == 0; mask >>= 1) ++length;
  return length;
}

// Value bits of a vint of `length` bytes (marker removed); `*all_ones` tells the reserved
// "unknown size" value.
inline std::uint64_t VintValue(const std::uint8_t* bytes, std::uint32_t length, bool* all_ones) {
  const std::uint8_t first_mask = static_cast<std::uint8_t>(0xFF >> length);
  std::uint64_t value = bytes[0] & first_mask;
  bool ones = (bytes[0] & first_mask) == first_mask;
  for (std::uint32_t k = 1; k < length; ++k) {
    value = (value << 8) | bytes[k];
    ones = ones && bytes[k] == 0xFF;
  }
  if (all_ones != nullptr) *all_ones = ones;
  return value;
}

// Element IDs keep their marker bits.
inline std::uint32_t IdValue(const std::uint8_t* bytes, std::uint32_t length) {
  std::uint32_t value = 0;
  for (std::uint32_t k = 0; k < length; ++k) value = (value << 8) | bytes[k];
  return value;
}

}  // namespace kvs
