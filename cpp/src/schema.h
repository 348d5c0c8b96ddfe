// The Matroska/KVS schema as data: one row per element the parser knows (its ID, parent, kind and what
// to do with it), so that supporting a new element is one row here plus, when it carries a value, one
// handler in matroska.cc. Elements with no row are skipped by size (or end an unknown-size parent).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kvs_parser/ids.h"

namespace kvs {

class StreamParser;

enum class Kind : std::uint8_t {
  kMaster,    // opened and closed around its children
  kUnsigned,  // leaf values, buffered whole (bounded by Limits::max_buffered_element)
  kFloat,
  kString,    // kept with the fragment: charged to Limits::max_fragment_metadata
  kBinary,    // likewise
  kRaw,       // bytes the handler only looks at, not kept
  kBlock,     // SimpleBlock or Block: read by the block reader
  kIgnored,   // known (so it is a valid child of an unknown-size parent) but skipped by size
};

// A leaf value decoded according to its row's kind: `number` for kUnsigned, `real` for kFloat, the
// bytes for the rest.
struct Value {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::uint64_t number = 0;
  double real = 0;
};

using ValueHandler = void (*)(StreamParser&, const Value&);
// A master's start: false when the handler rejected or ignored it (it then set the parser's state).
using StartHandler = bool (*)(StreamParser&);
// `start`: the offset of the element's header, for errors.
using EndHandler = void (*)(StreamParser&, std::uint64_t start, bool complete);

// Parent IDs that are not elements: the top level, and "any parent" for global elements.
constexpr std::uint32_t kTopLevel = 0;
constexpr std::uint32_t kAnyParent = 0xFFFFFFFFu;

struct ElementSpec {
  Id id;
  std::uint32_t parent;
  Kind kind;
  const char* name;
  ValueHandler on_value = nullptr;  // leaves
  StartHandler on_start = nullptr;  // masters
  EndHandler on_end = nullptr;      // masters
};

// The row for `id` as a child of `parent` (an exact parent first, then a row for any parent), or nullptr.
const ElementSpec* FindElementInTable(std::uint32_t id, std::uint32_t parent);
// The schema's first row: a SimpleBlock in a Cluster, nearly every element of a stream.
extern const ElementSpec& kSimpleBlockInCluster;
inline const ElementSpec* FindElement(std::uint32_t id, std::uint32_t parent) {
  if (id == static_cast<std::uint32_t>(Id::kSimpleBlock) && parent == static_cast<std::uint32_t>(Id::kCluster)) {
    return &kSimpleBlockInCluster;  // inline: the one lookup every frame makes
  }
  return FindElementInTable(id, parent);
}
// Whether `id` may appear directly in `parent` (an exact row, or a global element such as Void): what
// decides where an unknown-size element ends (RFC 8794 section 6.2).
// `found` is FindElement(id, parent) when the caller has it already.
inline bool IsValidChild(std::uint32_t id, std::uint32_t parent, const ElementSpec* found) {
  if (id == static_cast<std::uint32_t>(Id::kVoid) || id == static_cast<std::uint32_t>(Id::kCrc32)) {
    return true;  // EBML global elements
  }
  return found != nullptr && found->parent == parent;  // FindElement prefers the exact parent's row
}
inline bool IsValidChild(std::uint32_t id, std::uint32_t parent) {
  return IsValidChild(id, parent, FindElement(id, parent));
}

// IdName, or the ID in hex for one the schema lacks.
std::string ElementName(std::uint32_t id);

}  // namespace kvs
