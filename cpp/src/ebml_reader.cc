// The EBML reader part of StreamParser: element headers and their vints, values and skipped bodies,
// the stack of open elements, errors and resynchronisation. It knows no Matroska element but the sync
// IDs (EBML header, Segment, Cluster); what an element means comes from the schema (schema.cc).
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "kvs_parser/ids.h"
#include "kvs_parser/stream_parser.h"
#include "schema.h"
#include "values.h"
#include "vint.h"

namespace kvs {

namespace {

constexpr std::uint32_t Raw(Id id) { return static_cast<std::uint32_t>(id); }

bool IsSyncId(std::uint32_t id) {
  return id == Raw(Id::kEbml) || id == Raw(Id::kSegment) || id == Raw(Id::kCluster);
}

}  // namespace

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
        char hex[4];
        std::snprintf(hex, sizeof hex, "%02X", replay_[0]);
        Fail(id_length == 0 ? ErrorCode::kInvalidVint : ErrorCode::kInvalidId,
             std::string("invalid element ID first byte 0x") + hex, true);
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

// ---- bodies ------------------------------------------------------------------------------------

bool StreamParser::StepValue(const std::uint8_t* data, std::size_t size, std::size_t* i) {
  const std::size_t available = size - *i;
  if (value_.empty() && remaining_ <= available) {
    const std::size_t length = static_cast<std::size_t>(remaining_);
    *i += length;
    pos_ += length;
    remaining_ = 0;
    state_ = State::kHeader;
    HandleValue(data + *i - length, length);
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
  HandleValue(value_.data(), value_.size());
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

// Decodes a leaf value by its row's kind and hands it to the row's handler.
void StreamParser::HandleValue(const std::uint8_t* data, std::size_t size) {
  const ElementSpec& spec = *current_spec_;
  Value value;
  value.data = data;
  value.size = size;
  switch (spec.kind) {
    case Kind::kUnsigned: {
      const auto number = ReadUnsigned(data, size);
      if (!number) {
        Report(ErrorCode::kInvalidValue, current_.start,
               std::string(spec.name) + " integer of " + std::to_string(size) + " bytes", PathWith(current_.id));
        return;
      }
      value.number = *number;
      break;
    }
    case Kind::kFloat: {
      const auto real = ReadFloat(data, size);
      if (!real) {
        Report(ErrorCode::kInvalidValue, current_.start, "float of " + std::to_string(size) + " bytes",
               PathWith(current_.id));
        return;
      }
      value.real = *real;
      break;
    }
    case Kind::kString:
    case Kind::kBinary:
      // Kept with the fragment: charged to its metadata budget.
      if (!ChargeMetadata(size)) return;
      break;
    default:
      break;
  }
  spec.on_value(*this, value);
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

// ---- the element stack -------------------------------------------------------------------------

void StreamParser::Push(std::uint32_t id, std::uint64_t end, bool unknown_size, const ElementSpec* spec) {
  stack_.push_back(OpenElement{id, current_.start, end, unknown_size, spec});
}

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

std::uint32_t StreamParser::ParentId() const { return stack_.empty() ? kTopLevel : stack_.back().id; }

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

}  // namespace kvs
