// The incremental KVS/Matroska parser: feed it bytes in any chunking, get events as soon as each
// element is complete. A resumable state machine: running out of input is a normal state, not an error.
//
// Its parts, one file each in cpp/src: the EBML reader (ebml_reader.cc: element headers, vints,
// skipping, the element stack, errors and resynchronisation), the Matroska/KVS schema (schema.cc: one
// table row per element; matroska.cc: what each row does) and the block reader (block_reader.cc: block
// header, skip-before-copy, lacing, payload, ContentEncoding). stream_parser.cc ties them together.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kvs_parser/callback.h"
#include "kvs_parser/limits.h"
#include "kvs_parser/status.h"
#include "kvs_parser/types.h"

namespace kvs {

struct ElementSpec;
class Matroska;

class StreamParser {
 public:
  explicit StreamParser(Callback& callback, Limits limits = {});
  StreamParser(const StreamParser&) = delete;
  StreamParser& operator=(const StreamParser&) = delete;

  // Parses all of `data`. Events reach the callback during the call. Errors are reported through
  // Callback::OnError and parsing resynchronises within the same call; nothing is thrown.
  void Feed(const std::uint8_t* data, std::size_t size);
  // Ends the stream: closes unknown-size elements, reports a truncation if it ends mid-element.
  void Close();

  bool closed() const { return state_ == State::kClosed; }
  std::uint64_t bytes_consumed() const { return pos_; }
  std::uint64_t error_count() const { return error_count_; }
  std::uint64_t fragment_count() const { return fragment_index_; }
  // Bytes the parser itself holds (buffers, tags, tracks): its own accounting, bounded by Limits.
  std::size_t memory_in_use() const;
  std::size_t peak_memory() const { return peak_memory_; }
  const Limits& limits() const { return limits_; }

 private:
  enum class State {
    kHeader,        // reading an element ID and size
    kValue,         // buffering a small leaf value
    kSkip,          // skipping an element's body
    kBlockHeader,   // reading a block's track number, timecode and flags
    kFramePayload,  // streaming an unlaced SimpleBlock's payload
    kBlockBody,     // buffering a laced block or a BlockGroup's Block
    kResync,        // scanning for an EBML header, Segment or Cluster after corruption
    kClosed,
  };

  friend class Matroska;  // the schema's handlers update the fragment, tracks and tags being read

  struct OpenElement {
    std::uint32_t id;
    std::uint64_t start;  // offset of the element header
    std::uint64_t end;    // offset just past its body; meaningless when unknown_size
    bool unknown_size;
    const ElementSpec* spec;  // its schema row (what to do at its end)
  };

  struct Header {
    std::uint32_t id = 0;
    std::uint64_t size = 0;
    bool unknown_size = false;
    std::uint64_t start = 0;
    std::uint32_t length = 0;
  };

  struct Segment {
    bool open = false;
    FragmentEnd info;
    std::int64_t cluster_timecode = 0;
    // The latest KVS metadata seen: what frames carry (a merged Segment holds several fragments).
    FragmentMetadata current_fragment;
    // Absolute time (ms) of the current KVS fragment's first cluster: frames' offsets are taken from it.
    std::optional<std::int64_t> fragment_start_ms;
    // AWS_KINESISVIDEO_* SimpleTags kept: not charged to max_tags_per_fragment (resuming needs them).
    std::uint32_t kvs_tags = 0;
    bool has_frame_encodings = false;  // a track whose frames need ContentEncoding undone
    // info.timecode_scale prepared for each frame's conversion to ms (timing.h PrepareMillis).
    std::int64_t ms_per_tick = 1;
    std::int64_t ms_tick_limit = INT64_MAX;
  };

  struct PendingBlock {
    bool present = false;
    bool has_reference = false;
    std::optional<std::uint64_t> duration;
    Frame frame;
    std::vector<std::uint8_t> payload;
  };

  // One step of the state machine; each consumes input from data[*i] and returns false when it
  // needs more bytes.
  bool StepHeader(const std::uint8_t* data, std::size_t size, std::size_t* i);
  bool StepValue(const std::uint8_t* data, std::size_t size, std::size_t* i);
  bool StepSkip(std::size_t size, std::size_t* i);
  bool StepBlockHeader(const std::uint8_t* data, std::size_t size, std::size_t* i);
  bool StepFramePayload(const std::uint8_t* data, std::size_t size, std::size_t* i);
  bool StepBlockBody(const std::uint8_t* data, std::size_t size, std::size_t* i);
  bool StepResync(const std::uint8_t* data, std::size_t size, std::size_t* i);

  // The rest of the current element's body: a view into `data` when it is all there, else gathered
  // in payload_ across chunks. False while bytes are missing.
  bool GatherBody(const std::uint8_t* data, std::size_t size, std::size_t* i, ByteView* body);
  void StartElement();
  void StartTopLevel();
  void StartMaster(const ElementSpec& spec, std::uint64_t end);
  void StartValue(const ElementSpec& spec);
  void StartBlock();
  void HandleValue(const std::uint8_t* data, std::size_t size);
  void FinishBlockHeader();
  void EmitLacedBlock(Frame frame, std::vector<std::uint8_t>* payload, const std::uint8_t* data,
                      std::size_t size);
  // Undoes the track's ContentEncoding, then stamps and delivers the frame.
  void EmitFrame(Frame& frame);
  // Times the frame (pts, producer time) and ties it to its fragment.
  void Stamp(Frame& frame);
  const TrackInfo* FindTrack(std::uint64_t number) const;
  void CloseFinishedElements();
  void CloseTop(bool complete);
  void CloseAll(bool complete);
  void OnElementEnd(const OpenElement& element, bool complete);
  void OpenSegment(std::uint64_t offset, bool unknown_size, std::uint64_t end);
  void CloseSegment(bool complete);
  void Push(std::uint32_t id, std::uint64_t end, bool unknown_size, const ElementSpec* spec);

  // Reports an error that leaves the parser at a known element boundary: parsing goes on.
  void Report(ErrorCode code, std::uint64_t offset, const std::string& message, const std::string& path);
  // Reports an error after which element boundaries are lost: scan for the next sync element. With
  // `replay_header`, the bytes of the failed header after its first are scanned too.
  void Fail(ErrorCode code, const std::string& message, bool replay_header);
  void ScanForSync(const std::uint8_t* data, std::size_t size, std::uint64_t offset);
  // Reports an error in the current element and skips the rest of it.
  void RejectCurrent(ErrorCode code, const std::string& message);
  bool ChargeMetadata(std::size_t bytes);
  std::string PathWith(std::uint32_t id) const;
  std::uint32_t ParentId() const;
  void TouchMemory();

  Callback& callback_;
  Limits limits_;
  State state_ = State::kHeader;
  std::uint64_t pos_ = 0;  // absolute offset of the next byte to consume
  std::uint64_t error_count_ = 0;
  std::uint64_t fragment_index_ = 0;
  std::size_t peak_memory_ = 0;

  std::vector<OpenElement> stack_;
  std::array<std::uint8_t, 12> header_bytes_{};
  std::uint32_t header_fill_ = 0;
  Header current_;  // the element being read (leaf, block or skipped body)
  const ElementSpec* current_spec_ = nullptr;  // its schema row, for leaf values
  std::uint64_t remaining_ = 0;  // body bytes of current_ still to consume

  std::vector<std::uint8_t> value_;  // kValue buffer
  std::array<std::uint8_t, 11> block_header_{};
  std::uint32_t block_header_fill_ = 0;
  Frame block_;  // the block being read
  std::vector<std::uint8_t> payload_;  // kFramePayload / kBlockBody buffer
  std::vector<std::uint8_t> decoded_;  // a frame with its ContentEncoding undone

  Segment segment_;
  std::vector<TrackInfo> tracks_batch_;  // TrackEntries of the Tracks element being read
  TrackInfo track_;
  std::vector<Tag> tags_batch_;  // SimpleTags of the Tags element being read
  std::vector<std::size_t> simple_tag_stack_;  // indices into tags_batch_ of open SimpleTags
  PendingBlock group_;

  std::uint32_t sync_window_ = 0;
  std::uint32_t sync_fill_ = 0;
  bool resync_candidate_ = false;  // the header being read was found by StepResync
  std::array<std::uint8_t, 12> replay_{};  // the last header read, for ScanForSync after a failure
  std::uint32_t replay_size_ = 0;
  std::uint64_t metadata_bytes_ = 0;  // tags and tracks held for the open fragment
};

}  // namespace kvs
