// Receives parse events. Every method has a no-op default, so a consumer overrides only what it needs.
#pragma once

#include <cstdint>
#include <vector>

#include "kvs_parser/status.h"
#include "kvs_parser/types.h"

namespace kvs {

// What to do with a block whose header has been read (compare libwebm's Action, llhttp's pause).
enum class FrameAction : std::uint8_t {
  kRead,  // read the payload and call OnFrame for each of its frames
  kSkip,  // skip the payload unread: nothing is copied, no OnFrame
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void OnFragmentStart(const FragmentStart&) {}
  virtual void OnTracks(const std::vector<TrackInfo>&) {}
  // A block's header is read (track, time, flags; data empty, payload_size set), before any of its
  // payload is copied. A laced block is one call for all its frames. BlockGroup keyframe flags and
  // durations are not known yet here.
  virtual FrameAction OnFrameBegin(const Frame&) { return FrameAction::kRead; }
  // The frame's data view is valid only during this call (copy it, or move `owned` when set).
  virtual void OnFrame(Frame&) {}
  // The SimpleTags of one Tags element, as soon as that element is complete.
  virtual void OnTags(const std::vector<Tag>&) {}
  virtual void OnFragmentEnd(const FragmentEnd&) {}
  virtual void OnError(const ParseError&) {}
};

}  // namespace kvs
