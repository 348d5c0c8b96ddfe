// Bounds on what hostile input can make the parser hold or believe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvs {

struct Limits {
  std::uint64_t max_frame_size = 64ull << 20;          // one frame (or one laced/grouped block)
  std::uint64_t max_buffered_element = 16ull << 20;    // a value held whole: CodecPrivate, a tag string
  std::uint64_t max_element_size = 1ull << 30;         // any known size but Segment and Cluster
  std::uint64_t max_segment_size = 1ull << 40;         // Segment and Cluster known sizes
  std::uint32_t max_depth = 32;                        // nesting of master elements
  std::uint32_t max_tags_per_fragment = 4096;
  std::uint32_t max_tracks = 128;
  std::uint64_t max_fragment_metadata = 16ull << 20;  // bytes of tags and tracks kept per fragment
};

}  // namespace kvs
