// What the parser does with each Matroska/KVS element it knows: the handlers the schema table's rows
// point to. A friend of StreamParser, so the rows can update the fragment, track and tag being read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kvs_parser/stream_parser.h"
#include "kvs_parser/types.h"
#include "schema.h"
#include "values.h"

namespace kvs {

class Matroska {
 public:
  // Info.
  static void TimecodeScale(StreamParser& p, const Value& v);
  // Tracks.
  static bool TracksStart(StreamParser& p);
  static void TracksEnd(StreamParser& p, std::uint64_t start, bool complete);
  static bool TrackEntryStart(StreamParser& p);
  static void TrackEntryEnd(StreamParser& p, std::uint64_t start, bool complete);
  // A TrackEntry field set from its value: a row names the field, no handler of its own.
  template <std::uint64_t TrackInfo::*Field>
  static void TrackNumberField(StreamParser& p, const Value& v);
  template <std::optional<std::uint64_t> TrackInfo::*Field>
  static void TrackOptionalField(StreamParser& p, const Value& v);
  template <std::string TrackInfo::*Field>
  static void TrackStringField(StreamParser& p, const Value& v);
  static void CodecPrivate(StreamParser& p, const Value& v);
  static void SamplingFrequency(StreamParser& p, const Value& v);
  // ContentEncodings.
  static bool ContentEncodingStart(StreamParser& p);
  static void ContentEncodingOrder(StreamParser& p, const Value& v);
  static void ContentEncodingScope(StreamParser& p, const Value& v);
  static void ContentEncodingType(StreamParser& p, const Value& v);
  static void ContentCompAlgo(StreamParser& p, const Value& v);
  static void ContentCompSettings(StreamParser& p, const Value& v);
  static bool ContentEncryptionStart(StreamParser& p);
  static void ContentEncAlgo(StreamParser& p, const Value& v);
  // Clusters and blocks.
  static bool ClusterStart(StreamParser& p);
  static void ClusterTimecode(StreamParser& p, const Value& v);
  static bool BlockGroupStart(StreamParser& p);
  static void BlockGroupEnd(StreamParser& p, std::uint64_t start, bool complete);
  static void BlockDuration(StreamParser& p, const Value& v);
  static void ReferenceBlock(StreamParser& p, const Value& v);
  // Tags.
  static bool TagsStart(StreamParser& p);
  static void TagsEnd(StreamParser& p, std::uint64_t start, bool complete);
  static bool SimpleTagStart(StreamParser& p);
  static void SimpleTagEnd(StreamParser& p, std::uint64_t start, bool complete);
  // Whether a SimpleTag just read is kept: not when its name or value is not UTF-8, nor a user tag over
  // max_tags_per_fragment (AWS_KINESISVIDEO_* tags are not charged to it). A dropped tag is reported.
  static bool KeepSimpleTag(StreamParser& p, std::uint64_t start, std::size_t index);
  static void TagName(StreamParser& p, const Value& v);
  static void TagString(StreamParser& p, const Value& v);
  static void TagBinary(StreamParser& p, const Value& v);
  // Segment.
  static void SegmentEnd(StreamParser& p, std::uint64_t start, bool complete);
};

template <std::uint64_t TrackInfo::*Field>
void Matroska::TrackNumberField(StreamParser& p, const Value& v) {
  p.track_.*Field = v.number;
}

template <std::optional<std::uint64_t> TrackInfo::*Field>
void Matroska::TrackOptionalField(StreamParser& p, const Value& v) {
  p.track_.*Field = v.number;
}

template <std::string TrackInfo::*Field>
void Matroska::TrackStringField(StreamParser& p, const Value& v) {
  p.track_.*Field = ReadString(v.data, v.size);
}

}  // namespace kvs
