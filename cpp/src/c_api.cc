// The C API (kvs_parser.h) over kvs::StreamParser. Every entry point catches everything: no C++
// exception crosses into C. After a failure (an allocation, or a throwing callback) the handle is
// poisoned, since the parser may have been left mid-update.
#include "kvs_parser/kvs_parser.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "kvs_parser/callback.h"
#include "kvs_parser/limits.h"
#include "kvs_parser/status.h"
#include "kvs_parser/stream_parser.h"
#include "kvs_parser/types.h"

#ifndef KVS_PARSER_VERSION
#define KVS_PARSER_VERSION "unknown"
#endif

namespace {

const char* OrNull(const std::optional<std::string>& value) { return value ? value->c_str() : nullptr; }

template <typename T>
int Has(const std::optional<T>& value, std::int64_t* out) {
  *out = value ? static_cast<std::int64_t>(*value) : 0;
  return value ? 1 : 0;
}

kvs_parser_fragment_metadata ToC(const kvs::FragmentMetadata& in) {
  kvs_parser_fragment_metadata out{};
  out.fragment_number = OrNull(in.fragment_number);
  out.has_server_timestamp = Has(in.server_timestamp_ms, &out.server_timestamp_ms);
  out.has_producer_timestamp = Has(in.producer_timestamp_ms, &out.producer_timestamp_ms);
  out.has_millis_behind_now = Has(in.millis_behind_now, &out.millis_behind_now);
  out.continuation_token = OrNull(in.continuation_token);
  out.error_code = OrNull(in.error_code);
  out.has_error_id = Has(in.error_id, &out.error_id);
  out.error_message = OrNull(in.error_message);
  return out;
}

kvs::Limits ToCpp(const kvs_parser_limits& in) {
  kvs::Limits out;
  out.max_frame_size = in.max_frame_size;
  out.max_buffered_element = in.max_buffered_element;
  out.max_element_size = in.max_element_size;
  out.max_segment_size = in.max_segment_size;
  out.max_depth = in.max_depth;
  out.max_tags_per_fragment = in.max_tags_per_fragment;
  out.max_tracks = in.max_tracks;
  out.max_fragment_metadata = in.max_fragment_metadata;
  return out;
}

kvs_parser_frame ToC(const kvs::Frame& frame) {
  kvs_parser_frame out{};
  out.track_number = frame.track_number;
  out.pts_ms = frame.pts_ms;
  out.cluster_timecode = frame.cluster_timecode;
  out.timecode = frame.timecode;
  out.flags = (frame.is_keyframe ? KVS_PARSER_FRAME_KEYFRAME : 0u) |
              (frame.is_invisible ? KVS_PARSER_FRAME_INVISIBLE : 0u) |
              (frame.is_discardable ? KVS_PARSER_FRAME_DISCARDABLE : 0u) |
              (frame.in_block_group ? KVS_PARSER_FRAME_IN_BLOCK_GROUP : 0u) |
              (frame.duration ? KVS_PARSER_FRAME_HAS_DURATION : 0u) |
              (frame.producer_time_ms ? KVS_PARSER_FRAME_HAS_PRODUCER_TIME : 0u) |
              (frame.is_content_encoded ? KVS_PARSER_FRAME_CONTENT_ENCODED : 0u);
  out.duration = frame.duration.value_or(0);
  out.lacing = static_cast<std::uint32_t>(frame.lacing);
  out.lace_index = frame.lace_index;
  out.block_offset = frame.block_offset;
  out.fragment_index = frame.fragment_index;
  out.data = frame.data.data;
  out.size = frame.data.size;
  out.producer_time_ms = frame.producer_time_ms.value_or(0);
  out.payload_size = frame.payload_size;
  return out;
}

kvs_parser_content_encoding ToC(const kvs::ContentEncoding& in) {
  kvs_parser_content_encoding out{};
  out.order = in.order;
  out.scope = in.scope;
  out.type = in.type;
  out.compression_algorithm = in.compression_algorithm;
  out.compression_settings = in.compression_settings.data();
  out.compression_settings_size = in.compression_settings.size();
  out.encrypted = in.encrypted ? 1 : 0;
  return out;
}

kvs_parser_track ToC(const kvs::TrackInfo& in, const kvs_parser_content_encoding* encodings) {
  kvs_parser_track out{};
  out.number = in.number;
  out.uid = in.uid;
  out.type = in.type;
  out.codec_id = in.codec_id.c_str();
  out.codec_name = in.codec_name.c_str();
  out.name = in.name.c_str();
  out.codec_private = in.codec_private.data();
  out.codec_private_size = in.codec_private.size();
  out.default_duration_ns = in.default_duration_ns.value_or(0);
  out.codec_delay_ns = in.codec_delay_ns.value_or(0);
  out.seek_pre_roll_ns = in.seek_pre_roll_ns.value_or(0);
  out.pixel_width = in.pixel_width.value_or(0);
  out.pixel_height = in.pixel_height.value_or(0);
  out.sampling_frequency = in.sampling_frequency.value_or(0.0);
  out.channels = in.channels.value_or(0);
  out.bit_depth = in.bit_depth.value_or(0);
  out.content_encoding_count = in.content_encodings.size();
  out.content_encodings = in.content_encodings.empty() ? nullptr : encodings;
  return out;
}

// The callbacks as the caller's struct has them: `size` says how many fields it knows.
bool CopyCallbacks(const kvs_parser_callbacks& in, kvs_parser_callbacks* out) {
  constexpr std::size_t kFirstVersion = offsetof(kvs_parser_callbacks, on_tracks);
  *out = kvs_parser_callbacks{};
  if (in.size < kFirstVersion) return false;  // not set by kvs_parser_callbacks_init
  if (in.size > sizeof(kvs_parser_callbacks)) {
    // From a newer header: fine as long as the callbacks this library lacks are not set.
    const auto* bytes = reinterpret_cast<const unsigned char*>(&in);
    for (std::size_t k = sizeof(kvs_parser_callbacks); k < in.size; ++k) {
      if (bytes[k] != 0) return false;
    }
  }
  std::memcpy(out, &in, std::min(in.size, sizeof(kvs_parser_callbacks)));
  out->size = sizeof(kvs_parser_callbacks);
  return true;
}

// Forwards the parser's events to the C callbacks, converting each to its C struct for the call.
class CallbackBridge final : public kvs::Callback {
 public:
  CallbackBridge(const kvs_parser_callbacks& callbacks, void* user) : callbacks_(callbacks), user_(user) {}

  kvs::FrameAction OnFrameBegin(const kvs::Frame& frame) override {
    if (callbacks_.on_frame == nullptr) return kvs::FrameAction::kSkip;  // nobody wants the bytes
    if (callbacks_.on_frame_begin == nullptr) return kvs::FrameAction::kRead;
    kvs_parser_fragment_metadata fragment{};
    kvs_parser_frame out = ToC(frame);
    if (frame.fragment != nullptr) {
      fragment = ToC(*frame.fragment);
      out.fragment = &fragment;
    }
    out.data = nullptr;
    out.size = 0;
    return callbacks_.on_frame_begin(user_, &out) == KVS_PARSER_SKIP ? kvs::FrameAction::kSkip
                                                                     : kvs::FrameAction::kRead;
  }

  void OnTracks(const std::vector<kvs::TrackInfo>& tracks) override {
    if (callbacks_.on_tracks == nullptr) return;
    std::vector<std::vector<kvs_parser_content_encoding>> encodings(tracks.size());
    std::vector<kvs_parser_track> out;
    out.reserve(tracks.size());
    for (std::size_t k = 0; k < tracks.size(); ++k) {
      for (const kvs::ContentEncoding& e : tracks[k].content_encodings) encodings[k].push_back(ToC(e));
      out.push_back(ToC(tracks[k], encodings[k].data()));
    }
    callbacks_.on_tracks(user_, out.data(), out.size());
  }

  void OnTags(const std::vector<kvs::Tag>& tags) override {
    if (callbacks_.on_tags == nullptr) return;
    std::vector<kvs_parser_tag> out(tags.size());
    for (std::size_t k = 0; k < tags.size(); ++k) {
      out[k].name = tags[k].name.c_str();
      out[k].value = tags[k].is_binary ? nullptr : tags[k].value.c_str();
      out[k].binary = tags[k].is_binary ? tags[k].binary.data() : nullptr;
      out[k].binary_size = tags[k].is_binary ? tags[k].binary.size() : 0;
      out[k].is_binary = tags[k].is_binary ? 1 : 0;
      out[k].depth = tags[k].depth;
    }
    callbacks_.on_tags(user_, out.data(), out.size());
  }

  void OnFragmentStart(const kvs::FragmentStart& start) override {
    if (callbacks_.on_fragment_start == nullptr) return;
    kvs_parser_fragment_start out{};
    out.index = start.index;
    out.offset = start.offset;
    callbacks_.on_fragment_start(user_, &out);
  }

  void OnFrame(kvs::Frame& frame) override {
    if (callbacks_.on_frame == nullptr) return;
    kvs_parser_fragment_metadata fragment{};
    kvs_parser_frame out = ToC(frame);
    if (frame.fragment != nullptr) {
      fragment = ToC(*frame.fragment);
      out.fragment = &fragment;
    }
    callbacks_.on_frame(user_, &out);
  }

  void OnFragmentEnd(const kvs::FragmentEnd& end) override {
    if (callbacks_.on_fragment_end == nullptr) return;
    kvs_parser_fragment_end out{};
    out.index = end.index;
    out.start_offset = end.start_offset;
    out.end_offset = end.end_offset;
    out.complete = end.complete ? 1 : 0;
    out.frame_count = end.frame_count;
    out.timecode_scale = end.timecode_scale;
    out.track_count = end.tracks.size();
    out.tag_count = end.tags.size();
    out.metadata = ToC(end.metadata);
    callbacks_.on_fragment_end(user_, &out);
  }

  void OnError(const kvs::ParseError& error) override {
    if (callbacks_.on_error == nullptr) return;
    kvs_parser_error out{};
    out.code = static_cast<int>(error.code);
    out.code_name = kvs::ErrorCodeName(error.code);
    out.offset = error.offset;
    out.path = error.element_path.c_str();
    out.message = error.message.c_str();
    callbacks_.on_error(user_, &out);
  }

 private:
  kvs_parser_callbacks callbacks_;
  void* user_;
};

}  // namespace

struct kvs_parser {
  kvs_parser(const kvs_parser_callbacks& callbacks, void* user, const kvs::Limits& limits)
      : bridge(callbacks, user), parser(bridge, limits) {}

  CallbackBridge bridge;
  kvs::StreamParser parser;
  bool in_call = false;  // inside Feed/Close: a callback must not re-enter
  bool failed = false;
};

namespace {

// Runs `step` on the parser with the reentrancy guard, turning any exception into a status code.
template <typename Step>
int Guarded(kvs_parser* handle, Step step) {
  if (handle == nullptr) return KVS_PARSER_E_INVALID_ARGUMENT;
  if (handle->in_call) return KVS_PARSER_E_REENTRANT;
  if (handle->failed) return KVS_PARSER_E_FAILED;
  if (handle->parser.closed()) return KVS_PARSER_E_CLOSED;
  handle->in_call = true;
  int status = KVS_PARSER_OK;
  try {
    step(handle->parser);
  } catch (const std::bad_alloc&) {
    status = KVS_PARSER_E_NO_MEMORY;
  } catch (...) {
    status = KVS_PARSER_E_FAILED;
  }
  handle->in_call = false;
  if (status != KVS_PARSER_OK) handle->failed = true;
  return status;
}

}  // namespace

extern "C" {

const char* kvs_parser_version(void) { return KVS_PARSER_VERSION; }

const char* kvs_parser_error_code_name(int code) {
  return kvs::ErrorCodeName(static_cast<kvs::ErrorCode>(code));
}

const char* kvs_parser_status_name(int status) {
  switch (status) {
    case KVS_PARSER_OK: return "ok";
    case KVS_PARSER_E_INVALID_ARGUMENT: return "invalid_argument";
    case KVS_PARSER_E_NO_MEMORY: return "no_memory";
    case KVS_PARSER_E_CLOSED: return "closed";
    case KVS_PARSER_E_REENTRANT: return "reentrant";
    case KVS_PARSER_E_FAILED: return "failed";
    default: return "unknown";
  }
}

void kvs_parser_callbacks_init(kvs_parser_callbacks* callbacks) {
  if (callbacks == nullptr) return;
  *callbacks = kvs_parser_callbacks{};
  callbacks->size = sizeof(kvs_parser_callbacks);
}

void kvs_parser_default_limits(kvs_parser_limits* limits) {
  if (limits == nullptr) return;
  const kvs::Limits defaults;
  limits->max_frame_size = defaults.max_frame_size;
  limits->max_buffered_element = defaults.max_buffered_element;
  limits->max_element_size = defaults.max_element_size;
  limits->max_segment_size = defaults.max_segment_size;
  limits->max_depth = defaults.max_depth;
  limits->max_tags_per_fragment = defaults.max_tags_per_fragment;
  limits->max_tracks = defaults.max_tracks;
  limits->max_fragment_metadata = defaults.max_fragment_metadata;
}

int kvs_parser_create(const kvs_parser_limits* limits, const kvs_parser_callbacks* callbacks, void* user,
                      kvs_parser** out) {
  if (out == nullptr) return KVS_PARSER_E_INVALID_ARGUMENT;
  *out = nullptr;
  kvs_parser_callbacks known{};
  if (callbacks != nullptr && !CopyCallbacks(*callbacks, &known)) return KVS_PARSER_E_INVALID_ARGUMENT;
  try {
    const kvs::Limits cpp_limits = limits != nullptr ? ToCpp(*limits) : kvs::Limits{};
    auto handle = std::make_unique<kvs_parser>(known, user, cpp_limits);
    *out = handle.release();  // owned by the caller until kvs_parser_destroy
    return KVS_PARSER_OK;
  } catch (const std::bad_alloc&) {
    return KVS_PARSER_E_NO_MEMORY;
  } catch (...) {
    return KVS_PARSER_E_FAILED;
  }
}

int kvs_parser_feed(kvs_parser* parser, const uint8_t* data, size_t size) {
  if (data == nullptr && size > 0) return KVS_PARSER_E_INVALID_ARGUMENT;
  if (size == 0 && parser != nullptr) return Guarded(parser, [](kvs::StreamParser&) {});
  return Guarded(parser, [data, size](kvs::StreamParser& p) { p.Feed(data, size); });
}

int kvs_parser_close(kvs_parser* parser) {
  return Guarded(parser, [](kvs::StreamParser& p) { p.Close(); });
}

void kvs_parser_destroy(kvs_parser* parser) {
  std::unique_ptr<kvs_parser> owned(parser);  // the destructors do not throw
}

uint64_t kvs_parser_bytes_consumed(const kvs_parser* parser) {
  return parser != nullptr ? parser->parser.bytes_consumed() : 0;
}

uint64_t kvs_parser_error_count(const kvs_parser* parser) {
  return parser != nullptr ? parser->parser.error_count() : 0;
}

uint64_t kvs_parser_fragment_count(const kvs_parser* parser) {
  return parser != nullptr ? parser->parser.fragment_count() : 0;
}

}  // extern "C"
