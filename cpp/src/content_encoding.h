// Undoing a track's ContentEncodings (Matroska: header stripping, zlib) on a frame or on CodecPrivate.
#pragma once

#include <cstdint>
#include <vector>

#include "kvs_parser/types.h"

namespace kvs {

enum class DecodeStatus : std::uint8_t {
  kUnchanged,    // no encoding applies to this scope: use the input as it is
  kDecoded,      // `out` holds the decoded bytes
  kUnsupported,  // encryption, bzlib or lzo1x (or zlib in a build without it): the input is as stored
  kCorrupt,      // a zlib stream that does not inflate
  kTooLarge,     // it inflates past `max_size`
};

// Content scopes (ContentEncodingScope bits).
constexpr std::uint64_t kScopeFrames = 0x1;
constexpr std::uint64_t kScopeCodecPrivate = 0x2;

// Whether any encoding applies to `scope`.
bool AppliesTo(const std::vector<ContentEncoding>& encodings, std::uint64_t scope);

// Undoes, highest ContentEncodingOrder first, every encoding whose scope includes `scope`. The output
// never exceeds `max_size` bytes.
DecodeStatus Decode(const std::vector<ContentEncoding>& encodings, std::uint64_t scope, ByteView in,
                    std::uint64_t max_size, std::vector<std::uint8_t>* out);

const char* DecodeStatusText(DecodeStatus status);

}  // namespace kvs
