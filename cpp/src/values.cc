#include "values.h"

#include <cstring>
#include <limits>

namespace kvs {

std::optional<std::uint64_t> ReadUnsigned(const std::uint8_t* data, std::size_t size) {
  if (size > 8) return std::nullopt;
  std::uint64_t value = 0;
  for (std::size_t k = 0; k < size; ++k) value = (value << 8) | data[k];
  return value;
}

std::optional<double> ReadFloat(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0.0;
  if (size == 4) {
    std::uint32_t bits = static_cast<std::uint32_t>(*ReadUnsigned(data, 4));
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }
  if (size == 8) {
    std::uint64_t bits = *ReadUnsigned(data, 8);
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }
  return std::nullopt;
}

std::string ReadString(const std::uint8_t* data, std::size_t size) {
  while (size > 0 && data[size - 1] == 0) --size;
  return std::string(reinterpret_cast<const char*>(data), size);
}

namespace {

// Length of the well-formed UTF-8 sequence at text[i] (1-4), or 0 when the byte there starts none.
std::size_t Utf8SequenceAt(const std::string& text, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  const unsigned char c = p[i];
  if (c < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;   // overlong
    if (c == 0xED) high = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;   // overlong
    if (c == 0xF4) high = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (n - i < length || p[i + 1] < low || p[i + 1] > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if ((p[i + k] & 0xC0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

bool IsValidUtf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = Utf8SequenceAt(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string ToValidUtf8(const std::string& text) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = Utf8SequenceAt(text, i);
    if (length == 0) {
      out.append(kReplacement, sizeof kReplacement - 1);
      ++i;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

namespace {

// Accumulates decimal digits, refusing overflow.
bool AppendDigit(std::int64_t* value, char digit) {
  const std::int64_t d = digit - '0';
  if (*value > (std::numeric_limits<std::int64_t>::max() - d) / 10) return false;
  *value = *value * 10 + d;
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::int64_t> ParseSecondsAsMillis(const std::string& text) {
  std::size_t k = 0;
  bool negative = false;
  if (k < text.size() && (text[k] == '-' || text[k] == '+')) negative = text[k++] == '-';
  std::int64_t millis = 0;
  std::size_t digits = 0;
  for (; k < text.size() && IsDigit(text[k]); ++k, ++digits) {
    if (!AppendDigit(&millis, text[k])) return std::nullopt;
  }
  int decimals = 0;
  if (k < text.size() && text[k] == '.') {
    for (++k; k < text.size() && IsDigit(text[k]); ++k, ++digits) {
      if (decimals < 3 && !AppendDigit(&millis, text[k])) return std::nullopt;
      if (decimals < 3) ++decimals;  // further decimals are below a millisecond: truncated
    }
  }
  if (k != text.size() || digits == 0) return std::nullopt;
  for (; decimals < 3; ++decimals) {
    if (millis > std::numeric_limits<std::int64_t>::max() / 10) return std::nullopt;
    millis *= 10;
  }
  return negative ? -millis : millis;
}

std::optional<std::int64_t> ParseInteger(const std::string& text) {
  std::size_t k = 0;
  bool negative = false;
  if (k < text.size() && (text[k] == '-' || text[k] == '+')) negative = text[k++] == '-';
  if (k == text.size()) return std::nullopt;
  std::int64_t value = 0;
  for (; k < text.size(); ++k) {
    if (!IsDigit(text[k]) || !AppendDigit(&value, text[k])) return std::nullopt;
  }
  return negative ? -value : value;
}

}  // namespace kvs
