// KVS fragment metadata carried in AWS_KINESISVIDEO_* SimpleTags.
#pragma once

#include "kvs_parser/types.h"

namespace kvs {

// Updates `metadata` when `tag` is one of the KVS tags (GetMedia and GetMediaForFragmentList spellings).
// With `keep_first_identity`, a fragment number, timestamp or error already set is kept: a Segment that
// merges several fragments is identified by its first (as the Java library reports it), while
// MILLIS_BEHIND_NOW and CONTINUATION_TOKEN always take the latest value.
void ApplyKvsTag(const Tag& tag, FragmentMetadata* metadata, bool keep_first_identity);

}  // namespace kvs
