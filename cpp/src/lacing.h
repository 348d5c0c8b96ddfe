// Splitting a laced block payload (after its 4+ byte header) into frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kvs_parser/types.h"

namespace kvs {

// Fills `frames` with views into `data`; on malformed lacing returns false and says why in `error`.
bool SplitLaces(Lacing lacing, const std::uint8_t* data, std::size_t size, std::vector<ByteView>* frames,
                std::string* error);

}  // namespace kvs
