// The KVSStreamParser binding: bytes are parsed with the GIL released while events are collected in
// C++; Python objects are built and callbacks called after the GIL is taken back. Frames the caller
// does not want (tracks=, on_frame_begin, no on_frame) are skipped in the core before any copy.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "errors.h"
#include "kvs_parser/stream_parser.h"
#include "objects.h"

namespace py = pybind11;

namespace kvs::py_binding {

namespace {

using Event = std::variant<std::unique_ptr<FrameObject>, FragmentStart, std::vector<TrackInfo>, std::vector<Tag>,
                           FragmentEnd, ParseError>;

// What decides, before a block's payload is read, whether it is wanted.
struct FrameFilter {
  bool want_frames = false;                         // an on_frame is set
  std::optional<std::vector<std::uint64_t>> tracks;  // sorted; nullopt: every track
  py::object on_frame_begin;                        // None, or called (with the GIL) per block
  std::optional<py::error_already_set> error;       // the first exception on_frame_begin raised
  bool in_callback = false;
};

// Turns core callbacks into owned events; runs without the GIL (but for on_frame_begin).
class EventCollector : public Callback {
 public:
  std::vector<Event>* sink = nullptr;
  FrameFilter* filter = nullptr;

  void OnFragmentStart(const FragmentStart& start) override { sink->emplace_back(start); }
  void OnTracks(const std::vector<TrackInfo>& tracks) override { sink->emplace_back(tracks); }
  void OnTags(const std::vector<Tag>& tags) override { sink->emplace_back(tags); }
  void OnFragmentEnd(const FragmentEnd& end) override {
    sink->emplace_back(end);
    snapshot_.reset();
  }
  void OnError(const ParseError& error) override { sink->emplace_back(error); }

  FrameAction OnFrameBegin(const Frame& frame) override {
    if (!filter->want_frames) return FrameAction::kSkip;
    if (filter->tracks && !std::binary_search(filter->tracks->begin(), filter->tracks->end(), frame.track_number)) {
      return FrameAction::kSkip;
    }
    if (filter->on_frame_begin.is_none()) return FrameAction::kRead;
    py::gil_scoped_acquire gil;
    filter->in_callback = true;
    struct Reset {
      bool& flag;
      ~Reset() { flag = false; }
    } reset{filter->in_callback};
    try {
      const py::object callback = filter->on_frame_begin;  // kept alive even if it replaces itself
      const py::object keep = callback(MakeHeader(frame));
      return keep.is(py::bool_(false)) ? FrameAction::kSkip : FrameAction::kRead;
    } catch (py::error_already_set& error) {
      if (!filter->error) filter->error.emplace(std::move(error));
      return FrameAction::kSkip;
    }
  }

  void OnFrame(Frame& frame) override {
    auto object = std::make_unique<FrameObject>();
    object->track_number = frame.track_number;
    object->timecode = frame.timecode;
    object->cluster_timecode = frame.cluster_timecode;
    object->pts_ms = frame.pts_ms;
    object->duration = frame.duration;
    object->is_keyframe = frame.is_keyframe;
    object->is_invisible = frame.is_invisible;
    object->is_discardable = frame.is_discardable;
    object->in_block_group = frame.in_block_group;
    object->is_content_encoded = frame.is_content_encoded;
    object->lacing = frame.lacing;
    object->lace_index = frame.lace_index;
    object->block_offset = frame.block_offset;
    object->fragment_index = frame.fragment_index;
    object->producer_time_ms = frame.producer_time_ms;
    object->fragment = Snapshot(*frame.fragment);
    if (frame.owned != nullptr) {
      object->bytes = std::move(*frame.owned);  // assembled across chunks or decoded: take it, no copy
    } else {
      object->bytes.assign(frame.data.data, frame.data.data + frame.data.size);  // the one copy
    }
    sink->emplace_back(std::move(object));
  }

 private:
  static BlockHeader MakeHeader(const Frame& frame) {
    BlockHeader header;
    header.track_number = frame.track_number;
    header.timecode = frame.timecode;
    header.cluster_timecode = frame.cluster_timecode;
    header.pts_ms = frame.pts_ms;
    header.is_keyframe = frame.is_keyframe;
    header.in_block_group = frame.in_block_group;
    header.lacing = frame.lacing;
    header.block_offset = frame.block_offset;
    header.fragment_index = frame.fragment_index;
    header.payload_size = frame.payload_size;
    return header;
  }

  // Frames share one immutable copy of their fragment's metadata until it changes.
  std::shared_ptr<const FragmentMetadata> Snapshot(const FragmentMetadata& m) {
    if (!snapshot_ || snapshot_->fragment_number != m.fragment_number ||
        snapshot_->producer_timestamp_ms != m.producer_timestamp_ms ||
        snapshot_->server_timestamp_ms != m.server_timestamp_ms) {
      snapshot_ = std::make_shared<const FragmentMetadata>(m);
    }
    return snapshot_;
  }

  std::shared_ptr<const FragmentMetadata> snapshot_;
};

// Typed as kvs_parser.errors.ParseError in signatures (the binding gets the class at run time).
struct ParseErrorObject : py::object {
  PYBIND11_OBJECT_DEFAULT(ParseErrorObject, object, PyObject_Type)
};

}  // namespace
}  // namespace kvs::py_binding

namespace pybind11::detail {
template <>
struct handle_type_name<kvs::py_binding::ParseErrorObject> {
  static constexpr auto name = const_name("kvs_parser.errors.ParseError");
};
}  // namespace pybind11::detail

namespace kvs::py_binding {
namespace {

template <typename T>
using OptionalCallback = py::typing::Optional<py::typing::Callable<T>>;

class PyStreamParser {
 public:
  PyStreamParser(OptionalCallback<void(const FrameObject&)> on_frame,
                 OptionalCallback<void(const FragmentStart&)> on_fragment_start,
                 OptionalCallback<void(const FragmentEnd&)> on_fragment_end,
                 OptionalCallback<void(const std::vector<TrackInfo>&)> on_tracks,
                 OptionalCallback<void(const std::vector<Tag>&)> on_tags,
                 OptionalCallback<void(const ParseErrorObject&)> on_error,
                 std::optional<Limits> limits, py::typing::Optional<py::typing::Iterable<int>> tracks,
                 OptionalCallback<bool(const BlockHeader&)> on_frame_begin)
      : parser_(collector_, limits.value_or(Limits{})) {
    callbacks_[kFrame] = std::move(on_frame);
    callbacks_[kFragmentStart] = std::move(on_fragment_start);
    callbacks_[kFragmentEnd] = std::move(on_fragment_end);
    callbacks_[kTracks] = std::move(on_tracks);
    callbacks_[kTags] = std::move(on_tags);
    callbacks_[kError] = std::move(on_error);
    if (!tracks.is_none()) {
      std::vector<std::uint64_t> numbers;
      for (py::handle number : tracks) numbers.push_back(number.cast<std::uint64_t>());
      std::sort(numbers.begin(), numbers.end());
      filter_.tracks = std::move(numbers);
    }
    filter_.on_frame_begin = std::move(on_frame_begin);
    filter_.want_frames = !callbacks_[kFrame].is_none();
    collector_.filter = &filter_;
  }

  void SetCallback(const std::string& event, py::object callback) {
    static const char* const kNames[] = {"frame", "fragment_start", "fragment_end", "tracks", "tags", "error"};
    const std::string name = event.rfind("on_", 0) == 0 ? event.substr(3) : event;
    if (name == "frame_begin") {
      filter_.on_frame_begin = std::move(callback);
      return;
    }
    for (int k = 0; k < kCount; ++k) {
      if (name == kNames[k]) {
        callbacks_[k] = std::move(callback);
        filter_.want_frames = !callbacks_[kFrame].is_none();
        return;
      }
    }
    throw py::value_error("unknown event '" + event +
                          "': expected frame, frame_begin, fragment_start, fragment_end, tracks, tags or error");
  }

  void Parse(const py::buffer& chunk) {
    if (filter_.in_callback) throw std::runtime_error("parse() called from on_frame_begin");
    if (closed_) RaiseClosed("parse() called after close()");
    py::buffer_info info = chunk.request();
    if (!PyBuffer_IsContiguous(info.view(), 'C')) {
      throw py::type_error("parse() needs a contiguous bytes-like object");
    }
    const auto* data = static_cast<const std::uint8_t*>(info.ptr);
    const std::size_t size = static_cast<std::size_t>(info.size * info.itemsize);
    std::vector<Event> events;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      collector_.sink = &events;
      parser_.Feed(data, size);
      collector_.sink = nullptr;
    }
    Deliver(std::move(events));
  }

  void Close() {
    if (filter_.in_callback) throw std::runtime_error("close() called from on_frame_begin");
    if (closed_) {
      Deliver({});  // a second close() still hands out what a raising callback left queued
      return;
    }
    closed_ = true;
    std::vector<Event> events;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      collector_.sink = &events;
      parser_.Close();
      collector_.sink = nullptr;
    }
    Deliver(std::move(events));
  }

  // Delivers events still queued because a callback raised (a later parse() or close() also does).
  void Flush() { Deliver({}); }

  std::uint64_t bytes_consumed() const { return parser_.bytes_consumed(); }
  std::uint64_t error_count() const { return parser_.error_count(); }
  std::uint64_t fragment_count() const { return parser_.fragment_count(); }
  std::size_t memory_in_use() const { return parser_.memory_in_use(); }
  std::size_t peak_memory() const { return parser_.peak_memory(); }
  std::size_t pending_events() const { return pending_.size(); }
  bool closed() const { return closed_; }
  Limits limits() const { return parser_.limits(); }
  py::object tracks() const {
    if (!filter_.tracks) return py::none();
    py::set out;
    for (std::uint64_t number : *filter_.tracks) out.add(py::int_(number));
    return py::frozenset(out);
  }

 private:
  enum Slot { kFrame, kFragmentStart, kFragmentEnd, kTracks, kTags, kError, kCount };

  // Queues the events, then (unless a callback up the stack is already delivering) calls callbacks
  // in order. A callback that raises leaves the undelivered events queued, in order, for the next call.
  void Deliver(std::vector<Event>&& events) {
    for (Event& event : events) pending_.push_back(std::move(event));
    if (delivering_) return;  // re-entrant parse()/close() from a callback: the outer loop delivers
    delivering_ = true;
    struct Reset {
      bool& flag;
      ~Reset() { flag = false; }
    } reset{delivering_};
    while (!pending_.empty()) {
      Event event = std::move(pending_.front());
      pending_.pop_front();
      Dispatch(event);
    }
    if (filter_.error) {
      py::error_already_set error = std::move(*filter_.error);
      filter_.error.reset();
      throw error;  // on_frame_begin raised: its frame was skipped, everything else delivered
    }
    if (!unraised_.empty()) {
      py::object first = unraised_.front();
      py::list all;
      for (const py::object& error : unraised_) all.append(error);
      first.attr("errors") = all;
      unraised_.clear();
      RaiseObject(first);
    }
  }

  void Dispatch(Event& event) {
    switch (event.index()) {
      case 0:
        if (!callbacks_[kFrame].is_none()) {
          callbacks_[kFrame](py::cast(std::move(std::get<0>(event))));
        }
        return;
      case 1:
        Call(kFragmentStart, py::cast(std::get<1>(event)));
        return;
      case 2:
        Call(kTracks, py::cast(std::get<2>(event)));
        return;
      case 3:
        Call(kTags, py::cast(std::get<3>(event)));
        return;
      case 4:
        Call(kFragmentEnd, py::cast(std::move(std::get<4>(event))));
        return;
      case 5: {
        py::object error = MakeParseError(std::get<5>(event));
        if (callbacks_[kError].is_none()) {
          unraised_.push_back(error);
        } else {
          callbacks_[kError](error);
        }
        return;
      }
    }
  }

  void Call(Slot slot, py::object argument) {
    if (!callbacks_[slot].is_none()) callbacks_[slot](argument);
  }

  FrameFilter filter_;
  EventCollector collector_;
  StreamParser parser_;
  std::mutex mutex_;  // one core parse at a time, whatever threads call in
  py::object callbacks_[kCount];
  std::deque<Event> pending_;
  std::vector<py::object> unraised_;
  bool delivering_ = false;
  bool closed_ = false;
};

constexpr const char* kParserDoc = R"doc(Incremental KVS/Matroska parser: parse(chunk) in any chunking, events by callback.

KVSStreamParser(*, on_frame=None, on_fragment_start=None, on_fragment_end=None, on_tracks=None,
                on_tags=None, on_error=None, limits=None, tracks=None, on_frame_begin=None)

on_frame(ParsedFrame)             each frame, with its bytes
on_fragment_start(FragmentStart)  a Segment (KVS fragment) starts
on_fragment_end(FragmentMetadata) a Segment ends: its KVS tags, all tags, tracks, frame count
on_tracks(list[TrackInfo])        a Tracks element was read (codec, CodecPrivate, dimensions, ...)
on_tags(list[Tag])                a Tags element was read
on_error(ParseError)              a parse error; without it, errors are raised after the chunk
limits: ParserLimits              bounds on what hostile input can make the parser hold
tracks: iterable of track numbers only these tracks' frames are read; others are skipped unread
on_frame_begin(BlockHeader) -> bool
    called while parsing, as soon as a block's header is read and before any of its payload is
    copied (so before the chunk's earlier events are delivered); return False to skip the block.
    An exception skips the block and is raised once the chunk's events are delivered.
Without on_frame, no frame payload is copied at all. Skipped blocks still count in frame_count.)doc";

}  // namespace

void init_parser(py::module_& m) {
  py::class_<PyStreamParser> parser(m, "KVSStreamParser", kParserDoc);
  parser
      .def(py::init<OptionalCallback<void(const FrameObject&)>, OptionalCallback<void(const FragmentStart&)>,
                    OptionalCallback<void(const FragmentEnd&)>, OptionalCallback<void(const std::vector<TrackInfo>&)>,
                    OptionalCallback<void(const std::vector<Tag>&)>,
                    OptionalCallback<void(const ParseErrorObject&)>, std::optional<Limits>,
                    py::typing::Optional<py::typing::Iterable<int>>, OptionalCallback<bool(const BlockHeader&)>>(),
           py::kw_only(), py::arg("on_frame") = py::none(), py::arg("on_fragment_start") = py::none(),
           py::arg("on_fragment_end") = py::none(), py::arg("on_tracks") = py::none(),
           py::arg("on_tags") = py::none(), py::arg("on_error") = py::none(), py::arg("limits") = py::none(),
           py::arg("tracks") = py::none(), py::arg("on_frame_begin") = py::none())
      .def("parse", &PyStreamParser::Parse, py::arg("chunk"),
           "Parse a chunk (any bytes-like object). Callbacks run before this returns. Without on_error, a "
           "parse error is raised after the whole chunk is consumed; parsing resumes at the resync point.")
      .def("close", &PyStreamParser::Close,
           "End of stream: flushes unknown-size fragments and reports a truncated last element.")
      .def("flush", &PyStreamParser::Flush, "Deliver events left queued by a callback that raised.")
      .def("set_callback", &PyStreamParser::SetCallback, py::arg("event"), py::arg("callback"),
           "set_callback('frame' | 'frame_begin' | 'fragment_start' | 'fragment_end' | 'tracks' | 'tags' | "
           "'error', fn or None)")
      .def_property_readonly("bytes_consumed", &PyStreamParser::bytes_consumed, "Bytes parsed so far.")
      .def_property_readonly("error_count", &PyStreamParser::error_count, "Parse errors reported so far.")
      .def_property_readonly("fragment_count", &PyStreamParser::fragment_count, "Segments (fragments) started.")
      .def_property_readonly("memory_in_use", &PyStreamParser::memory_in_use,
                             "Bytes the parser holds in its own buffers (its own accounting).")
      .def_property_readonly("peak_memory", &PyStreamParser::peak_memory, "The most memory_in_use has been.")
      .def_property_readonly("pending_events", &PyStreamParser::pending_events,
                             "Events left queued by a callback that raised (flush() delivers them).")
      .def_property_readonly("closed", &PyStreamParser::closed, "True after close().")
      .def_property_readonly("limits", &PyStreamParser::limits, "The ParserLimits it was made with.")
      .def_property_readonly("tracks", &PyStreamParser::tracks,
                             "The track numbers whose frames are read (a frozenset), or None for all.")
      .def(
          "__enter__", [](PyStreamParser& self) -> PyStreamParser& { return self; },
          py::return_value_policy::reference)
      .def(
          "__exit__",
          [](PyStreamParser& p, py::object type, py::object, py::object) {
        // On an exception in the with-block, close quietly so the original error is what surfaces.
        if (type.is_none()) {
          p.Close();
        } else {
          try {
            p.Close();
          } catch (py::error_already_set&) {
          }
        }
        return false;
      },
          py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"),
          "Closes the parser; on an exception in the with-block, quietly (that exception surfaces).");
}

}  // namespace kvs::py_binding
