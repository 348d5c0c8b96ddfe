#include "content_encoding.h"

#include <algorithm>
#include <climits>
#include <utility>

#ifdef KVS_PARSER_HAVE_ZLIB
#include <zlib.h>
#endif

namespace kvs {

namespace {

constexpr std::uint64_t kZlib = 0;
constexpr std::uint64_t kHeaderStripping = 3;

#ifdef KVS_PARSER_HAVE_ZLIB
// Owns a z_stream for one inflate.
class Inflater {
 public:
  Inflater() { ok_ = inflateInit(&stream_) == Z_OK; }
  ~Inflater() {
    if (ok_) inflateEnd(&stream_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  DecodeStatus Run(ByteView in, std::uint64_t max_size, std::vector<std::uint8_t>* out) {
    if (!ok_ || in.size > UINT_MAX) return DecodeStatus::kCorrupt;
    stream_.next_in = const_cast<Bytef*>(in.data);
    stream_.avail_in = static_cast<uInt>(in.size);
    out->clear();
    std::size_t produced = 0;
    while (true) {
      if (produced == out->size()) {
        if (out->size() >= max_size) return DecodeStatus::kTooLarge;
        // Grow geometrically from about the compressed size; bounded by the frame limit.
        const std::uint64_t grown = std::max<std::uint64_t>({4096, in.size * 2, out->size() * 2});
        const std::uint64_t step = std::min<std::uint64_t>({grown, max_size, std::uint64_t{UINT_MAX}});
        out->resize(static_cast<std::size_t>(step));
      }
      stream_.next_out = out->data() + produced;
      stream_.avail_out = static_cast<uInt>(out->size() - produced);
      const int result = inflate(&stream_, Z_NO_FLUSH);
      produced = out->size() - stream_.avail_out;
      if (result == Z_STREAM_END) break;
      if (result == Z_BUF_ERROR && stream_.avail_in == 0) return DecodeStatus::kCorrupt;  // cut short
      if (result != Z_OK && result != Z_BUF_ERROR) return DecodeStatus::kCorrupt;
    }
    out->resize(produced);
    return DecodeStatus::kDecoded;
  }

 private:
  z_stream stream_{};
  bool ok_ = false;
};
#endif

DecodeStatus DecodeOne(const ContentEncoding& encoding, ByteView in, std::uint64_t max_size,
                       std::vector<std::uint8_t>* out) {
  if (encoding.type != 0 || encoding.encrypted) return DecodeStatus::kUnsupported;
  if (encoding.compression_algorithm == kHeaderStripping) {
    const std::vector<std::uint8_t>& header = encoding.compression_settings;
    if (header.size() + in.size > max_size) return DecodeStatus::kTooLarge;
    out->clear();
    out->reserve(header.size() + in.size);
    out->insert(out->end(), header.begin(), header.end());
    out->insert(out->end(), in.data, in.data + in.size);
    return DecodeStatus::kDecoded;
  }
#ifdef KVS_PARSER_HAVE_ZLIB
  if (encoding.compression_algorithm == kZlib) return Inflater().Run(in, max_size, out);
#endif
  return DecodeStatus::kUnsupported;
}

}  // namespace

bool AppliesTo(const std::vector<ContentEncoding>& encodings, std::uint64_t scope) {
  return std::any_of(encodings.begin(), encodings.end(),
                     [scope](const ContentEncoding& e) { return (e.scope & scope) != 0; });
}

DecodeStatus Decode(const std::vector<ContentEncoding>& encodings, std::uint64_t scope, ByteView in,
                    std::uint64_t max_size, std::vector<std::uint8_t>* out) {
  std::vector<const ContentEncoding*> order;
  for (const ContentEncoding& e : encodings) {
    if ((e.scope & scope) != 0) order.push_back(&e);
  }
  if (order.empty()) return DecodeStatus::kUnchanged;
  std::stable_sort(order.begin(), order.end(),
                   [](const ContentEncoding* a, const ContentEncoding* b) { return a->order > b->order; });
  std::vector<std::uint8_t> scratch;
  ByteView current = in;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const DecodeStatus status = DecodeOne(*order[k], current, max_size, &scratch);
    if (status != DecodeStatus::kDecoded) return status;
    std::swap(scratch, *out);
    current = ByteView{out->data(), out->size()};
  }
  return DecodeStatus::kDecoded;
}

const char* DecodeStatusText(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::kUnchanged: return "not encoded";
    case DecodeStatus::kDecoded: return "decoded";
    case DecodeStatus::kUnsupported: return "its ContentEncoding (encryption, bzlib or lzo1x) is not supported";
    case DecodeStatus::kCorrupt: return "its zlib stream does not inflate";
    case DecodeStatus::kTooLarge: return "it inflates past the frame size limit";
  }
  return "";
}

}  // namespace kvs
