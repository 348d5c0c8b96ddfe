#include "kvs_parser/ids.h"

namespace kvs {

const char* IdName(std::uint32_t id) {
  switch (static_cast<Id>(id)) {
    case Id::kEbml: return "EBML";
    case Id::kSegment: return "Segment";
    case Id::kVoid: return "Void";
    case Id::kCrc32: return "CRC-32";
    case Id::kSeekHead: return "SeekHead";
    case Id::kInfo: return "Info";
    case Id::kTracks: return "Tracks";
    case Id::kCluster: return "Cluster";
    case Id::kCues: return "Cues";
    case Id::kChapters: return "Chapters";
    case Id::kTags: return "Tags";
    case Id::kAttachments: return "Attachments";
    case Id::kTimecodeScale: return "TimecodeScale";
    case Id::kTrackEntry: return "TrackEntry";
    case Id::kTrackNumber: return "TrackNumber";
    case Id::kTrackUid: return "TrackUID";
    case Id::kTrackType: return "TrackType";
    case Id::kCodecId: return "CodecID";
    case Id::kCodecName: return "CodecName";
    case Id::kCodecPrivate: return "CodecPrivate";
    case Id::kName: return "Name";
    case Id::kDefaultDuration: return "DefaultDuration";
    case Id::kVideo: return "Video";
    case Id::kPixelWidth: return "PixelWidth";
    case Id::kPixelHeight: return "PixelHeight";
    case Id::kAudio: return "Audio";
    case Id::kSamplingFrequency: return "SamplingFrequency";
    case Id::kChannels: return "Channels";
    case Id::kBitDepth: return "BitDepth";
    case Id::kTimecode: return "Timecode";
    case Id::kSimpleBlock: return "SimpleBlock";
    case Id::kBlockGroup: return "BlockGroup";
    case Id::kBlock: return "Block";
    case Id::kBlockDuration: return "BlockDuration";
    case Id::kReferenceBlock: return "ReferenceBlock";
    case Id::kTag: return "Tag";
    case Id::kSimpleTag: return "SimpleTag";
    case Id::kTagName: return "TagName";
    case Id::kTagString: return "TagString";
    case Id::kTagBinary: return "TagBinary";
  }
  return nullptr;
}

}  // namespace kvs
