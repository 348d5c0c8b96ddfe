#include "kvs_parser/status.h"

namespace kvs {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidVint: return "invalid_vint";
    case ErrorCode::kInvalidId: return "invalid_id";
    case ErrorCode::kUnknownSizeNotAllowed: return "unknown_size_not_allowed";
    case ErrorCode::kElementOverflowsParent: return "element_overflows_parent";
    case ErrorCode::kElementTooLarge: return "element_too_large";
    case ErrorCode::kFrameTooLarge: return "frame_too_large";
    case ErrorCode::kTooDeep: return "too_deep";
    case ErrorCode::kInvalidBlock: return "invalid_block";
    case ErrorCode::kInvalidValue: return "invalid_value";
    case ErrorCode::kUnexpectedTopLevel: return "unexpected_top_level";
    case ErrorCode::kLimitExceeded: return "limit_exceeded";
    case ErrorCode::kTruncated: return "truncated";
    case ErrorCode::kUnexpectedElement: return "unexpected_element";
    case ErrorCode::kUndecodableFrame: return "undecodable_frame";
  }
  return "unknown";
}

}  // namespace kvs
