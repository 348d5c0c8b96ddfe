// The StreamParser binding: bytes are parsed with the GIL released while events are collected in C++;
// Python objects are built and callbacks called after the GIL is taken back.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "kvs_parser/stream_parser.h"
#include "objects.h"

namespace py = pybind11;

namespace kvs::py_binding {

namespace {

using Event = std::variant<std::unique_ptr<FrameObject>, FragmentStart, std::vector<TrackInfo>, std::vector<Tag>,
                           FragmentEnd, ParseError>;

// Turns core callbacks into owned events; runs without the GIL.
class EventCollector : public Callback {
 public:
  std::vector<Event>* sink = nullptr;

  void OnFragmentStart(const FragmentStart& start) override { sink->emplace_back(start); }
  void OnTracks(const std::vector<TrackInfo>& tracks) override { sink->emplace_back(tracks); }
  void OnTags(const std::vector<Tag>& tags) override { sink->emplace_back(tags); }
  void OnFragmentEnd(const FragmentEnd& end) override {
    sink->emplace_back(end);
    snapshot_.reset();
  }
  void OnError(const ParseError& error) override { sink->emplace_back(error); }

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
    object->lacing = frame.lacing;
    object->lace_index = frame.lace_index;
    object->block_offset = frame.block_offset;
    object->fragment_index = frame.fragment_index;
    object->producer_time_ms = frame.producer_time_ms;
    object->fragment = Snapshot(*frame.fragment);
    if (frame.owned != nullptr) {
      object->bytes = std::move(*frame.owned);  // assembled across chunks: take it, no copy
    } else {
      object->bytes.assign(frame.data.data, frame.data.data + frame.data.size);  // the one copy
    }
    sink->emplace_back(std::move(object));
  }

 private:
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

const char* ErrorClassName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTruncated: return "TruncatedStreamError";
    case ErrorCode::kElementTooLarge:
    case ErrorCode::kFrameTooLarge:
    case ErrorCode::kTooDeep:
    case ErrorCode::kLimitExceeded: return "LimitExceededError";
    default: return "ParseError";
  }
}

py::object MakeError(const ParseError& error) {
  py::module_ errors = py::module_::import("kvs_parser.errors");
  return errors.attr(ErrorClassName(error.code))(error.message, py::arg("code") = ErrorCodeName(error.code),
                                                 py::arg("offset") = error.offset,
                                                 py::arg("element_path") = error.element_path);
}

[[noreturn]] void RaiseObject(const py::object& exception) {
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())), exception.ptr());
  throw py::error_already_set();
}

class PyStreamParser {
 public:
  PyStreamParser(py::object on_frame, py::object on_fragment_start, py::object on_fragment_end,
                 py::object on_tracks, py::object on_tags, py::object on_error, std::optional<Limits> limits)
      : parser_(collector_, limits.value_or(Limits{})) {
    callbacks_[kFrame] = std::move(on_frame);
    callbacks_[kFragmentStart] = std::move(on_fragment_start);
    callbacks_[kFragmentEnd] = std::move(on_fragment_end);
    callbacks_[kTracks] = std::move(on_tracks);
    callbacks_[kTags] = std::move(on_tags);
    callbacks_[kError] = std::move(on_error);
  }

  void SetCallback(const std::string& event, py::object callback) {
    static const char* const kNames[] = {"frame", "fragment_start", "fragment_end", "tracks", "tags", "error"};
    std::string name = event.rfind("on_", 0) == 0 ? event.substr(3) : event;
    for (int k = 0; k < kCount; ++k) {
      if (name == kNames[k]) {
        callbacks_[k] = std::move(callback);
        return;
      }
    }
    throw py::value_error("unknown event '" + event +
                          "': expected frame, fragment_start, fragment_end, tracks, tags or error");
  }

  void Parse(const py::buffer& chunk) {
    if (closed_) RaiseClosed();
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

 private:
  enum Slot { kFrame, kFragmentStart, kFragmentEnd, kTracks, kTags, kError, kCount };

  [[noreturn]] static void RaiseClosed() {
    py::module_ errors = py::module_::import("kvs_parser.errors");
    RaiseObject(errors.attr("ParserClosedError")("parse() called after close()"));
  }

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
        py::object error = MakeError(std::get<5>(event));
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

  EventCollector collector_;
  StreamParser parser_;
  std::mutex mutex_;  // one core parse at a time, whatever threads call in
  py::object callbacks_[kCount];
  std::deque<Event> pending_;
  std::vector<py::object> unraised_;
  bool delivering_ = false;
  bool closed_ = false;
};

}  // namespace

void init_parser(py::module_& m) {
  py::class_<PyStreamParser>(m, "KVSStreamParser",
                             "Incremental KVS/Matroska parser: parse(chunk) in any chunking, events by callback.")
      .def(py::init<py::object, py::object, py::object, py::object, py::object, py::object, std::optional<Limits>>(),
           py::kw_only(), py::arg("on_frame") = py::none(), py::arg("on_fragment_start") = py::none(),
           py::arg("on_fragment_end") = py::none(), py::arg("on_tracks") = py::none(),
           py::arg("on_tags") = py::none(), py::arg("on_error") = py::none(), py::arg("limits") = py::none())
      .def("parse", &PyStreamParser::Parse, py::arg("chunk"),
           "Parse a chunk (any bytes-like object). Callbacks run before this returns. Without on_error, a "
           "parse error is raised after the whole chunk is consumed; parsing resumes at the resync point.")
      .def("close", &PyStreamParser::Close,
           "End of stream: flushes unknown-size fragments and reports a truncated last element.")
      .def("flush", &PyStreamParser::Flush, "Deliver events left queued by a callback that raised.")
      .def("set_callback", &PyStreamParser::SetCallback, py::arg("event"), py::arg("callback"),
           "set_callback('frame' | 'fragment_start' | 'fragment_end' | 'tracks' | 'tags' | 'error', fn)")
      .def_property_readonly("bytes_consumed", &PyStreamParser::bytes_consumed)
      .def_property_readonly("error_count", &PyStreamParser::error_count)
      .def_property_readonly("fragment_count", &PyStreamParser::fragment_count)
      .def_property_readonly("memory_in_use", &PyStreamParser::memory_in_use,
                             "Bytes the parser holds in its own buffers (its own accounting).")
      .def_property_readonly("peak_memory", &PyStreamParser::peak_memory)
      .def_property_readonly("pending_events", &PyStreamParser::pending_events)
      .def_property_readonly("closed", &PyStreamParser::closed)
      .def_property_readonly("limits", &PyStreamParser::limits)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyStreamParser& p, py::object type, py::object, py::object) {
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
      });
}

}  // namespace kvs::py_binding
