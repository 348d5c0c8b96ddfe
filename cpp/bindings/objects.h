// The Python-visible objects built from parser events. Plain C++ so they can be made without the GIL.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kvs_parser/types.h"

namespace kvs::py_binding {

// A frame that owns its bytes; Python sees them through the buffer protocol (no further copy).
struct FrameObject {
  std::uint64_t track_number = 0;
  std::int64_t timecode = 0;
  std::int64_t cluster_timecode = 0;
  std::int64_t pts_ms = 0;
  std::optional<std::uint64_t> duration;
  bool is_keyframe = false;
  bool is_invisible = false;
  bool is_discardable = false;
  bool in_block_group = false;
  bool is_content_encoded = false;
  Lacing lacing = Lacing::kNone;
  std::uint32_t lace_index = 0;
  std::uint64_t block_offset = 0;
  std::uint64_t fragment_index = 0;
  std::optional<std::int64_t> producer_time_ms;
  // Shared by all frames of a fragment until its metadata changes, so a frame costs no string copies.
  std::shared_ptr<const FragmentMetadata> fragment;
  std::vector<std::uint8_t> bytes;
};

// What on_frame_begin sees of a block before its payload is read.
struct BlockHeader {
  std::uint64_t track_number = 0;
  std::int64_t timecode = 0;
  std::int64_t cluster_timecode = 0;
  std::int64_t pts_ms = 0;
  bool is_keyframe = false;
  bool in_block_group = false;
  Lacing lacing = Lacing::kNone;
  std::uint64_t block_offset = 0;
  std::uint64_t fragment_index = 0;
  std::uint64_t payload_size = 0;
};

const char* LacingName(Lacing lacing);

}  // namespace kvs::py_binding
