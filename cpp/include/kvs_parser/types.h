// What the parser reports: tracks, tags, frames and KVS fragment metadata.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kvs {

// A read-only view over bytes owned elsewhere (the caller's chunk or the parser's buffer).
struct ByteView {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

// One ContentEncoding of a track (Matroska ContentEncodings), defaults as the spec gives them.
struct ContentEncoding {
  std::uint64_t order = 0;  // decoding starts with the highest order
  std::uint64_t scope = 1;  // bit 0x1: frame contents, 0x2: CodecPrivate, 0x4: the next encoding's settings
  std::uint64_t type = 0;   // 0 compression, 1 encryption
  std::uint64_t compression_algorithm = 0;  // 0 zlib, 1 bzlib, 2 lzo1x, 3 header stripping
  std::vector<std::uint8_t> compression_settings;  // header stripping: the bytes stripped from each frame
  bool encrypted = false;  // a ContentEncryption is present: frames cannot be decoded here
  std::optional<std::uint64_t> encryption_algorithm;  // ContentEncAlgo
};

struct TrackInfo {
  std::uint64_t number = 0;
  std::uint64_t uid = 0;
  std::uint64_t type = 0;  // 1 video, 2 audio, 17 subtitle, ...
  std::string codec_id;
  std::string codec_name;
  std::vector<std::uint8_t> codec_private;
  std::string name;
  std::optional<std::uint64_t> default_duration_ns;
  std::optional<std::uint64_t> codec_delay_ns;    // CodecDelay: samples to drop at the start (Opus)
  std::optional<std::uint64_t> seek_pre_roll_ns;  // SeekPreRoll: decode this much before a seek target
  std::optional<std::uint64_t> pixel_width;
  std::optional<std::uint64_t> pixel_height;
  std::optional<double> sampling_frequency;
  std::optional<std::uint64_t> channels;
  std::optional<std::uint64_t> bit_depth;
  // In stream order. Header stripping and zlib are undone on frames (and on CodecPrivate when its scope
  // says so); codec_private holds the decoded bytes.
  std::vector<ContentEncoding> content_encodings;
};

struct Tag {
  std::string name;
  std::string value;               // TagString (NUL padding stripped)
  std::vector<std::uint8_t> binary;  // TagBinary
  bool is_binary = false;
  std::uint32_t depth = 0;         // 0 for a SimpleTag directly in a Tag, 1+ when nested
};

// KVS metadata of one fragment (= one Matroska Segment), from its AWS_KINESISVIDEO_* tags.
struct FragmentMetadata {
  std::optional<std::string> fragment_number;  // a decimal string too long for 64 bits
  std::optional<std::int64_t> server_timestamp_ms;
  std::optional<std::int64_t> producer_timestamp_ms;
  std::optional<std::int64_t> millis_behind_now;
  std::optional<std::string> continuation_token;
  std::optional<std::string> error_code;      // ERROR_CODE: text description (or EXCEPTION_MESSAGE)
  std::optional<std::int64_t> error_id;       // ERROR_ID / EXCEPTION_ERROR_CODE: integer code (e.g. 4000)
  std::optional<std::string> error_message;   // GetMediaForFragmentList's EXCEPTION_MESSAGE
};

struct FragmentStart {
  std::uint64_t index = 0;   // 0-based count of Segments in the stream
  std::uint64_t offset = 0;  // byte offset of the Segment header
};

struct FragmentEnd {
  std::uint64_t index = 0;
  std::uint64_t start_offset = 0;
  std::uint64_t end_offset = 0;
  bool complete = true;  // false when the stream was cut or corrupt inside the Segment
  std::uint64_t frame_count = 0;
  std::uint64_t timecode_scale = 1000000;
  FragmentMetadata metadata;
  std::vector<Tag> tags;           // every SimpleTag of the Segment, in stream order
  std::vector<TrackInfo> tracks;   // the Segment's TrackEntries
};

enum class Lacing : std::uint8_t { kNone = 0, kXiph = 1, kFixed = 2, kEbml = 3 };

struct Frame {
  std::uint64_t track_number = 0;
  std::int16_t timecode = 0;          // relative to the Cluster
  std::int64_t cluster_timecode = 0;  // in TimecodeScale units
  // (cluster + relative) * TimecodeScale, in milliseconds; lace i > 0 of a block adds i x the track's
  // DefaultDuration (all laces carry the block's time when the track has none).
  std::int64_t pts_ms = 0;
  std::optional<std::uint64_t> duration;  // BlockDuration, in TimecodeScale units
  bool is_keyframe = false;
  bool is_invisible = false;
  bool is_discardable = false;
  bool in_block_group = false;
  // The track's ContentEncoding could not be undone (encryption, bzlib, lzo1x, a corrupt zlib stream):
  // the bytes are as stored.
  bool is_content_encoded = false;
  Lacing lacing = Lacing::kNone;
  std::uint32_t lace_index = 0;  // position within a laced block
  std::uint64_t block_offset = 0;  // byte offset of the block element
  std::uint64_t fragment_index = 0;
  // The fragment's producer timestamp plus this frame's offset within the fragment (when known).
  std::optional<std::int64_t> producer_time_ms;
  const FragmentMetadata* fragment = nullptr;  // the latest KVS fragment metadata before this frame
  // The frame's bytes. In Callback::OnFrameBegin, data is empty and payload_size is the block's payload
  // (lacing included, before any decoding).
  ByteView data;
  std::uint64_t payload_size = 0;
  // When the payload was assembled across chunks, the parser's buffer holding it; a consumer may
  // std::move it out to take the bytes without a copy (the parser then starts a fresh buffer).
  std::vector<std::uint8_t>* owned = nullptr;
};

}  // namespace kvs
