#include "kvs_parser/stream_parser.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "kvs_parser/ids.h"
#include "kvs_tags.h"
#include "lacing.h"
#include "values.h"
#include "vint.h"

namespace kvs {

namespace {

constexpr std::uint32_t Raw(Id id) { return static_cast<std::uint32_t>(id); }

bool IsTopLevel(std::uint32_t id) { return id == Raw(Id::kEbml) || id == Raw(Id::kSegment); }

bool IsSyncId(std::uint32_t id) { return IsTopLevel(id) || id == Raw(Id::kCluster); }

// Level-1 elements: an unknown-size Cluster ends where one of these starts.
bool IsSegmentChild(std::uint32_t id) {
  switch (static_cast<Id>(id)) {
    case Id::kSeekHead:
    case Id::kInfo:
    case Id::kTracks:
    case Id::kCluster:
    case Id::kCues:
    case Id::kChapters:
    case Id::kTags:
    case Id::kAttachments:
      return true;
    default:
      return false;
  }
}

std::string ElementName(std::uint32_t id) {
  if (const char* name = IdName(id)) return name;
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%X", id);
  return hex;
}

constexpr std::int64_t kMaxTicks = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinTicks = std::numeric_limits<std::int64_t>::min();
// AWS_KINESISVIDEO_* tags a fragment may carry besides max_tags_per_fragment user tags (KVS sends ~6).
constexpr std::uint32_t kKvsTagAllowance = 256;
constexpr char kKvsTagPrefix[] = "AWS_KINESISVIDEO_";

// a + b and a - b clamped to the int64 range: hostile Timecodes near 2^63 must not overflow.
std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) {
  if (b > 0 && a > kMaxTicks - b) return kMaxTicks;
  if (b < 0 && a < kMinTicks - b) return kMinTicks;
  return a + b;
}

std::int64_t SaturatingSub(std::int64_t a, std::int64_t b) {
  if (b < 0 && a > kMaxTicks + b) return kMaxTicks;
  if (b > 0 && a < kMinTicks + b) return kMinTicks;
  return a - b;
}

// Cluster timecode + block timecode.
std::int64_t AddTicks(std::int64_t cluster, std::int16_t relative) { return SaturatingAdd(cluster, relative); }

// Absolute time of a block in milliseconds, exact when the scale is a multiple or divisor of 1 ms.
// Results outside the int64 range (only from hostile Timecode/TimecodeScale values) saturate.
std::int64_t ToMillis(std::int64_t ticks, std::uint64_t timecode_scale) {
  constexpr std::uint64_t kNsPerMs = 1000000;
  if (timecode_scale % kNsPerMs == 0) {
    const std::uint64_t factor = timecode_scale / kNsPerMs;
    const std::uint64_t magnitude = ticks < 0 ? 0 - static_cast<std::uint64_t>(ticks) : static_cast<std::uint64_t>(ticks);
    if (magnitude > static_cast<std::uint64_t>(kMaxTicks) / factor) return ticks < 0 ? kMinTicks : kMaxTicks;
    return ticks * static_cast<std::int64_t>(factor);
  }
  if (kNsPerMs % timecode_scale == 0) {
    // Floor division, written so that ticks = INT64_MIN is not negated.
    const std::int64_t divisor = static_cast<std::int64_t>(kNsPerMs / timecode_scale);
    const std::int64_t quotient = ticks / divisor;
    return ticks % divisor < 0 ? quotient - 1 : quotient;
  }
  const long double ms = static_cast<long double>(ticks) * timecode_scale / kNsPerMs;
  if (ms >= static_cast<long double>(kMaxTicks)) return kMaxTicks;
  if (ms <= static_cast<long double>(kMinTicks)) return kMinTicks;
  return static_cast<std::int64_t>(ms);
}

}  // namespace

StreamParser::StreamParser(Callback& callback, Limits limits) : callback_(callback), limits_(limits) {}

void StreamParser::Feed(const std::uint8_t* data, std::size_t size) {
  std::size_t i = 0;
  bool progress = true;
  while (progress) {
    switch (state_) {
      case State::kHeader: progress = StepHeader(data, size, &i); break;
      case State::kValue: progress = StepValue(data, size, &i); break;
      case State::kSkip: progress = StepSkip(size, &i); break;
      case State::kBlockHeader: progress = StepBlockHeader(data, size, &i); break;
      case State::kFramePayload: progress = StepFramePayload(data, size, &i); break;
      case State::kBlockBody: progress = StepBlockBody(data, size, &i); break;
      case State::kResync: progress = StepResync(data, size, &i); break;
      case State::kClosed: progress = false; break;
    }
  }
  TouchMemory();
}

void StreamParser::Close() {
  if (state_ == State::kClosed) return;
  if (state_ == State::kResync) {
    CloseAll(false);
  } else {
    CloseFinishedElements();
    const bool mid_element = state_ != State::kHeader || header_fill_ > 0;
    const auto known = std::find_if(stack_.rbegin(), stack_.rend(),
                                    [](const OpenElement& e) { return !e.unknown_size; });
    if (mid_element) {
      // A header cut before its ID and size were read names no element yet.
      const bool in_header = state_ == State::kHeader;
      const std::string what = in_header ? "an element header" : ElementName(current_.id);
      Report(ErrorCode::kTruncated, current_.start,
             "stream ends inside " + what + " (" + std::to_string(pos_ - current_.start) + " bytes of it read)",
             in_header ? PathWith(0) : PathWith(current_.id));
    } else if (known != stack_.rend()) {
      Report(ErrorCode::kTruncated, known->start,
             "stream ends " + std::to_string(known->end - pos_) + " bytes before the end of " +
                 ElementName(known->id),
             PathWith(0));
    }
    CloseAll(!mid_element && known == stack_.rend());
  }
  state_ = State::kClosed;
  TouchMemory();
}

// ---- element headers -------------------------------------------------------------------------

bool StreamParser::StepHeader(const std::uint8_t* data, std::size_t size, std::size_t* i) {
  if (header_fill_ == 0) {
    CloseFinishedElements();
    if (*i == size) return false;
    current_.start = pos_;
  }
  std::uint32_t need = 1;
  while (true) {
    if (header_fill_ > 0) {
      const std::uint32_t id_length = VintLength(header_bytes_[0]);
      if (id_length == 0 || id_length > 4) {
        replay_ = header_bytes_;
        replay_size_ = header_fill_;
        header_fill_ = 0;
        current_.id = 0;
        Fail(id_length == 0 ? ErrorCode::kInvalidVint : ErrorCode::kInvalidId,
             "invalid element ID first byte 0x" + [&] {
               char hex[4];
               std::snprintf(hex, sizeof hex, "%02X", replay_[0]);
               return std::string(hex);
             }(),
             true);
        return true;
      }
      if (header_fill_ <= id_length) {
        need = id_length + 1;
      } else {
        const std::uint32_t size_length = VintLength(header_bytes_[id_length]);
        if (size_length == 0) {
          replay_ = header_bytes_;
          replay_size_ = header_fill_;
          header_fill_ = 0;
          current_.id = IdValue(replay_.data(), id_length);
          Fail(ErrorCode::kInvalidVint, "invalid element size (length marker missing)", true);
          return true;
        }
        need = id_length + size_length;
        // `>`: a header replayed by ScanForSync may arrive with bytes that follow it (see below).
        if (header_fill_ >= need) {
          current_.id = IdValue(header_bytes_.data(), id_length);
          current_.size = VintValue(header_bytes_.data() + id_length, size_length, &current_.unknown_size);
          current_.length = need;
          break;
        }
      }
    }
    if (*i == size) return false;
    const std::uint32_t take = static_cast<std::uint32_t>(std::min<std::size_t>(need - header_fill_, size - *i));
    std::memcpy(header_bytes_.data() + header_fill_, data + *i, take);
    header_fill_ += take;
    *i += take;
    pos_ += take;
  }
  // A sync ID found inside a failed, longer header comes with the bytes after it, already consumed
  // (header_fill_ > length). They belong to this element's body or the next header: give them back
  // and run them through the state machine like a small chunk. Each nesting has fewer bytes (< 12),
  // so the recursion is bounded.
  const std::uint32_t excess = header_fill_ - current_.length;
  std::array<std::uint8_t, 12> rest{};
  std::memcpy(rest.data(), header_bytes_.data() + current_.length, excess);
  replay_ = header_bytes_;
  replay_size_ = current_.length;
  header_fill_ = 0;
  pos_ -= excess;
  StartElement();
  if (excess > 0) Feed(rest.data(), excess);
  return true;
}

void StreamParser::StartElement() {
  const std::uint32_t id = current_.id;
  if (IsTopLevel(id)) {
    StartTopLevel();
    return;
  }
  while (!stack_.empty() && stack_.back().unknown_size && stack_.back().id == Raw(Id::kCluster) &&
         IsSegmentChild(id)) {
    CloseTop(true);
  }
  if (id == Raw(Id::kCluster)) {
    if (resync_candidate_ && segment_.open) {
      // Recovering inside a fragment: what was open below the Segment is lost, and its end with it.
      while (stack_.size() > 1) CloseTop(false);
      stack_.back().unknown_size = true;
    } else if (!segment_.open) {
      CloseAll(true);
      OpenSegment(current_.start, true, 0);
    }
  }
  const std::uint64_t body = current_.start + current_.length;
  if (current_.unknown_size) {
    if (id != Raw(Id::kCluster)) {
      Fail(ErrorCode::kUnknownSizeNotAllowed, ElementName(id) + " may not have an unknown size", true);
      return;
    }
  } else {
    const std::uint64_t limit = id == Raw(Id::kCluster) ? limits_.max_segment_size : limits_.max_element_size;
    if (current_.size > limit) {
      Fail(ErrorCode::kElementTooLarge,
           ElementName(id) + " claims " + std::to_string(current_.size) + " bytes, over the limit of " +
               std::to_string(limit),
           true);
      return;
    }
    if (!stack_.empty() && !stack_.back().unknown_size && body + current_.size > stack_.back().end) {
      Fail(ErrorCode::kElementOverflowsParent,
           ElementName(id) + " of " + std::to_string(current_.size) + " bytes runs " +
               std::to_string(body + current_.size - stack_.back().end) + " bytes past the end of " +
               ElementName(stack_.back().id),
           true);
      return;
    }
  }
  resync_candidate_ = false;
  const std::uint32_t parent = ParentId();
  const std::uint64_t end = body + current_.size;
  remaining_ = current_.size;
  state_ = State::kHeader;

  switch (static_cast<Id>(id)) {
    case Id::kInfo:
    case Id::kTracks:
      if (parent != Raw(Id::kSegment)) break;
      if (id == Raw(Id::kTracks)) tracks_batch_.clear();
      Push(id, end, false);
      return;
    case Id::kTrackEntry:
      if (parent != Raw(Id::kTracks)) break;
      if (segment_.info.tracks.size() + tracks_batch_.size() >= limits_.max_tracks) {
        RejectCurrent(ErrorCode::kLimitExceeded,
                      "more than " + std::to_string(limits_.max_tracks) + " tracks in one fragment");
        return;
      }
      track_ = TrackInfo{};
      Push(id, end, false);
      return;
    case Id::kVideo:
    case Id::kAudio:
      if (parent != Raw(Id::kTrackEntry)) break;
      Push(id, end, false);
      return;
    case Id::kCluster:
      if (parent != Raw(Id::kSegment)) break;
      segment_.cluster_timecode = 0;
      Push(id, end, current_.unknown_size);
      return;
    case Id::kBlockGroup:
      if (parent != Raw(Id::kCluster) && parent != Raw(Id::kSegment)) break;
      group_ = PendingBlock{};
      Push(id, end, false);
      return;
    case Id::kTags:
      if (!segment_.open || parent == Raw(Id::kTags) || parent == Raw(Id::kTag) ||
          parent == Raw(Id::kSimpleTag)) {
        break;
      }
      tags_batch_.clear();
      simple_tag_stack_.clear();
      Push(id, end, false);
      return;
    case Id::kTag:
      if (parent != Raw(Id::kTags)) break;
      Push(id, end, false);
      return;
    case Id::kSimpleTag:
      if (parent != Raw(Id::kTag) && parent != Raw(Id::kSimpleTag)) break;
      // User tags over the limit are dropped when they end (their name is known then); this bounds
      // what is held meanwhile, AWS_KINESISVIDEO_* tags included.
      if (segment_.info.tags.size() + tags_batch_.size() >= limits_.max_tags_per_fragment + kKvsTagAllowance) {
        RejectCurrent(ErrorCode::kLimitExceeded,
                      "more than " + std::to_string(limits_.max_tags_per_fragment) + " tags in one fragment");
        return;
      }
      if (!Push(id, end, false)) return;
      simple_tag_stack_.push_back(tags_batch_.size());
      tags_batch_.emplace_back();
      tags_batch_.back().depth = static_cast<std::uint32_t>(simple_tag_stack_.size() - 1);
      return;
    case Id::kSimpleBlock:
    case Id::kBlock:
      if (id == Raw(Id::kSimpleBlock) ? (parent != Raw(Id::kCluster) && parent != Raw(Id::kSegment))
                                      : parent != Raw(Id::kBlockGroup)) {
        break;
      }
      if (current_.size < 4) {
        RejectCurrent(ErrorCode::kInvalidBlock, "block of " + std::to_string(current_.size) + " bytes");
        return;
      }
      block_ = Frame{};
      block_.block_offset = current_.start;
      block_.in_block_group = id == Raw(Id::kBlock);
      block_header_fill_ = 0;
      state_ = State::kBlockHeader;
      return;
    case Id::kTimecodeScale:
    case Id::kTrackNumber:
    case Id::kTrackUid:
    case Id::kTrackType:
    case Id::kCodecId:
    case Id::kCodecName:
    case Id::kCodecPrivate:
    case Id::kName:
    case Id::kDefaultDuration:
    case Id::kPixelWidth:
    case Id::kPixelHeight:
    case Id::kSamplingFrequency:
    case Id::kChannels:
    case Id::kBitDepth:
    case Id::kTimecode:
    case Id::kBlockDuration:
    case Id::kReferenceBlock:
    case Id::kTagName:
    case Id::kTagString:
    case Id::kTagBinary: {
      static constexpr std::pair<Id, Id> kParents[] = {
          {Id::kTimecodeScale, Id::kInfo},       {Id::kTrackNumber, Id::kTrackEntry},
          {Id::kTrackUid, Id::kTrackEntry},      {Id::kTrackType, Id::kTrackEntry},
          {Id::kCodecId, Id::kTrackEntry},       {Id::kCodecName, Id::kTrackEntry},
          {Id::kCodecPrivate, Id::kTrackEntry},  {Id::kName, Id::kTrackEntry},
          {Id::kDefaultDuration, Id::kTrackEntry}, {Id::kPixelWidth, Id::kVideo},
          {Id::kPixelHeight, Id::kVideo},        {Id::kSamplingFrequency, Id::kAudio},
          {Id::kChannels, Id::kAudio},           {Id::kBitDepth, Id::kAudio},
          {Id::kTimecode, Id::kCluster},         {Id::kBlockDuration, Id::kBlockGroup},
          {Id::kReferenceBlock, Id::kBlockGroup}, {Id::kTagName, Id::kSimpleTag},
          {Id::kTagString, Id::kSimpleTag},      {Id::kTagBinary, Id::kSimpleTag},
      };
      const auto* match = std::find_if(std::begin(kParents), std::end(kParents),
                                       [&](const std::pair<Id, Id>& p) { return Raw(p.first) == id; });
      if (Raw(match->second) != parent) break;
      if (current_.size > limits_.max_buffered_element) {
        RejectCurrent(ErrorCode::kElementTooLarge,
                      ElementName(id) + " of " + std::to_string(current_.size) +
                          " bytes is over the buffered-element limit of " +
                          std::to_string(limits_.max_buffered_element));
        return;
      }
      value_.clear();
      state_ = State::kValue;
      return;
    }
    default:
      break;
  }
  // Everything else (SeekHead, Cues, Void, CRC-32, unknown IDs, misplaced elements) is skipped by size.
  state_ = State::kSkip;
}

void StreamParser::StartTopLevel() {
  const bool recovering = resync_candidate_;
  if (!stack_.empty()) {
    const bool all_unknown = std::all_of(stack_.begin(), stack_.end(),
                                         [](const OpenElement& e) { return e.unknown_size; });
    if (!all_unknown && !recovering) {
      Report(ErrorCode::kUnexpectedTopLevel, current_.start,
             ElementName(current_.id) + " inside a known-size " + ElementName(stack_.back().id),
             PathWith(current_.id));
    }
    CloseAll(all_unknown && !recovering);
  }
  if (current_.unknown_size && current_.id == Raw(Id::kEbml)) {
    Fail(ErrorCode::kUnknownSizeNotAllowed, "EBML header may not have an unknown size", true);
    return;
  }
  const std::uint64_t limit = current_.id == Raw(Id::kSegment) ? limits_.max_segment_size : limits_.max_element_size;
  if (!current_.unknown_size && current_.size > limit) {
    Fail(ErrorCode::kElementTooLarge,
         ElementName(current_.id) + " claims " + std::to_string(current_.size) + " bytes, over the limit of " +
             std::to_string(limit),
         true);
    return;
  }
  resync_candidate_ = false;
  remaining_ = current_.size;
  state_ = State::kHeader;
  if (current_.id == Raw(Id::kSegment)) {
    OpenSegment(current_.start, current_.unknown_size, current_.start + current_.length + current_.size);
  } else if (remaining_ > 0) {
    state_ = State::kSkip;  // the EBML header's fields are not needed
  }
}

// ---- bodies ------------------------------------------------------------------------------------

bool StreamParser::StepValue(const std::uint8_t* data, std::size_t size, std::size_t* i) {
  const std::size_t available = size - *i;
  if (value_.empty() && remaining_ <= available) {
    const std::size_t length = static_cast<std::size_t>(remaining_);
    *i += length;
    pos_ += length;
    remaining_ = 0;
    state_ = State::kHeader;
    HandleValue(current_.id, data + *i - length, length);
    return true;
  }
  if (available == 0) return false;
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, available));
  value_.insert(value_.end(), data + *i, data + *i + take);
  *i += take;
  pos_ += take;
  remaining_ -= take;
  if (remaining_ > 0) return false;
  state_ = State::kHeader;
  HandleValue(current_.id, value_.data(), value_.size());
  value_.clear();
  return true;
}

bool StreamParser::StepSkip(std::size_t size, std::size_t* i) {
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size - *i));
  *i += take;
  pos_ += take;
  remaining_ -= take;
  if (remaining_ > 0) return false;
  state_ = State::kHeader;
  return true;
}

bool StreamParser::StepBlockHeader(const std::uint8_t* data, std::size_t size, std::size_t* i) {
  while (true) {
    std::uint32_t need = 1;
    if (block_header_fill_ > 0) {
      const std::uint32_t track_length = VintLength(block_header_[0]);
      if (track_length == 0) {
        RejectCurrent(ErrorCode::kInvalidBlock, "block track number is not a valid vint");
        return true;
      }
      need = track_length + 3;
      if (need > current_.size) {
        RejectCurrent(ErrorCode::kInvalidBlock, "block header longer than the block");
        return true;
      }
      if (block_header_fill_ == need) break;
    }
    if (*i == size) return false;
    const std::uint32_t take = static_cast<std::uint32_t>(std::min<std::size_t>(need - block_header_fill_, size - *i));
    std::memcpy(block_header_.data() + block_header_fill_, data + *i, take);
    block_header_fill_ += take;
    *i += take;
    pos_ += take;
    remaining_ -= take;
  }
  FinishBlockHeader();
  return true;
}

void StreamParser::FinishBlockHeader() {
  const std::uint32_t track_length = VintLength(block_header_[0]);
  block_.track_number = VintValue(block_header_.data(), track_length, nullptr);
  block_.timecode = static_cast<std::int16_t>((block_header_[track_length] << 8) | block_header_[track_length + 1]);
  const std::uint8_t flags = block_header_[track_length + 2];
  const bool simple = !block_.in_block_group;
  block_.is_keyframe = simple && (flags & 0x80) != 0;
  block_.is_invisible = (flags & 0x08) != 0;
  block_.is_discardable = simple && (flags & 0x01) != 0;
  block_.lacing = static_cast<Lacing>((flags >> 1) & 0x03);
  if (remaining_ > limits_.max_frame_size) {
    RejectCurrent(ErrorCode::kFrameTooLarge,
                  "frame of " + std::to_string(remaining_) + " bytes is over the limit of " +
                      std::to_string(limits_.max_frame_size));
    return;
  }
  payload_.clear();
  state_ = simple && block_.lacing == Lacing::kNone ? State::kFramePayload : State::kBlockBody;
}

bool StreamParser::GatherBody(const std::uint8_t* data, std::size_t size, std::size_t* i, ByteView* body) {
  const std::size_t available = size - *i;
  if (payload_.empty() && remaining_ <= available) {
    // The whole rest is in this chunk: a view into it, no copy.
    const std::size_t length = static_cast<std::size_t>(remaining_);
    *body = ByteView{data + *i, length};
    *i += length;
    pos_ += length;
    remaining_ = 0;
    return true;
  }
  if (available == 0) return false;
  if (payload_.empty()) payload_.reserve(static_cast<std::size_t>(remaining_));  // bounded by the limits
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, available));
  payload_.insert(payload_.end(), data + *i, data + *i + take);
  *i += take;
  pos_ += take;
  remaining_ -= take;
  TouchMemory();
  if (remaining_ > 0) return false;
  *body = ByteView{payload_.data(), payload_.size()};
  return true;
}

bool StreamParser::StepFramePayload(const std::uint8_t* data, std::size_t size, std::size_t* i) {
  ByteView body;
  if (!GatherBody(data, size, i, &body)) return false;
  state_ = State::kHeader;
  Frame frame = block_;
  frame.data = body;
  frame.owned = payload_.empty() ? nullptr : &payload_;
  EmitFrame(frame);
  payload_.clear();
  return true;
}

bool StreamParser::StepBlockBody(const std::uint8_t* data, std::size_t size, std::size_t* i) {
  ByteView body;
  if (!GatherBody(data, size, i, &body)) return false;
  state_ = State::kHeader;
  const bool buffered = !payload_.empty();
  if (block_.in_block_group) {
    // Its keyframe flag and duration come from siblings that may follow: emit at BlockGroup end.
    group_.present = true;
    group_.frame = block_;
    if (buffered) {
      group_.payload = std::move(payload_);
    } else {
      group_.payload.assign(body.data, body.data + body.size);
    }
    TouchMemory();
  } else {
    EmitLacedBlock(block_, buffered ? &payload_ : nullptr, body.data, body.size);
  }
  payload_.clear();
  return true;
}

void StreamParser::EmitLacedBlock(Frame frame, std::vector<std::uint8_t>* payload, const std::uint8_t* data,
                                  std::size_t size) {
  if (frame.lacing == Lacing::kNone) {
    frame.data = ByteView{data, size};
    frame.owned = payload;
    EmitFrame(frame);
    return;
  }
  std::vector<ByteView> laces;
  std::string error;
  if (!SplitLaces(frame.lacing, data, size, &laces, &error)) {
    Report(ErrorCode::kInvalidBlock, frame.block_offset, error,
           PathWith(frame.in_block_group ? Raw(Id::kBlock) : Raw(Id::kSimpleBlock)));
    return;
  }
  for (std::size_t k = 0; k < laces.size(); ++k) {
    Frame lace = frame;
    lace.lace_index = static_cast<std::uint32_t>(k);
    lace.data = laces[k];
    lace.owned = nullptr;
    EmitFrame(lace);
  }
}

void StreamParser::EmitFrame(Frame& frame) {
  frame.cluster_timecode = segment_.cluster_timecode;
  frame.pts_ms = ToMillis(AddTicks(segment_.cluster_timecode, frame.timecode), segment_.info.timecode_scale);
  frame.fragment_index = segment_.info.index;
  frame.fragment = &segment_.current_fragment;
  if (!segment_.fragment_start_ms) {
    segment_.fragment_start_ms = ToMillis(segment_.cluster_timecode, segment_.info.timecode_scale);
  }
  if (const auto& producer = segment_.current_fragment.producer_timestamp_ms) {
    frame.producer_time_ms = SaturatingAdd(*producer, SaturatingSub(frame.pts_ms, *segment_.fragment_start_ms));
  }
  ++segment_.info.frame_count;
  callback_.OnFrame(frame);
}

// ---- leaf values -------------------------------------------------------------------------------

void StreamParser::HandleValue(std::uint32_t id, const std::uint8_t* data, std::size_t size) {
  const auto unsigned_value = [&]() -> std::optional<std::uint64_t> {
    auto value = ReadUnsigned(data, size);
    if (!value) {
      Report(ErrorCode::kInvalidValue, current_.start,
             ElementName(id) + " integer of " + std::to_string(size) + " bytes", PathWith(id));
    }
    return value;
  };
  switch (static_cast<Id>(id)) {
    case Id::kTimecodeScale:
      if (auto v = unsigned_value()) {
        if (*v == 0) {
          Report(ErrorCode::kInvalidValue, current_.start, "TimecodeScale of 0", PathWith(id));
        } else {
          segment_.info.timecode_scale = *v;
        }
      }
      return;
    case Id::kTrackNumber: if (auto v = unsigned_value()) track_.number = *v; return;
    case Id::kTrackUid: if (auto v = unsigned_value()) track_.uid = *v; return;
    case Id::kTrackType: if (auto v = unsigned_value()) track_.type = *v; return;
    case Id::kDefaultDuration: if (auto v = unsigned_value()) track_.default_duration_ns = *v; return;
    case Id::kPixelWidth: if (auto v = unsigned_value()) track_.pixel_width = *v; return;
    case Id::kPixelHeight: if (auto v = unsigned_value()) track_.pixel_height = *v; return;
    case Id::kChannels: if (auto v = unsigned_value()) track_.channels = *v; return;
    case Id::kBitDepth: if (auto v = unsigned_value()) track_.bit_depth = *v; return;
    case Id::kTimecode:
      if (auto v = unsigned_value()) {
        segment_.cluster_timecode = static_cast<std::int64_t>(*v);
        if (!segment_.fragment_start_ms) {
          segment_.fragment_start_ms = ToMillis(segment_.cluster_timecode, segment_.info.timecode_scale);
        }
      }
      return;
    case Id::kBlockDuration: if (auto v = unsigned_value()) group_.duration = *v; return;
    case Id::kReferenceBlock: group_.has_reference = true; return;
    case Id::kSamplingFrequency:
      if (auto v = ReadFloat(data, size)) {
        track_.sampling_frequency = *v;
      } else {
        Report(ErrorCode::kInvalidValue, current_.start, "float of " + std::to_string(size) + " bytes",
               PathWith(id));
      }
      return;
    default:
      break;
  }
  // Strings and binaries are kept with the fragment: charge them to its metadata budget.
  if (!ChargeMetadata(size)) return;
  switch (static_cast<Id>(id)) {
    case Id::kCodecId: track_.codec_id = ReadString(data, size); return;
    case Id::kCodecName: track_.codec_name = ReadString(data, size); return;
    case Id::kName: track_.name = ReadString(data, size); return;
    case Id::kCodecPrivate: track_.codec_private.assign(data, data + size); return;
    case Id::kTagName: tags_batch_[simple_tag_stack_.back()].name = ReadString(data, size); return;
    case Id::kTagString: tags_batch_[simple_tag_stack_.back()].value = ReadString(data, size); return;
    case Id::kTagBinary: {
      Tag& tag = tags_batch_[simple_tag_stack_.back()];
      tag.binary.assign(data, data + size);
      tag.is_binary = true;
      return;
    }
    default:
      return;
  }
}

bool StreamParser::ChargeMetadata(std::size_t bytes) {
  if (metadata_bytes_ + bytes > limits_.max_fragment_metadata) {
    Report(ErrorCode::kLimitExceeded, current_.start,
           "fragment metadata (tags and tracks) over the limit of " +
               std::to_string(limits_.max_fragment_metadata) + " bytes",
           PathWith(current_.id));
    return false;
  }
  metadata_bytes_ += bytes;
  return true;
}

// ---- element ends ------------------------------------------------------------------------------

void StreamParser::CloseFinishedElements() {
  while (!stack_.empty() && !stack_.back().unknown_size && stack_.back().end <= pos_) CloseTop(true);
}

void StreamParser::CloseTop(bool complete) {
  const OpenElement element = stack_.back();
  stack_.pop_back();
  OnElementEnd(element, complete);
}

void StreamParser::CloseAll(bool complete) {
  while (!stack_.empty()) CloseTop(complete);
}

void StreamParser::OnElementEnd(const OpenElement& element, bool complete) {
  switch (static_cast<Id>(element.id)) {
    case Id::kSegment:
      CloseSegment(complete);
      return;
    case Id::kTrackEntry:
      if (complete) tracks_batch_.push_back(std::move(track_));
      track_ = TrackInfo{};
      return;
    case Id::kTracks:
      segment_.info.tracks.insert(segment_.info.tracks.end(), tracks_batch_.begin(), tracks_batch_.end());
      if (!tracks_batch_.empty()) callback_.OnTracks(tracks_batch_);
      tracks_batch_.clear();
      return;
    case Id::kBlockGroup:
      if (complete && group_.present) {
        Frame frame = group_.frame;
        frame.is_keyframe = !group_.has_reference;
        frame.duration = group_.duration;
        EmitLacedBlock(frame, &group_.payload, group_.payload.data(), group_.payload.size());
      }
      group_ = PendingBlock{};
      return;
    case Id::kSimpleTag: {
      const std::size_t index = simple_tag_stack_.back();
      simple_tag_stack_.pop_back();
      if (complete && KeepSimpleTag(element, index)) {
        ApplyKvsTag(tags_batch_[index], &segment_.info.metadata, true);
        FragmentMetadata& current = segment_.current_fragment;
        const auto number_before = current.fragment_number;  // only what tells a new fragment, not all tags
        const auto producer_before = current.producer_timestamp_ms;
        ApplyKvsTag(tags_batch_[index], &current, false);
        // A new fragment inside the Segment (a merged file): its frames' offsets start afresh.
        if (number_before != current.fragment_number || producer_before != current.producer_timestamp_ms) {
          segment_.fragment_start_ms.reset();
        }
      }
      return;
    }
    case Id::kTags:
      if (!complete) {
        // Keep only the SimpleTags that were read whole.
        tags_batch_.resize(std::min(tags_batch_.size(), simple_tag_stack_.empty() ? tags_batch_.size()
                                                                                   : simple_tag_stack_.front()));
      }
      simple_tag_stack_.clear();
      segment_.info.tags.insert(segment_.info.tags.end(), tags_batch_.begin(), tags_batch_.end());
      if (!tags_batch_.empty()) callback_.OnTags(tags_batch_);
      tags_batch_.clear();
      return;
    default:
      return;
  }
}

bool StreamParser::KeepSimpleTag(const OpenElement& element, std::size_t index) {
  const Tag& tag = tags_batch_[index];
  ErrorCode code = ErrorCode::kInvalidValue;
  std::string problem;
  if (!IsValidUtf8(tag.name)) {
    problem = "tag name is not valid UTF-8";
  } else if (!tag.is_binary && !IsValidUtf8(tag.value)) {
    problem = "tag value is not valid UTF-8";
  } else if (tag.name.compare(0, sizeof kKvsTagPrefix - 1, kKvsTagPrefix) == 0) {
    ++segment_.kvs_tags;
    return true;
  } else if (segment_.info.tags.size() + tags_batch_.size() - segment_.kvs_tags > limits_.max_tags_per_fragment) {
    code = ErrorCode::kLimitExceeded;
    problem = "more than " + std::to_string(limits_.max_tags_per_fragment) + " user tags in one fragment";
  } else {
    return true;
  }
  Report(code, element.start, problem, PathWith(Raw(Id::kSimpleTag)));
  // Drop it with its nested tags (the tail of the batch), and give their bytes back to the budget.
  for (std::size_t k = index; k < tags_batch_.size(); ++k) {
    const Tag& dropped = tags_batch_[k];
    const std::uint64_t bytes = dropped.name.size() + dropped.value.size() + dropped.binary.size();
    metadata_bytes_ -= std::min(metadata_bytes_, bytes);
  }
  tags_batch_.resize(index);
  return false;
}

void StreamParser::OpenSegment(std::uint64_t offset, bool unknown_size, std::uint64_t end) {
  segment_ = Segment{};
  segment_.open = true;
  segment_.info.index = fragment_index_++;
  segment_.info.start_offset = offset;
  metadata_bytes_ = 0;
  stack_.push_back(OpenElement{Raw(Id::kSegment), offset, end, unknown_size});
  callback_.OnFragmentStart(FragmentStart{segment_.info.index, offset});
}

void StreamParser::CloseSegment(bool complete) {
  if (!segment_.open) return;
  segment_.info.complete = segment_.info.complete && complete;
  segment_.info.end_offset = pos_;
  callback_.OnFragmentEnd(segment_.info);
  segment_ = Segment{};
  tracks_batch_.clear();
  tags_batch_.clear();
  simple_tag_stack_.clear();
  group_ = PendingBlock{};
  metadata_bytes_ = 0;
}

bool StreamParser::Push(std::uint32_t id, std::uint64_t end, bool unknown_size) {
  if (stack_.size() >= limits_.max_depth) {
    Fail(ErrorCode::kTooDeep, "elements nested deeper than " + std::to_string(limits_.max_depth), true);
    return false;
  }
  stack_.push_back(OpenElement{id, current_.start, end, unknown_size});
  return true;
}

// ---- errors and resynchronisation -------------------------------------------------------------

void StreamParser::Report(ErrorCode code, std::uint64_t offset, const std::string& message,
                          const std::string& path) {
  ++error_count_;
  if (segment_.open) segment_.info.complete = false;
  callback_.OnError(ParseError{code, offset, path, message});
}

void StreamParser::RejectCurrent(ErrorCode code, const std::string& message) {
  Report(code, current_.start, message, PathWith(current_.id));
  payload_.clear();
  state_ = remaining_ > 0 ? State::kSkip : State::kHeader;
}

void StreamParser::Fail(ErrorCode code, const std::string& message, bool replay_header) {
  // A candidate found while resynchronising that turns out bad is not a new error: keep scanning.
  if (!resync_candidate_) Report(code, current_.start, message, PathWith(current_.id));
  resync_candidate_ = false;
  value_.clear();
  payload_.clear();
  payload_.shrink_to_fit();
  state_ = State::kResync;
  sync_window_ = 0;
  sync_fill_ = 0;
  if (replay_header && replay_size_ > 1) {
    const std::array<std::uint8_t, 12> replay = replay_;
    ScanForSync(replay.data() + 1, replay_size_ - 1, current_.start + 1);
  }
}

void StreamParser::ScanForSync(const std::uint8_t* data, std::size_t size, std::uint64_t offset) {
  for (std::size_t k = 0; k < size; ++k) {
    sync_window_ = (sync_window_ << 8) | data[k];
    if (sync_fill_ < 4) ++sync_fill_;
    if (sync_fill_ == 4 && IsSyncId(sync_window_)) {
      // The window was emptied before this scan, so the ID is data[k-3..k]; it and the bytes after it
      // become the start of the next header.
      header_fill_ = 0;
      for (std::size_t b = k - 3; b < size; ++b) header_bytes_[header_fill_++] = data[b];
      current_.start = offset + k - 3;
      current_.id = sync_window_;
      resync_candidate_ = true;
      state_ = State::kHeader;
      return;
    }
  }
}

bool StreamParser::StepResync(const std::uint8_t* data, std::size_t size, std::size_t* i) {
  while (*i < size) {
    const std::uint8_t byte = data[(*i)++];
    ++pos_;
    sync_window_ = (sync_window_ << 8) | byte;
    if (sync_fill_ < 4) ++sync_fill_;
    if (sync_fill_ == 4 && IsSyncId(sync_window_)) {
      for (std::uint32_t w = 0; w < 4; ++w) {
        header_bytes_[w] = static_cast<std::uint8_t>(sync_window_ >> (8 * (3 - w)));
      }
      header_fill_ = 4;
      current_.start = pos_ - 4;
      current_.id = sync_window_;
      resync_candidate_ = true;
      state_ = State::kHeader;
      return true;
    }
  }
  return false;
}

// ---- helpers -----------------------------------------------------------------------------------

std::uint32_t StreamParser::ParentId() const { return stack_.empty() ? 0 : stack_.back().id; }

std::string StreamParser::PathWith(std::uint32_t id) const {
  std::string path;
  for (const OpenElement& element : stack_) {
    if (!path.empty()) path += '/';
    path += ElementName(element.id);
  }
  if (id != 0) {
    if (!path.empty()) path += '/';
    path += ElementName(id);
  }
  return path;
}

std::size_t StreamParser::memory_in_use() const {
  std::size_t bytes = value_.capacity() + payload_.capacity() + group_.payload.capacity() +
                      stack_.capacity() * sizeof(OpenElement) + metadata_bytes_ +
                      (segment_.info.tags.capacity() + tags_batch_.capacity()) * sizeof(Tag) +
                      (segment_.info.tracks.capacity() + tracks_batch_.capacity()) * sizeof(TrackInfo);
  return bytes;
}

void StreamParser::TouchMemory() { peak_memory_ = std::max(peak_memory_, memory_in_use()); }

}  // namespace kvs
