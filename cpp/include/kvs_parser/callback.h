// Receives parse events. Every method has a no-op default, so a consumer overrides only what it needs.
#pragma once

#include <vector>

#include "kvs_parser/status.h"
#include "kvs_parser/types.h"

namespace kvs {

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void OnFragmentStart(const FragmentStart&) {}
  virtual void OnTracks(const std::vector<TrackInfo>&) {}
  // The frame's data view is valid only during this call (copy it, or move `owned` when set).
  virtual void OnFrame(Frame&) {}
  // The SimpleTags of one Tags element, as soon as that element is complete.
  virtual void OnTags(const std::vector<Tag>&) {}
  virtual void OnFragmentEnd(const FragmentEnd&) {}
  virtual void OnError(const ParseError&) {}
};

}  // namespace kvs
