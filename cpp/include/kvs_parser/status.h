// Parse errors: a code, where in the stream, and in which element. No exceptions on the hot path.
#pragma once

#include <cstdint>
#include <string>

namespace kvs {

enum class ErrorCode : int {
  kInvalidVint = 1,            // an ID or size whose length marker is missing (length 0 or > 8)
  kInvalidId = 2,              // an element ID longer than 4 bytes
  kUnknownSizeNotAllowed = 3,  // unknown size on an element that must have a known size
  kElementOverflowsParent = 4,
  kElementTooLarge = 5,        // larger than the configured limit
  kFrameTooLarge = 6,
  kTooDeep = 7,
  kInvalidBlock = 8,           // bad block header or lacing
  kInvalidValue = 9,           // a number of a size the spec does not allow
  kUnexpectedTopLevel = 10,    // EBML header or Segment inside a known-size element
  kLimitExceeded = 11,         // too many tags or tracks for one fragment
  kTruncated = 12,             // the stream ended inside an element
  kUnexpectedElement = 13,     // at the top level, neither an EBML header, a Segment nor a Cluster
  kUndecodableFrame = 14,      // a frame whose ContentEncoding could not be undone (handed out as stored)
};

const char* ErrorCodeName(ErrorCode code);

struct ParseError {
  ErrorCode code;
  std::uint64_t offset;     // absolute byte offset of the offending element (or byte) in the stream
  std::string element_path;  // e.g. "Segment/Cluster/SimpleBlock"
  std::string message;
};

}  // namespace kvs
