// Builds small Matroska/KVS byte streams for tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvs_test {

using Bytes = std::vector<std::uint8_t>;

inline void AppendId(Bytes* out, std::uint32_t id) {
  int length = id > 0xFFFFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1;
  for (int k = length - 1; k >= 0; --k) out->push_back(static_cast<std::uint8_t>(id >> (8 * k)));
}

inline void AppendSize(Bytes* out, std::uint64_t size) {  // always 8 bytes: simple and valid
  out->push_back(0x01);
  for (int k = 6; k >= 0; --k) out->push_back(static_cast<std::uint8_t>(size >> (8 * k)));
}

inline Bytes Element(std::uint32_t id, const Bytes& body) {
  Bytes out;
  AppendId(&out, id);
  AppendSize(&out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

inline Bytes UnknownSize(std::uint32_t id) {
  Bytes out;
  AppendId(&out, id);
  out.insert(out.end(), {0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  return out;
}

inline Bytes Uint(std::uint32_t id, std::uint64_t value) {
  Bytes body;
  for (int k = 7; k >= 0; --k) body.push_back(static_cast<std::uint8_t>(value >> (8 * k)));
  return Element(id, body);
}

inline Bytes Str(std::uint32_t id, const std::string& value) { return Element(id, Bytes(value.begin(), value.end())); }

inline Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

inline Bytes BlockBody(std::uint8_t track, std::int16_t timecode, std::uint8_t flags, const Bytes& payload) {
  Bytes body = {static_cast<std::uint8_t>(0x80 | track), static_cast<std::uint8_t>(timecode >> 8),
                static_cast<std::uint8_t>(timecode & 0xFF), flags};
  body.insert(body.end(), payload.begin(), payload.end());
  return body;
}

inline Bytes SimpleBlock(std::uint8_t track, std::int16_t timecode, bool key, const Bytes& payload) {
  return Element(0xA3, BlockBody(track, timecode, key ? 0x80 : 0x00, payload));
}

inline Bytes SimpleTag(const std::string& name, const std::string& value) {
  return Element(0x67C8, Cat({Str(0x45A3, name), Str(0x4487, value)}));
}

inline Bytes EbmlHeader() { return Element(0x1A45DFA3, Str(0x4282, "matroska")); }

// One KVS fragment: unknown-size Segment, tags before and after an unknown-size Cluster.
inline Bytes KvsFragment(const std::string& number, std::uint64_t cluster_timecode, int frames) {
  Bytes cluster = Cat({UnknownSize(0x1F43B675), Uint(0xE7, cluster_timecode)});
  for (int k = 0; k < frames; ++k) {
    Bytes payload(100 + k, static_cast<std::uint8_t>(k));
    Bytes block = SimpleBlock(1, static_cast<std::int16_t>(33 * k), k == 0, payload);
    cluster.insert(cluster.end(), block.begin(), block.end());
  }
  return Cat({EbmlHeader(), UnknownSize(0x18538067), Element(0x1549A966, Uint(0x2AD7B1, 1000000)),
              Element(0x1654AE6B, Element(0xAE, Cat({Uint(0xD7, 1), Uint(0x83, 1), Str(0x86, "V_MPEG4/ISO/AVC"),
                                                     Element(0xE0, Cat({Uint(0xB0, 640), Uint(0xBA, 360)}))}))),
              Element(0x1254C367, Element(0x7373, Cat({SimpleTag("AWS_KINESISVIDEO_FRAGMENT_NUMBER", number),
                                                      SimpleTag("AWS_KINESISVIDEO_SERVER_TIMESTAMP", "1511852109.126"),
                                                      SimpleTag("AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", "1511852108.513")}))),
              cluster,
              Element(0x1254C367, Element(0x7373, Cat({SimpleTag("AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", "15858"),
                                                      SimpleTag("AWS_KINESISVIDEO_CONTINUATION_TOKEN", number)})))});
}

}  // namespace kvs_test
