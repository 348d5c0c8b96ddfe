// libFuzzer target for the streaming parser core.
//
// Input layout: a 4-byte control prefix, then the stream.
//   byte 0, bit 0: 1 = tight Limits (small buffers, shallow nesting), 0 = the defaults
//   byte 0, bit 1: 1 = OnFrameBegin skips some blocks (chosen by track and offset, so in every chunking)
//   bytes 1-3:     chunk sizes (value + 1), used in turn to split the stream into Feed() calls
//
// The stream is parsed three times: in the fuzzer-chosen chunks, in one Feed(), and one byte per
// Feed(). All three must report exactly the same events. On top of what ASan/UBSan catch, each run
// checks the parser's own promises: every byte is consumed, error offsets lie inside the stream,
// frames respect max_frame_size, memory_in_use() stays within what the Limits allow, and a closed
// parser ignores further input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kvs_parser/callback.h"
#include "kvs_parser/limits.h"
#include "kvs_parser/status.h"
#include "kvs_parser/stream_parser.h"

namespace {

constexpr std::size_t kPrefix = 4;
constexpr std::size_t kBytewiseMax = 1 << 16;  // one-byte feeds get slow beyond this

[[noreturn]] void Die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "invariant violated: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Mixes every byte of a buffer, so ASan sees each one read and the log catches content changes.
std::uint64_t Hash(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t k = 0; k < size; ++k) h = (h ^ data[k]) * 1099511628211ull;
  return h;
}

std::uint64_t HashString(const std::string& s) {
  return Hash(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

class Recorder : public kvs::Callback {
 public:
  Recorder(const kvs::Limits& limits, std::uint64_t stream_size, bool skip_some)
      : limits_(limits), stream_size_(stream_size), skip_some_(skip_some) {}

  std::string log;

  void OnFragmentStart(const kvs::FragmentStart& s) override {
    Line("start " + std::to_string(s.index) + "@" + std::to_string(s.offset));
    if (s.offset > stream_size_) Die("fragment start beyond the stream", log);
  }
  void OnTracks(const std::vector<kvs::TrackInfo>& tracks) override {
    for (const kvs::TrackInfo& t : tracks) {
      Line("track " + std::to_string(t.number) + " " + std::to_string(HashString(t.codec_id)) + " " +
           std::to_string(Hash(t.codec_private.data(), t.codec_private.size())) + " delay" +
           std::to_string(t.codec_delay_ns.value_or(0)) + " preroll" + std::to_string(t.seek_pre_roll_ns.value_or(0)) +
           " dd" + std::to_string(t.default_duration_ns.value_or(0)));
      for (const kvs::ContentEncoding& e : t.content_encodings) {
        Line("  encoding o" + std::to_string(e.order) + " s" + std::to_string(e.scope) + " t" + std::to_string(e.type) +
             " a" + std::to_string(e.compression_algorithm) + " e" + std::to_string(e.encrypted) + " h" +
             std::to_string(Hash(e.compression_settings.data(), e.compression_settings.size())));
      }
    }
  }
  kvs::FrameAction OnFrameBegin(const kvs::Frame& f) override {
    if (f.data.size != 0) Die("OnFrameBegin with frame data", log);
    if (f.payload_size > limits_.max_frame_size) Die("block larger than max_frame_size offered", log);
    Line("begin t" + std::to_string(f.track_number) + " @" + std::to_string(f.block_offset) + " n" +
         std::to_string(f.payload_size) + " pts" + std::to_string(f.pts_ms));
    const bool skip = skip_some_ && (f.track_number + f.block_offset) % 3 == 0;
    return skip ? kvs::FrameAction::kSkip : kvs::FrameAction::kRead;
  }

  void OnFrame(kvs::Frame& f) override {
    if (f.data.size > limits_.max_frame_size) Die("frame larger than max_frame_size", log);
    if (f.block_offset >= stream_size_) Die("frame block offset beyond the stream", log);
    if (f.fragment == nullptr) Die("frame without fragment metadata", log);
    const std::string number = f.fragment->fragment_number.value_or("-");
    Line("frame t" + std::to_string(f.track_number) + " tc" + std::to_string(f.timecode) + " c" +
         std::to_string(f.cluster_timecode) + " pts" + std::to_string(f.pts_ms) + " k" +
         std::to_string(f.is_keyframe) + " l" + std::to_string(f.lace_index) + " @" +
         std::to_string(f.block_offset) + " n" + std::to_string(f.data.size) + " h" +
         std::to_string(Hash(f.data.data, f.data.size)) + " fn" + number + " enc" +
         std::to_string(f.is_content_encoded) + " pt" + std::to_string(f.producer_time_ms.value_or(-1)));
    if (f.owned != nullptr && (f.owned->data() != f.data.data || f.owned->size() != f.data.size)) {
      Die("owned buffer is not the frame's bytes", log);
    }
  }
  void OnTags(const std::vector<kvs::Tag>& tags) override {
    for (const kvs::Tag& t : tags) {
      Line("tag " + std::to_string(HashString(t.name)) + "=" + std::to_string(HashString(t.value)) + " " +
           std::to_string(Hash(t.binary.data(), t.binary.size())) + " d" + std::to_string(t.depth));
    }
  }
  void OnFragmentEnd(const kvs::FragmentEnd& e) override {
    Line("end " + std::to_string(e.index) + " " + std::to_string(e.start_offset) + "-" +
         std::to_string(e.end_offset) + " complete=" + std::to_string(e.complete) +
         " frames=" + std::to_string(e.frame_count) + " tags=" + std::to_string(e.tags.size()) +
         " tracks=" + std::to_string(e.tracks.size()));
    if (e.end_offset > stream_size_ || e.start_offset > e.end_offset) Die("fragment bounds", log);
    // AWS_KINESISVIDEO_* tags are not charged to the limit; up to 256 of them come on top.
    if (e.tags.size() > limits_.max_tags_per_fragment + 256) Die("more tags than max_tags_per_fragment", log);
    if (e.tracks.size() > limits_.max_tracks) Die("more tracks than max_tracks", log);
  }
  void OnError(const kvs::ParseError& e) override {
    Line("error " + std::string(kvs::ErrorCodeName(e.code)) + "@" + std::to_string(e.offset) + " " +
         e.element_path);
    if (e.offset > stream_size_) Die("error offset beyond the stream", log);
    if (e.message.empty()) Die("error without a message", log);
  }

 private:
  void Line(const std::string& line) {
    log += line;
    log += '\n';
  }

  kvs::Limits limits_;
  std::uint64_t stream_size_;
  bool skip_some_;
};

kvs::Limits ChooseLimits(std::uint8_t control) {
  kvs::Limits limits;
  if ((control & 1) != 0) {
    limits.max_frame_size = 512;
    limits.max_buffered_element = 128;
    limits.max_element_size = 4096;
    limits.max_segment_size = 1 << 16;
    limits.max_depth = 6;
    limits.max_tags_per_fragment = 8;
    limits.max_tracks = 2;
    limits.max_fragment_metadata = 256;
  }
  return limits;
}

// What memory_in_use() may reach under `limits`: one frame buffer, one BlockGroup payload and one
// decoded (ContentEncoding undone) frame, one buffered value, the metadata budget, and the element stack, tag and track vectors (counted twice
// for vector growth).
std::size_t MemoryBound(const kvs::Limits& limits) {
  return static_cast<std::size_t>(3 * limits.max_frame_size + limits.max_buffered_element +
                                  limits.max_fragment_metadata) +
         4 * (limits.max_depth + 1) * 64 + 4 * (limits.max_tags_per_fragment + 256 + 1) * sizeof(kvs::Tag) +
         4 * (limits.max_tracks + 1) * sizeof(kvs::TrackInfo);
}

void CheckMemory(const kvs::StreamParser& parser, std::size_t bound, const std::string& log) {
  if (parser.memory_in_use() > bound || parser.peak_memory() > bound) {
    Die("memory over the bound the limits allow",
        std::to_string(parser.peak_memory()) + " > " + std::to_string(bound) + "\n" + log);
  }
}

// Parses `stream` fed in chunks of the sizes `chunks` (cycled; empty = all at once) and returns the log.
std::string Run(const std::uint8_t* stream, std::size_t size, const std::vector<std::size_t>& chunks,
                const kvs::Limits& limits, bool skip_some) {
  Recorder recorder(limits, size, skip_some);
  kvs::StreamParser parser(recorder, limits);
  const std::size_t bound = MemoryBound(limits);
  std::size_t at = 0;
  std::size_t turn = 0;
  while (at < size) {
    std::size_t take = chunks.empty() ? size - at : chunks[turn++ % chunks.size()];
    if (take > size - at) take = size - at;
    parser.Feed(stream + at, take);
    at += take;
    if (parser.bytes_consumed() != at) Die("Feed did not consume its whole chunk", recorder.log);
    CheckMemory(parser, bound, recorder.log);
  }
  parser.Close();
  CheckMemory(parser, bound, recorder.log);
  if (!parser.closed()) Die("not closed after Close()", recorder.log);
  const std::string before = recorder.log;
  static const std::uint8_t kMore[] = {0x1A, 0x45, 0xDF, 0xA3, 0x80};
  parser.Feed(kMore, sizeof kMore);
  parser.Close();
  if (recorder.log != before || parser.bytes_consumed() != size) Die("a closed parser reacted to input", before);
  if (parser.error_count() != 0 && recorder.log.find("error ") == std::string::npos) {
    Die("error_count without an OnError", recorder.log);
  }
  return recorder.log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kPrefix) return 0;
  const kvs::Limits limits = ChooseLimits(data[0]);
  const bool skip_some = (data[0] & 2) != 0;
  const std::vector<std::size_t> chunks = {std::size_t{data[1]} + 1, std::size_t{data[2]} + 1,
                                           std::size_t{data[3]} + 1};
  const std::uint8_t* stream = data + kPrefix;
  const std::size_t stream_size = size - kPrefix;

  const std::string chosen = Run(stream, stream_size, chunks, limits, skip_some);
  const std::string whole = Run(stream, stream_size, {}, limits, skip_some);
  if (chosen != whole) Die("fuzzer-chosen chunks and one Feed() disagree", "chunks:\n" + chosen + "whole:\n" + whole);
  if (stream_size <= kBytewiseMax) {
    const std::string bytewise = Run(stream, stream_size, {1}, limits, skip_some);
    if (bytewise != whole) Die("one-byte feeds and one Feed() disagree", "bytes:\n" + bytewise + "whole:\n" + whole);
  }
  return 0;
}
