#include "matroska.h"

#include <algorithm>
#include <string>
#include <utility>

#include "content_encoding.h"
#include "kvs_parser/stream_parser.h"
#include "kvs_tags.h"
#include "timing.h"
#include "values.h"

namespace kvs {

namespace {
// A track with more encodings than this is hostile: each one costs a pass over every frame.
constexpr std::size_t kMaxContentEncodings = 8;
// AWS_KINESISVIDEO_* tags a fragment may carry besides max_tags_per_fragment user tags (KVS sends ~6).
constexpr std::uint32_t kKvsTagAllowance = 256;
constexpr char kKvsTagPrefix[] = "AWS_KINESISVIDEO_";
}  // namespace

// ---- Info ------------------------------------------------------------------------------------------

void Matroska::TimecodeScale(StreamParser& p, const Value& v) {
  if (v.number == 0) {
    p.Report(ErrorCode::kInvalidValue, p.current_.start, "TimecodeScale of 0", p.PathWith(p.current_.id));
    return;
  }
  p.segment_.info.timecode_scale = v.number;
  const MillisFactor prepared = PrepareMillis(v.number);
  p.segment_.ms_per_tick = prepared.factor;
  p.segment_.ms_tick_limit = prepared.limit;
}

// ---- Tracks ----------------------------------------------------------------------------------------

bool Matroska::TracksStart(StreamParser& p) {
  p.tracks_batch_.clear();
  return true;
}

void Matroska::TracksEnd(StreamParser& p, std::uint64_t, bool) {
  std::vector<TrackInfo>& batch = p.tracks_batch_;
  for (const TrackInfo& track : batch) {
    p.segment_.has_frame_encodings = p.segment_.has_frame_encodings ||
                                     AppliesTo(track.content_encodings, kScopeFrames);
  }
  p.segment_.info.tracks.insert(p.segment_.info.tracks.end(), batch.begin(), batch.end());
  if (!batch.empty()) p.callback_.OnTracks(batch);
  batch.clear();
}

bool Matroska::TrackEntryStart(StreamParser& p) {
  if (p.segment_.info.tracks.size() + p.tracks_batch_.size() >= p.limits_.max_tracks) {
    p.RejectCurrent(ErrorCode::kLimitExceeded,
                    "more than " + std::to_string(p.limits_.max_tracks) + " tracks in one fragment");
    return false;
  }
  p.track_ = TrackInfo{};
  return true;
}

void Matroska::TrackEntryEnd(StreamParser& p, std::uint64_t start, bool complete) {
  TrackInfo& track = p.track_;
  // A track is kept whatever its text says (its frames still decode): bytes that are not UTF-8 are
  // replaced, reported, so that every caller gets valid text (Python str, C strings).
  for (auto [field, label] : {std::pair{&TrackInfo::codec_id, "CodecID"},
                              std::pair{&TrackInfo::codec_name, "CodecName"}, std::pair{&TrackInfo::name, "Name"}}) {
    std::string& text = track.*field;
    if (IsValidUtf8(text)) continue;
    text = ToValidUtf8(text);
    p.Report(ErrorCode::kInvalidValue, start,
             "track " + std::to_string(track.number) + ": " + label + " is not valid UTF-8 (bytes replaced by U+FFFD)",
             p.PathWith(0));
  }
  if (complete && AppliesTo(track.content_encodings, kScopeCodecPrivate) && !track.codec_private.empty()) {
    std::vector<std::uint8_t> decoded;
    const DecodeStatus status =
        Decode(track.content_encodings, kScopeCodecPrivate,
               ByteView{track.codec_private.data(), track.codec_private.size()}, p.limits_.max_buffered_element,
               &decoded);
    if (status == DecodeStatus::kDecoded) {
      if (p.ChargeMetadata(decoded.size())) track.codec_private = std::move(decoded);
    } else if (status != DecodeStatus::kUnsupported) {
      p.Report(ErrorCode::kInvalidValue, p.current_.start,
               "CodecPrivate of track " + std::to_string(track.number) + " kept as stored: " + DecodeStatusText(status),
               p.PathWith(0));
    }
  }
  if (complete) p.tracks_batch_.push_back(std::move(track));
  p.track_ = TrackInfo{};
}

void Matroska::CodecPrivate(StreamParser& p, const Value& v) { p.track_.codec_private.assign(v.data, v.data + v.size); }
void Matroska::SamplingFrequency(StreamParser& p, const Value& v) { p.track_.sampling_frequency = v.real; }

// ---- ContentEncodings ------------------------------------------------------------------------------

bool Matroska::ContentEncodingStart(StreamParser& p) {
  if (p.track_.content_encodings.size() >= kMaxContentEncodings) {
    p.RejectCurrent(ErrorCode::kLimitExceeded,
                    "more than " + std::to_string(kMaxContentEncodings) + " ContentEncodings in one track");
    return false;
  }
  if (!p.ChargeMetadata(sizeof(ContentEncoding))) {
    p.state_ = p.remaining_ > 0 ? StreamParser::State::kSkip : StreamParser::State::kHeader;
    return false;
  }
  p.track_.content_encodings.emplace_back();
  return true;
}

namespace {
ContentEncoding* LastEncoding(TrackInfo& track) {
  return track.content_encodings.empty() ? nullptr : &track.content_encodings.back();
}
}  // namespace

void Matroska::ContentEncodingOrder(StreamParser& p, const Value& v) {
  if (ContentEncoding* e = LastEncoding(p.track_)) e->order = v.number;
}
void Matroska::ContentEncodingScope(StreamParser& p, const Value& v) {
  if (ContentEncoding* e = LastEncoding(p.track_)) e->scope = v.number;
}
void Matroska::ContentEncodingType(StreamParser& p, const Value& v) {
  if (ContentEncoding* e = LastEncoding(p.track_)) e->type = v.number;
}
void Matroska::ContentCompAlgo(StreamParser& p, const Value& v) {
  if (ContentEncoding* e = LastEncoding(p.track_)) e->compression_algorithm = v.number;
}
void Matroska::ContentCompSettings(StreamParser& p, const Value& v) {
  if (ContentEncoding* e = LastEncoding(p.track_)) e->compression_settings.assign(v.data, v.data + v.size);
}
bool Matroska::ContentEncryptionStart(StreamParser& p) {
  if (ContentEncoding* e = LastEncoding(p.track_)) e->encrypted = true;
  return true;
}
void Matroska::ContentEncAlgo(StreamParser& p, const Value& v) {
  if (ContentEncoding* e = LastEncoding(p.track_)) e->encryption_algorithm = v.number;
}

// ---- Clusters and blocks ---------------------------------------------------------------------------

bool Matroska::ClusterStart(StreamParser& p) {
  p.segment_.cluster_timecode = 0;
  return true;
}

void Matroska::ClusterTimecode(StreamParser& p, const Value& v) {
  p.segment_.cluster_timecode = static_cast<std::int64_t>(v.number);
  if (!p.segment_.fragment_start_ms) {
    p.segment_.fragment_start_ms = ToMillis(p.segment_.cluster_timecode, p.segment_.info.timecode_scale);
  }
}

bool Matroska::BlockGroupStart(StreamParser& p) {
  p.group_ = StreamParser::PendingBlock{};
  return true;
}

void Matroska::BlockGroupEnd(StreamParser& p, std::uint64_t, bool complete) {
  if (complete && p.group_.present) {
    Frame frame = p.group_.frame;
    frame.is_keyframe = !p.group_.has_reference;
    frame.duration = p.group_.duration;
    p.EmitLacedBlock(frame, &p.group_.payload, p.group_.payload.data(), p.group_.payload.size());
  }
  p.group_ = StreamParser::PendingBlock{};
}

void Matroska::BlockDuration(StreamParser& p, const Value& v) { p.group_.duration = v.number; }
void Matroska::ReferenceBlock(StreamParser& p, const Value&) { p.group_.has_reference = true; }

// ---- Tags ------------------------------------------------------------------------------------------

bool Matroska::TagsStart(StreamParser& p) {
  const std::uint32_t parent = p.ParentId();
  const auto is = [parent](Id id) { return parent == static_cast<std::uint32_t>(id); };
  if (!p.segment_.open || is(Id::kTags) || is(Id::kTag) || is(Id::kSimpleTag)) {
    p.state_ = StreamParser::State::kSkip;
    return false;
  }
  p.tags_batch_.clear();
  p.simple_tag_stack_.clear();
  return true;
}

void Matroska::TagsEnd(StreamParser& p, std::uint64_t, bool complete) {
  std::vector<Tag>& batch = p.tags_batch_;
  if (!complete) {
    // Keep only the SimpleTags that were read whole.
    batch.resize(std::min(batch.size(), p.simple_tag_stack_.empty() ? batch.size() : p.simple_tag_stack_.front()));
  }
  p.simple_tag_stack_.clear();
  p.segment_.info.tags.insert(p.segment_.info.tags.end(), batch.begin(), batch.end());
  if (!batch.empty()) p.callback_.OnTags(batch);
  batch.clear();
}

bool Matroska::SimpleTagStart(StreamParser& p) {
  // User tags over the limit are dropped when they end (their name is known then); this bounds what is
  // held meanwhile, AWS_KINESISVIDEO_* tags included.
  if (p.segment_.info.tags.size() + p.tags_batch_.size() >= p.limits_.max_tags_per_fragment + kKvsTagAllowance) {
    p.RejectCurrent(ErrorCode::kLimitExceeded,
                    "more than " + std::to_string(p.limits_.max_tags_per_fragment) + " tags in one fragment");
    return false;
  }
  p.simple_tag_stack_.push_back(p.tags_batch_.size());
  p.tags_batch_.emplace_back();
  p.tags_batch_.back().depth = static_cast<std::uint32_t>(p.simple_tag_stack_.size() - 1);
  return true;
}

void Matroska::SimpleTagEnd(StreamParser& p, std::uint64_t start, bool complete) {
  const std::size_t index = p.simple_tag_stack_.back();
  p.simple_tag_stack_.pop_back();
  if (!complete || !KeepSimpleTag(p, start, index)) return;
  ApplyKvsTag(p.tags_batch_[index], &p.segment_.info.metadata, true);
  FragmentMetadata& current = p.segment_.current_fragment;
  const auto number_before = current.fragment_number;  // only what tells a new fragment, not all tags
  const auto producer_before = current.producer_timestamp_ms;
  ApplyKvsTag(p.tags_batch_[index], &current, false);
  // A new fragment inside the Segment (a merged file): its frames' offsets start afresh.
  if (number_before != current.fragment_number || producer_before != current.producer_timestamp_ms) {
    p.segment_.fragment_start_ms.reset();
  }
}

bool Matroska::KeepSimpleTag(StreamParser& p, std::uint64_t start, std::size_t index) {
  std::vector<Tag>& batch = p.tags_batch_;
  const Tag& tag = batch[index];
  ErrorCode code = ErrorCode::kInvalidValue;
  std::string problem;
  if (!IsValidUtf8(tag.name)) {
    problem = "tag name is not valid UTF-8";
  } else if (!tag.is_binary && !IsValidUtf8(tag.value)) {
    problem = "tag value is not valid UTF-8";
  } else if (tag.name.compare(0, sizeof kKvsTagPrefix - 1, kKvsTagPrefix) == 0) {
    ++p.segment_.kvs_tags;
    return true;
  } else if (p.segment_.info.tags.size() + batch.size() - p.segment_.kvs_tags > p.limits_.max_tags_per_fragment) {
    code = ErrorCode::kLimitExceeded;
    problem = "more than " + std::to_string(p.limits_.max_tags_per_fragment) + " user tags in one fragment";
  } else {
    return true;
  }
  p.Report(code, start, problem, p.PathWith(static_cast<std::uint32_t>(Id::kSimpleTag)));
  // Drop it with its nested tags (the tail of the batch), and give their bytes back to the budget.
  for (std::size_t k = index; k < batch.size(); ++k) {
    const Tag& dropped = batch[k];
    const std::uint64_t bytes = dropped.name.size() + dropped.value.size() + dropped.binary.size();
    p.metadata_bytes_ -= std::min<std::uint64_t>(p.metadata_bytes_, bytes);
  }
  batch.resize(index);
  return false;
}

void Matroska::TagName(StreamParser& p, const Value& v) {
  p.tags_batch_[p.simple_tag_stack_.back()].name = ReadString(v.data, v.size);
}
void Matroska::TagString(StreamParser& p, const Value& v) {
  p.tags_batch_[p.simple_tag_stack_.back()].value = ReadString(v.data, v.size);
}
void Matroska::TagBinary(StreamParser& p, const Value& v) {
  Tag& tag = p.tags_batch_[p.simple_tag_stack_.back()];
  tag.binary.assign(v.data, v.data + v.size);
  tag.is_binary = true;
}

// ---- Segment ---------------------------------------------------------------------------------------

void Matroska::SegmentEnd(StreamParser& p, std::uint64_t, bool complete) { p.CloseSegment(complete); }

}  // namespace kvs
