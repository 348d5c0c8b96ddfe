// KVS fragment metadata carried in AWS_KINESISVIDEO_* SimpleTags.
#pragma once

#include "kvs_parser/types.h"

namespace kvs {

// Updates `metadata` when `tag` is one of the KVS tags (GetMedia and GetMediaForFragmentList spellings).
void ApplyKvsTag(const Tag& tag, FragmentMetadata* metadata);

}  // namespace kvs
