// Matroska/EBML element IDs the parser knows, with their marker bits kept (as written on the wire).
// What the parser does with each is in the schema table (cpp/src/schema.cc): one row per element.
#pragma once

#include <cstdint>

namespace kvs {

enum class Id : std::uint32_t {
  // EBML header and top level.
  kEbml = 0x1A45DFA3,
  kSegment = 0x18538067,
  // Global elements that may appear anywhere.
  kVoid = 0xEC,
  kCrc32 = 0xBF,
  // Segment children.
  kSeekHead = 0x114D9B74,
  kInfo = 0x1549A966,
  kTracks = 0x1654AE6B,
  kCluster = 0x1F43B675,
  kCues = 0x1C53BB6B,
  kChapters = 0x1043A770,
  kTags = 0x1254C367,
  kAttachments = 0x1941A469,
  // Info.
  kTimecodeScale = 0x2AD7B1,
  // Tracks.
  kTrackEntry = 0xAE,
  kTrackNumber = 0xD7,
  kTrackUid = 0x73C5,
  kTrackType = 0x83,
  kCodecId = 0x86,
  kCodecName = 0x258688,
  kCodecPrivate = 0x63A2,
  kName = 0x536E,
  kDefaultDuration = 0x23E383,
  kCodecDelay = 0x56AA,
  kSeekPreRoll = 0x56BB,
  kVideo = 0xE0,
  kPixelWidth = 0xB0,
  kPixelHeight = 0xBA,
  kAudio = 0xE1,
  kSamplingFrequency = 0xB5,
  kChannels = 0x9F,
  kBitDepth = 0x6264,
  kContentEncodings = 0x6D80,
  kContentEncoding = 0x6240,
  kContentEncodingOrder = 0x5031,
  kContentEncodingScope = 0x5032,
  kContentEncodingType = 0x5033,
  kContentCompression = 0x5034,
  kContentCompAlgo = 0x4254,
  kContentCompSettings = 0x4255,
  kContentEncryption = 0x5035,
  kContentEncAlgo = 0x47E1,
  // Cluster.
  kTimecode = 0xE7,
  kSilentTracks = 0x5854,
  kPosition = 0xA7,
  kPrevSize = 0xAB,
  kSimpleBlock = 0xA3,
  kBlockGroup = 0xA0,
  kEncryptedBlock = 0xAF,
  kBlock = 0xA1,
  kBlockDuration = 0x9B,
  kReferenceBlock = 0xFB,
  // Tags.
  kTag = 0x7373,
  kSimpleTag = 0x67C8,
  kTagName = 0x45A3,
  kTagString = 0x4487,
  kTagBinary = 0x4485,
};

// A readable name for error paths ("Segment/Cluster/SimpleBlock"); nullptr for an ID the schema lacks.
const char* IdName(std::uint32_t id);

}  // namespace kvs
