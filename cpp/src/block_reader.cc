// The block reader part of StreamParser: a SimpleBlock's or Block's header (track, timecode, flags),
// the caller's read-or-skip decision before any payload byte is copied, lacing, the payload itself
// (a view into the caller's chunk when it is all there), ContentEncoding and frame times.
#include <algorithm>
#include <cstring>

#include "content_encoding.h"
#include "kvs_parser/ids.h"
#include "kvs_parser/stream_parser.h"
#include "lacing.h"
#include "schema.h"
#include "timing.h"
#include "vint.h"

namespace kvs {

void StreamParser::StartBlock() {
  if (current_.size < 4) {
    RejectCurrent(ErrorCode::kInvalidBlock, "block of " + std::to_string(current_.size) + " bytes");
    return;
  }
  block_ = Frame{};
  block_.block_offset = current_.start;
  block_.in_block_group = current_.id == static_cast<std::uint32_t>(Id::kBlock);
  block_header_fill_ = 0;
  state_ = State::kBlockHeader;
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
  block_.payload_size = remaining_;
  if (remaining_ > limits_.max_frame_size) {
    RejectCurrent(ErrorCode::kFrameTooLarge,
                  "frame of " + std::to_string(remaining_) + " bytes is over the limit of " +
                      std::to_string(limits_.max_frame_size));
    return;
  }
  Stamp(block_);
  if (callback_.OnFrameBegin(block_) == FrameAction::kSkip) {
    // Skipped unread: nothing is copied. It still counts as (one) frame of its fragment.
    ++segment_.info.frame_count;
    state_ = remaining_ > 0 ? State::kSkip : State::kHeader;
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
           PathWith(frame.in_block_group ? static_cast<std::uint32_t>(Id::kBlock)
                                         : static_cast<std::uint32_t>(Id::kSimpleBlock)));
    return;
  }
  // Laces after the first start DefaultDuration apart (without one, all carry the block's time).
  const TrackInfo* track = laces.size() > 1 ? FindTrack(frame.track_number) : nullptr;
  const std::uint64_t step_ns = track != nullptr ? track->default_duration_ns.value_or(0) : 0;
  const std::int64_t ticks = SaturatingAdd(frame.cluster_timecode, frame.timecode);
  for (std::size_t k = 0; k < laces.size(); ++k) {
    Frame lace = frame;
    lace.lace_index = static_cast<std::uint32_t>(k);
    lace.data = laces[k];
    lace.owned = nullptr;
    // In ns from the block's ticks, rounded once (lace 0 keeps the time stamped from its header).
    if (k > 0) lace.pts_ms = LaceMillis(ticks, segment_.info.timecode_scale, step_ns, k);
    EmitFrame(lace);
  }
}

const TrackInfo* StreamParser::FindTrack(std::uint64_t number) const {
  for (const std::vector<TrackInfo>* tracks : {&segment_.info.tracks, &tracks_batch_}) {
    for (const TrackInfo& track : *tracks) {
      if (track.number == number) return &track;
    }
  }
  return nullptr;
}

void StreamParser::Stamp(Frame& frame) {
  frame.cluster_timecode = segment_.cluster_timecode;
  frame.pts_ms = ToMillisPrepared(SaturatingAdd(segment_.cluster_timecode, frame.timecode), segment_.ms_per_tick,
                                  segment_.ms_tick_limit, segment_.info.timecode_scale);
  frame.fragment_index = segment_.info.index;
  frame.fragment = &segment_.current_fragment;
  if (!segment_.fragment_start_ms) {
    segment_.fragment_start_ms = ToMillis(segment_.cluster_timecode, segment_.info.timecode_scale);
  }
}

void StreamParser::EmitFrame(Frame& frame) {
  // Times were stamped when the block's header was read (and laces spaced by EmitLacedBlock).
  if (const auto& producer = segment_.current_fragment.producer_timestamp_ms) {
    frame.producer_time_ms = SaturatingAdd(*producer, SaturatingSub(frame.pts_ms, *segment_.fragment_start_ms));
  }
  const TrackInfo* track = segment_.has_frame_encodings ? FindTrack(frame.track_number) : nullptr;
  if (track != nullptr) {
    const DecodeStatus status =
        Decode(track->content_encodings, kScopeFrames, frame.data, limits_.max_frame_size, &decoded_);
    if (status == DecodeStatus::kDecoded) {
      frame.data = ByteView{decoded_.data(), decoded_.size()};
      frame.owned = &decoded_;
      TouchMemory();
    } else if (status != DecodeStatus::kUnchanged) {
      frame.is_content_encoded = true;
      if (status != DecodeStatus::kUnsupported) {
        Report(ErrorCode::kUndecodableFrame, frame.block_offset,
               "frame handed out as stored: " + std::string(DecodeStatusText(status)),
               PathWith(frame.in_block_group ? static_cast<std::uint32_t>(Id::kBlock)
                                             : static_cast<std::uint32_t>(Id::kSimpleBlock)));
      }
    }
  }
  ++segment_.info.frame_count;
  callback_.OnFrame(frame);
  decoded_.clear();
}

}  // namespace kvs
