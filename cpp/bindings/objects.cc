// Python classes for frames, tracks, tags, fragments and limits.
#include "objects.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sstream>

#include "kvs_parser/limits.h"

namespace py = pybind11;

namespace kvs::py_binding {

const char* LacingName(Lacing lacing) {
  switch (lacing) {
    case Lacing::kNone: return "none";
    case Lacing::kXiph: return "xiph";
    case Lacing::kFixed: return "fixed";
    case Lacing::kEbml: return "ebml";
  }
  return "none";
}

namespace {

py::object OptionalOr(const std::shared_ptr<const FragmentMetadata>& fragment,
                      py::object (*get)(const FragmentMetadata&)) {
  return fragment ? get(*fragment) : py::none();
}

template <typename T>
py::object ToPy(const std::optional<T>& value) {
  return value ? py::cast(*value) : py::none();
}

py::bytes ToBytes(const std::vector<std::uint8_t>& data) {
  return py::bytes(reinterpret_cast<const char*>(data.data()), data.size());
}

std::string FrameRepr(const FrameObject& f) {
  std::ostringstream out;
  out << "ParsedFrame(track_number=" << f.track_number << ", pts_ms=" << f.pts_ms << ", timecode=" << f.timecode
      << ", cluster_timecode=" << f.cluster_timecode << ", size=" << f.bytes.size()
      << ", is_keyframe=" << (f.is_keyframe ? "True" : "False");
  if (f.is_invisible) out << ", is_invisible=True";
  if (f.is_discardable) out << ", is_discardable=True";
  if (f.lacing != Lacing::kNone) out << ", lacing='" << LacingName(f.lacing) << "'";
  if (f.fragment && f.fragment->fragment_number) out << ", fragment_number='" << *f.fragment->fragment_number << "'";
  out << ")";
  return out.str();
}

void BindFrame(py::module_& m) {
  py::class_<FrameObject, std::unique_ptr<FrameObject>>(m, "ParsedFrame", py::buffer_protocol(),
                                                        "One frame (a block, or one lace of a laced block).")
      .def_buffer([](FrameObject& f) {
        return py::buffer_info(f.bytes.data(), 1, py::format_descriptor<std::uint8_t>::format(), 1,
                               {static_cast<py::ssize_t>(f.bytes.size())}, {1}, /*readonly=*/true);
      })
      .def_property_readonly(
          "data", [](py::object self) { return py::memoryview(self); },
          "The frame's bytes as a read-only memoryview (no copy; keeps the frame alive).")
      .def("__bytes__", [](const FrameObject& f) { return ToBytes(f.bytes); })
      .def("__len__", [](const FrameObject& f) { return f.bytes.size(); })
      .def_property_readonly("size", [](const FrameObject& f) { return f.bytes.size(); })
      .def_readonly("track_number", &FrameObject::track_number)
      .def_readonly("timecode", &FrameObject::timecode, "Block timecode relative to its Cluster.")
      .def_readonly("cluster_timecode", &FrameObject::cluster_timecode)
      .def_readonly("pts_ms", &FrameObject::pts_ms,
                    "Absolute timecode in ms (TimecodeScale applied). Lace i > 0 of a laced block adds i x the "
                    "track's DefaultDuration; without one, every lace carries the block's time.")
      .def_property_readonly("duration", [](const FrameObject& f) { return ToPy(f.duration); })
      .def_readonly("is_keyframe", &FrameObject::is_keyframe)
      .def_readonly("is_invisible", &FrameObject::is_invisible)
      .def_readonly("is_discardable", &FrameObject::is_discardable)
      .def_readonly("in_block_group", &FrameObject::in_block_group)
      .def_readonly("is_content_encoded", &FrameObject::is_content_encoded,
                    "True when the track's ContentEncoding could not be undone (encryption, bzlib, lzo1x, a "
                    "corrupt zlib stream): the bytes are as stored. Header stripping and zlib are undone.")
      .def_property_readonly("lacing", [](const FrameObject& f) { return LacingName(f.lacing); })
      .def_readonly("lace_index", &FrameObject::lace_index)
      .def_readonly("block_offset", &FrameObject::block_offset)
      .def_readonly("fragment_index", &FrameObject::fragment_index)
      .def_property_readonly("fragment_number",
                             [](const FrameObject& f) {
                               return OptionalOr(f.fragment, [](const FragmentMetadata& m) {
                                 return ToPy(m.fragment_number);
                               });
                             })
      .def_property_readonly("producer_timestamp_ms",
                             [](const FrameObject& f) {
                               return OptionalOr(f.fragment, [](const FragmentMetadata& m) {
                                 return ToPy(m.producer_timestamp_ms);
                               });
                             })
      .def_property_readonly(
          "producer_time_ms", [](const FrameObject& f) { return ToPy(f.producer_time_ms); },
          "This frame's producer time: the fragment's producer timestamp plus the frame's offset in it.")
      .def_property_readonly("server_timestamp_ms",
                             [](const FrameObject& f) {
                               return OptionalOr(f.fragment, [](const FragmentMetadata& m) {
                                 return ToPy(m.server_timestamp_ms);
                               });
                             })
      .def("__repr__", &FrameRepr);
}

void BindBlockHeader(py::module_& m) {
  py::class_<BlockHeader>(m, "BlockHeader",
                          "A block's header, given to on_frame_begin before any of its payload is read.")
      .def_readonly("track_number", &BlockHeader::track_number)
      .def_readonly("timecode", &BlockHeader::timecode)
      .def_readonly("cluster_timecode", &BlockHeader::cluster_timecode)
      .def_readonly("pts_ms", &BlockHeader::pts_ms)
      .def_readonly("is_keyframe", &BlockHeader::is_keyframe, "False for a BlockGroup's Block (not known yet).")
      .def_readonly("in_block_group", &BlockHeader::in_block_group)
      .def_property_readonly("lacing", [](const BlockHeader& h) { return LacingName(h.lacing); })
      .def_readonly("block_offset", &BlockHeader::block_offset)
      .def_readonly("fragment_index", &BlockHeader::fragment_index)
      .def_readonly("payload_size", &BlockHeader::payload_size, "Payload bytes (lacing included, as stored).")
      .def("__repr__", [](const BlockHeader& h) {
        return "BlockHeader(track_number=" + std::to_string(h.track_number) + ", pts_ms=" + std::to_string(h.pts_ms) +
               ", payload_size=" + std::to_string(h.payload_size) + ")";
      });
}

void BindContentEncoding(py::module_& m) {
  py::class_<ContentEncoding>(m, "ContentEncoding", "One ContentEncoding of a track (Matroska ContentEncodings).")
      .def_readonly("order", &ContentEncoding::order, "ContentEncodingOrder: decoding starts with the highest.")
      .def_readonly("scope", &ContentEncoding::scope, "Bits: 1 frames, 2 CodecPrivate, 4 the next encoding.")
      .def_readonly("type", &ContentEncoding::type, "0 compression, 1 encryption.")
      .def_readonly("compression_algorithm", &ContentEncoding::compression_algorithm,
                    "0 zlib, 1 bzlib, 2 lzo1x, 3 header stripping.")
      .def_property_readonly("compression_settings",
                             [](const ContentEncoding& e) { return ToBytes(e.compression_settings); })
      .def_readonly("encrypted", &ContentEncoding::encrypted)
      .def_property_readonly("encryption_algorithm",
                             [](const ContentEncoding& e) { return ToPy(e.encryption_algorithm); })
      .def("__repr__", [](const ContentEncoding& e) {
        return "ContentEncoding(order=" + std::to_string(e.order) + ", scope=" + std::to_string(e.scope) +
               ", type=" + std::to_string(e.type) + ", compression_algorithm=" +
               std::to_string(e.compression_algorithm) + ", encrypted=" + (e.encrypted ? "True" : "False") + ")";
      });
}

void BindTrack(py::module_& m) {
  py::class_<TrackInfo>(m, "TrackInfo", "A TrackEntry of a fragment's Tracks.")
      .def_readonly("number", &TrackInfo::number)
      .def_readonly("uid", &TrackInfo::uid)
      .def_readonly("type", &TrackInfo::type, "1 video, 2 audio, 17 subtitle (Matroska TrackType).")
      .def_readonly("codec_id", &TrackInfo::codec_id)
      .def_readonly("codec_name", &TrackInfo::codec_name)
      .def_property_readonly("codec_private", [](const TrackInfo& t) { return ToBytes(t.codec_private); })
      .def_readonly("name", &TrackInfo::name)
      .def_property_readonly("default_duration_ns", [](const TrackInfo& t) { return ToPy(t.default_duration_ns); })
      .def_property_readonly("pixel_width", [](const TrackInfo& t) { return ToPy(t.pixel_width); })
      .def_property_readonly("pixel_height", [](const TrackInfo& t) { return ToPy(t.pixel_height); })
      .def_property_readonly("sampling_frequency", [](const TrackInfo& t) { return ToPy(t.sampling_frequency); })
      .def_property_readonly("channels", [](const TrackInfo& t) { return ToPy(t.channels); })
      .def_property_readonly("bit_depth", [](const TrackInfo& t) { return ToPy(t.bit_depth); })
      .def_property_readonly("codec_delay_ns", [](const TrackInfo& t) { return ToPy(t.codec_delay_ns); })
      .def_property_readonly("seek_pre_roll_ns", [](const TrackInfo& t) { return ToPy(t.seek_pre_roll_ns); })
      .def_readonly("content_encodings", &TrackInfo::content_encodings,
                    "In stream order. Header stripping and zlib are undone on frames and CodecPrivate.")
      .def("__repr__", [](const TrackInfo& t) {
        std::ostringstream out;
        out << "TrackInfo(number=" << t.number << ", type=" << t.type << ", codec_id='" << t.codec_id << "'";
        if (t.pixel_width) out << ", pixel_width=" << *t.pixel_width << ", pixel_height=" << t.pixel_height.value_or(0);
        if (t.sampling_frequency) out << ", sampling_frequency=" << *t.sampling_frequency;
        out << ", codec_private=<" << t.codec_private.size() << " bytes>)";
        return out.str();
      });
}

void BindTag(py::module_& m) {
  py::class_<Tag>(m, "Tag", "A SimpleTag: a name with a string (TagString) or bytes (TagBinary) value.")
      .def_readonly("name", &Tag::name)
      .def_property_readonly("value",
                             [](const Tag& t) -> py::object {
                               if (t.is_binary) return ToBytes(t.binary);
                               return py::cast(t.value);
                             })
      .def_readonly("is_binary", &Tag::is_binary)
      .def_readonly("depth", &Tag::depth, "0 for a SimpleTag directly in a Tag, 1+ when nested.")
      .def("__repr__", [](const Tag& t) {
        return "Tag(name=" + py::repr(py::cast(t.name)).cast<std::string>() + ", value=" +
               py::repr(t.is_binary ? py::object(ToBytes(t.binary)) : py::object(py::cast(t.value)))
                   .cast<std::string>() +
               ")";
      });
}

void BindFragment(py::module_& m) {
  py::class_<FragmentStart>(m, "FragmentStart", "A Segment (KVS fragment) has started.")
      .def_readonly("index", &FragmentStart::index)
      .def_readonly("offset", &FragmentStart::offset)
      .def("__repr__", [](const FragmentStart& s) {
        return "FragmentStart(index=" + std::to_string(s.index) + ", offset=" + std::to_string(s.offset) + ")";
      });

  py::class_<FragmentEnd>(m, "FragmentMetadata", "A finished Segment (KVS fragment) with its KVS metadata.")
      .def_readonly("index", &FragmentEnd::index)
      .def_readonly("start_offset", &FragmentEnd::start_offset)
      .def_readonly("end_offset", &FragmentEnd::end_offset)
      .def_readonly("complete", &FragmentEnd::complete,
                    "False when the stream was cut or corrupt inside this fragment.")
      .def_readonly("frame_count", &FragmentEnd::frame_count)
      .def_readonly("timecode_scale", &FragmentEnd::timecode_scale)
      .def_property_readonly("fragment_number", [](const FragmentEnd& f) { return ToPy(f.metadata.fragment_number); })
      .def_property_readonly("server_timestamp_ms",
                             [](const FragmentEnd& f) { return ToPy(f.metadata.server_timestamp_ms); })
      .def_property_readonly("producer_timestamp_ms",
                             [](const FragmentEnd& f) { return ToPy(f.metadata.producer_timestamp_ms); })
      .def_property_readonly("millis_behind_now", [](const FragmentEnd& f) { return ToPy(f.metadata.millis_behind_now); })
      .def_property_readonly("continuation_token",
                             [](const FragmentEnd& f) { return ToPy(f.metadata.continuation_token); })
      .def_property_readonly("error_code", [](const FragmentEnd& f) { return ToPy(f.metadata.error_code); })
      .def_property_readonly("error_id", [](const FragmentEnd& f) { return ToPy(f.metadata.error_id); })
      .def_property_readonly("error_message", [](const FragmentEnd& f) { return ToPy(f.metadata.error_message); })
      .def_property_readonly("is_error", [](const FragmentEnd& f) {
        return f.metadata.error_code.has_value() || f.metadata.error_id.value_or(0) != 0;
      })
      .def_readonly("tags", &FragmentEnd::tags)
      .def_readonly("tracks", &FragmentEnd::tracks)
      .def("tags_dict",
           [](const FragmentEnd& f) {
             py::dict out;
             for (const Tag& t : f.tags) out[py::cast(t.name)] = t.is_binary ? py::object(ToBytes(t.binary))
                                                                             : py::object(py::cast(t.value));
             return out;
           },
           "The tags as a dict (a later tag of the same name wins).")
      .def("__repr__", [](const FragmentEnd& f) {
        std::ostringstream out;
        out << "FragmentMetadata(index=" << f.index << ", fragment_number="
            << (f.metadata.fragment_number ? "'" + *f.metadata.fragment_number + "'" : "None")
            << ", producer_timestamp_ms="
            << (f.metadata.producer_timestamp_ms ? std::to_string(*f.metadata.producer_timestamp_ms) : "None")
            << ", server_timestamp_ms="
            << (f.metadata.server_timestamp_ms ? std::to_string(*f.metadata.server_timestamp_ms) : "None")
            << ", frames=" << f.frame_count << ", tags=" << f.tags.size() << ", tracks=" << f.tracks.size()
            << ", complete=" << (f.complete ? "True" : "False") << ")";
        return out.str();
      });
}

void BindLimits(py::module_& m) {
  py::class_<Limits>(m, "ParserLimits", "Bounds on what hostile input can make the parser hold.")
      .def(py::init([](py::kwargs kwargs) {
             Limits limits;
             py::object self = py::cast(limits);
             for (auto item : kwargs) {
               if (!py::hasattr(self, item.first)) {
                 throw py::type_error("unknown limit: " + item.first.cast<std::string>());
               }
               py::setattr(self, item.first, item.second);
             }
             return self.cast<Limits>();
           }),
           "ParserLimits(**limits): any field below, by keyword.")
      .def_readwrite("max_frame_size", &Limits::max_frame_size)
      .def_readwrite("max_buffered_element", &Limits::max_buffered_element)
      .def_readwrite("max_element_size", &Limits::max_element_size)
      .def_readwrite("max_segment_size", &Limits::max_segment_size)
      .def_readwrite("max_depth", &Limits::max_depth)
      .def_readwrite("max_tags_per_fragment", &Limits::max_tags_per_fragment)
      .def_readwrite("max_tracks", &Limits::max_tracks)
      .def_readwrite("max_fragment_metadata", &Limits::max_fragment_metadata)
      .def("__repr__", [](const Limits& l) {
        std::ostringstream out;
        out << "ParserLimits(max_frame_size=" << l.max_frame_size << ", max_buffered_element=" << l.max_buffered_element
            << ", max_element_size=" << l.max_element_size << ", max_segment_size=" << l.max_segment_size
            << ", max_depth=" << l.max_depth << ", max_tags_per_fragment=" << l.max_tags_per_fragment
            << ", max_tracks=" << l.max_tracks << ", max_fragment_metadata=" << l.max_fragment_metadata << ")";
        return out.str();
      });
}

}  // namespace

void init_objects(py::module_& m) {
  BindFrame(m);
  BindBlockHeader(m);
  BindContentEncoding(m);
  BindTrack(m);
  BindTag(m);
  BindFragment(m);
  BindLimits(m);
}

}  // namespace kvs::py_binding
