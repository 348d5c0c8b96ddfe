// StreamParser's driver: the state loop, where each new element goes (the schema decides), Segments
// (KVS fragments) opening and closing, end of stream.
#include "kvs_parser/stream_parser.h"

#include <algorithm>
#include <utility>

#include "kvs_parser/ids.h"
#include "schema.h"

namespace kvs {

namespace {

constexpr std::uint32_t Raw(Id id) { return static_cast<std::uint32_t>(id); }

bool IsTopLevel(std::uint32_t id) { return id == Raw(Id::kEbml) || id == Raw(Id::kSegment); }

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

// ---- where a new element goes ----------------------------------------------------------------

void StreamParser::StartElement() {
  const std::uint32_t id = current_.id;
  if (id == Raw(Id::kSimpleBlock) && !current_.unknown_size && !stack_.empty() &&
      stack_.back().id == Raw(Id::kCluster) && current_.size <= limits_.max_element_size &&
      (stack_.back().unknown_size || current_.start + current_.length + current_.size <= stack_.back().end)) {
    // The element of nearly every frame, a SimpleBlock in a Cluster, passing every check below: the
    // general path would come to the same, only slower.
    resync_candidate_ = false;
    remaining_ = current_.size;
    StartBlock();
    return;
  }
  if (IsTopLevel(id)) {
    StartTopLevel();
    return;
  }
  // RFC 8794 section 6.2: an element that is not a valid child of an unknown-size element ends it.
  // (Inside a known-size parent, an unknown element is skipped by its size instead.) The row found
  // for the parent that stays is the element's, unless the stack changes below.
  const ElementSpec* spec = nullptr;
  while (!stack_.empty()) {
    spec = FindElement(id, stack_.back().id);
    if (!stack_.back().unknown_size || IsValidChild(id, stack_.back().id, spec)) break;
    CloseTop(true);
    spec = nullptr;
  }
  const std::size_t depth = stack_.size();
  if (id == Raw(Id::kCluster)) {
    if (resync_candidate_ && segment_.open) {
      // Recovering inside a fragment: what was open below the Segment is lost, and its end with it.
      while (stack_.size() > 1) CloseTop(false);
      stack_.back().unknown_size = true;
    } else if (!segment_.open) {
      CloseAll(true);
      OpenSegment(current_.start, true, 0);
    }
  } else if (stack_.empty() && !IsValidChild(id, kTopLevel)) {
    // Bytes between fragments that read as an element: resynchronise rather than trust its size.
    Fail(ErrorCode::kUnexpectedElement, ElementName(id) + " at the top level", true);
    return;
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
  remaining_ = current_.size;
  state_ = State::kSkip;  // unless the schema says otherwise: unknown and ignored elements
  if (stack_.size() != depth || stack_.empty()) spec = FindElement(id, ParentId());
  if (spec == nullptr) return;
  switch (spec->kind) {
    case Kind::kMaster: StartMaster(*spec, body + current_.size); return;
    case Kind::kBlock: StartBlock(); return;
    case Kind::kIgnored: return;
    default: StartValue(*spec); return;
  }
}

void StreamParser::StartMaster(const ElementSpec& spec, std::uint64_t end) {
  if (stack_.size() >= limits_.max_depth) {
    Fail(ErrorCode::kTooDeep, "elements nested deeper than " + std::to_string(limits_.max_depth), true);
    return;
  }
  state_ = State::kHeader;
  if (spec.on_start != nullptr && !spec.on_start(*this)) return;  // it set the state (skip or reject)
  Push(current_.id, end, current_.unknown_size, &spec);
}

void StreamParser::StartValue(const ElementSpec& spec) {
  if (current_.size > limits_.max_buffered_element) {
    RejectCurrent(ErrorCode::kElementTooLarge,
                  ElementName(current_.id) + " of " + std::to_string(current_.size) +
                      " bytes is over the buffered-element limit of " + std::to_string(limits_.max_buffered_element));
    return;
  }
  current_spec_ = &spec;
  value_.clear();
  state_ = State::kValue;
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

// ---- element ends and Segments -------------------------------------------------------------------

void StreamParser::OnElementEnd(const OpenElement& element, bool complete) {
  if (element.spec != nullptr && element.spec->on_end != nullptr) element.spec->on_end(*this, element.start, complete);
}

void StreamParser::OpenSegment(std::uint64_t offset, bool unknown_size, std::uint64_t end) {
  segment_ = Segment{};
  segment_.open = true;
  segment_.info.index = fragment_index_++;
  segment_.info.start_offset = offset;
  metadata_bytes_ = 0;
  stack_.push_back(OpenElement{Raw(Id::kSegment), offset, end, unknown_size, FindElement(Raw(Id::kSegment), kTopLevel)});
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

std::size_t StreamParser::memory_in_use() const {
  std::size_t bytes = value_.capacity() + payload_.capacity() + decoded_.capacity() + group_.payload.capacity() +
                      stack_.capacity() * sizeof(OpenElement) + metadata_bytes_ +
                      (segment_.info.tags.capacity() + tags_batch_.capacity()) * sizeof(Tag) +
                      (segment_.info.tracks.capacity() + tracks_batch_.capacity()) * sizeof(TrackInfo);
  return bytes;
}

void StreamParser::TouchMemory() { peak_memory_ = std::max(peak_memory_, memory_in_use()); }

}  // namespace kvs
