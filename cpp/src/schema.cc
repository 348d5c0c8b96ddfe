#include "schema.h"

#include <cstdio>

#include "matroska.h"

namespace kvs {

namespace {

constexpr std::uint32_t P(Id id) { return static_cast<std::uint32_t>(id); }

using M = Matroska;

// Rows are searched in order: the elements of every frame come first. A TrackEntry field is one row
// naming the TrackInfo member it fills (plus the member in kvs_parser/types.h).
const ElementSpec kSchema[] = {
    // id                       parent                    kind            name
    {Id::kSimpleBlock, P(Id::kCluster), Kind::kBlock, "SimpleBlock"},
    {Id::kBlockGroup, P(Id::kCluster), Kind::kMaster, "BlockGroup", nullptr, M::BlockGroupStart, M::BlockGroupEnd},
    {Id::kBlock, P(Id::kBlockGroup), Kind::kBlock, "Block"},
    {Id::kReferenceBlock, P(Id::kBlockGroup), Kind::kRaw, "ReferenceBlock", M::ReferenceBlock},
    {Id::kBlockDuration, P(Id::kBlockGroup), Kind::kUnsigned, "BlockDuration", M::BlockDuration},
    {Id::kTimecode, P(Id::kCluster), Kind::kUnsigned, "Timecode", M::ClusterTimecode},
    {Id::kSilentTracks, P(Id::kCluster), Kind::kIgnored, "SilentTracks"},
    {Id::kPosition, P(Id::kCluster), Kind::kIgnored, "Position"},
    {Id::kPrevSize, P(Id::kCluster), Kind::kIgnored, "PrevSize"},
    {Id::kEncryptedBlock, P(Id::kCluster), Kind::kIgnored, "EncryptedBlock"},
    // Blocks directly in a Segment: what is left of a Cluster whose header was lost.
    {Id::kSimpleBlock, P(Id::kSegment), Kind::kBlock, "SimpleBlock"},
    {Id::kBlockGroup, P(Id::kSegment), Kind::kMaster, "BlockGroup", nullptr, M::BlockGroupStart, M::BlockGroupEnd},

    // Top level and Segment.
    {Id::kEbml, kTopLevel, Kind::kIgnored, "EBML"},
    {Id::kSegment, kTopLevel, Kind::kMaster, "Segment", nullptr, nullptr, M::SegmentEnd},
    {Id::kSeekHead, P(Id::kSegment), Kind::kIgnored, "SeekHead"},
    {Id::kInfo, P(Id::kSegment), Kind::kMaster, "Info"},
    {Id::kTracks, P(Id::kSegment), Kind::kMaster, "Tracks", nullptr, M::TracksStart, M::TracksEnd},
    {Id::kCluster, P(Id::kSegment), Kind::kMaster, "Cluster", nullptr, M::ClusterStart},
    {Id::kCues, P(Id::kSegment), Kind::kIgnored, "Cues"},
    {Id::kChapters, P(Id::kSegment), Kind::kIgnored, "Chapters"},
    {Id::kTags, P(Id::kSegment), Kind::kMaster, "Tags", nullptr, M::TagsStart, M::TagsEnd},
    {Id::kAttachments, P(Id::kSegment), Kind::kIgnored, "Attachments"},
    {Id::kVoid, kAnyParent, Kind::kIgnored, "Void"},
    {Id::kCrc32, kAnyParent, Kind::kIgnored, "CRC-32"},

    // Info.
    {Id::kTimecodeScale, P(Id::kInfo), Kind::kUnsigned, "TimecodeScale", M::TimecodeScale},

    // Tracks.
    {Id::kTrackEntry, P(Id::kTracks), Kind::kMaster, "TrackEntry", nullptr, M::TrackEntryStart, M::TrackEntryEnd},
    {Id::kTrackNumber, P(Id::kTrackEntry), Kind::kUnsigned, "TrackNumber", M::TrackNumberField<&TrackInfo::number>},
    {Id::kTrackUid, P(Id::kTrackEntry), Kind::kUnsigned, "TrackUID", M::TrackNumberField<&TrackInfo::uid>},
    {Id::kTrackType, P(Id::kTrackEntry), Kind::kUnsigned, "TrackType", M::TrackNumberField<&TrackInfo::type>},
    {Id::kCodecId, P(Id::kTrackEntry), Kind::kString, "CodecID", M::TrackStringField<&TrackInfo::codec_id>},
    {Id::kCodecName, P(Id::kTrackEntry), Kind::kString, "CodecName", M::TrackStringField<&TrackInfo::codec_name>},
    {Id::kCodecPrivate, P(Id::kTrackEntry), Kind::kBinary, "CodecPrivate", M::CodecPrivate},
    {Id::kName, P(Id::kTrackEntry), Kind::kString, "Name", M::TrackStringField<&TrackInfo::name>},
    {Id::kDefaultDuration, P(Id::kTrackEntry), Kind::kUnsigned, "DefaultDuration", M::TrackOptionalField<&TrackInfo::default_duration_ns>},
    {Id::kCodecDelay, P(Id::kTrackEntry), Kind::kUnsigned, "CodecDelay", M::TrackOptionalField<&TrackInfo::codec_delay_ns>},
    {Id::kSeekPreRoll, P(Id::kTrackEntry), Kind::kUnsigned, "SeekPreRoll", M::TrackOptionalField<&TrackInfo::seek_pre_roll_ns>},
    {Id::kVideo, P(Id::kTrackEntry), Kind::kMaster, "Video"},
    {Id::kPixelWidth, P(Id::kVideo), Kind::kUnsigned, "PixelWidth", M::TrackOptionalField<&TrackInfo::pixel_width>},
    {Id::kPixelHeight, P(Id::kVideo), Kind::kUnsigned, "PixelHeight", M::TrackOptionalField<&TrackInfo::pixel_height>},
    {Id::kAudio, P(Id::kTrackEntry), Kind::kMaster, "Audio"},
    {Id::kSamplingFrequency, P(Id::kAudio), Kind::kFloat, "SamplingFrequency", M::SamplingFrequency},
    {Id::kChannels, P(Id::kAudio), Kind::kUnsigned, "Channels", M::TrackOptionalField<&TrackInfo::channels>},
    {Id::kBitDepth, P(Id::kAudio), Kind::kUnsigned, "BitDepth", M::TrackOptionalField<&TrackInfo::bit_depth>},
    {Id::kContentEncodings, P(Id::kTrackEntry), Kind::kMaster, "ContentEncodings"},
    {Id::kContentEncoding, P(Id::kContentEncodings), Kind::kMaster, "ContentEncoding", nullptr,
     M::ContentEncodingStart},
    {Id::kContentEncodingOrder, P(Id::kContentEncoding), Kind::kUnsigned, "ContentEncodingOrder",
     M::ContentEncodingOrder},
    {Id::kContentEncodingScope, P(Id::kContentEncoding), Kind::kUnsigned, "ContentEncodingScope",
     M::ContentEncodingScope},
    {Id::kContentEncodingType, P(Id::kContentEncoding), Kind::kUnsigned, "ContentEncodingType",
     M::ContentEncodingType},
    {Id::kContentCompression, P(Id::kContentEncoding), Kind::kMaster, "ContentCompression"},
    {Id::kContentCompAlgo, P(Id::kContentCompression), Kind::kUnsigned, "ContentCompAlgo", M::ContentCompAlgo},
    {Id::kContentCompSettings, P(Id::kContentCompression), Kind::kBinary, "ContentCompSettings",
     M::ContentCompSettings},
    {Id::kContentEncryption, P(Id::kContentEncoding), Kind::kMaster, "ContentEncryption", nullptr,
     M::ContentEncryptionStart},
    {Id::kContentEncAlgo, P(Id::kContentEncryption), Kind::kUnsigned, "ContentEncAlgo", M::ContentEncAlgo},

    // Tags (also accepted outside the Segment's top: TagsStart decides).
    {Id::kTags, kAnyParent, Kind::kMaster, "Tags", nullptr, M::TagsStart, M::TagsEnd},
    {Id::kTag, P(Id::kTags), Kind::kMaster, "Tag"},
    {Id::kSimpleTag, P(Id::kTag), Kind::kMaster, "SimpleTag", nullptr, M::SimpleTagStart, M::SimpleTagEnd},
    {Id::kSimpleTag, P(Id::kSimpleTag), Kind::kMaster, "SimpleTag", nullptr, M::SimpleTagStart, M::SimpleTagEnd},
    {Id::kTagName, P(Id::kSimpleTag), Kind::kString, "TagName", M::TagName},
    {Id::kTagString, P(Id::kSimpleTag), Kind::kString, "TagString", M::TagString},
    {Id::kTagBinary, P(Id::kSimpleTag), Kind::kBinary, "TagBinary", M::TagBinary},
};

}  // namespace

const ElementSpec& kSimpleBlockInCluster = kSchema[0];

const ElementSpec* FindElementInTable(std::uint32_t id, std::uint32_t parent) {
  const ElementSpec* any = nullptr;
  for (const ElementSpec& row : kSchema) {
    if (P(row.id) != id) continue;
    if (row.parent == parent) return &row;
    if (row.parent == kAnyParent && any == nullptr) any = &row;
  }
  return any;
}

const char* IdName(std::uint32_t id) {
  for (const ElementSpec& row : kSchema) {
    if (P(row.id) == id) return row.name;
  }
  return nullptr;
}

std::string ElementName(std::uint32_t id) {
  if (const char* name = IdName(id)) return name;
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%X", id);
  return hex;
}

}  // namespace kvs
