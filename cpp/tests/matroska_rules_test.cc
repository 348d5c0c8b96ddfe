// The Matroska rules beyond plain blocks: where unknown-size elements end (RFC 8794 section 6.2),
// ContentEncoding undone (header stripping, zlib), lace times from DefaultDuration, CodecDelay and
// SeekPreRoll, and blocks skipped before any payload is copied. Every case also runs one byte per
// Feed and in random chunkings.
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#ifdef KVS_PARSER_HAVE_ZLIB
#include <zlib.h>
#endif

#include "check.h"
#include "kvs_parser/stream_parser.h"
#include "stream_builder.h"

using namespace kvs;
using namespace kvs_test;

namespace {

class Recorder : public Callback {
 public:
  std::ostringstream log;
  std::vector<Frame> frames;  // without their data
  std::vector<Bytes> payloads;
  std::vector<TrackInfo> tracks;
  std::vector<ParseError> errors;
  std::vector<FragmentEnd> ends;
  std::uint64_t skip_track = 0;  // OnFrameBegin skips this track's blocks (0: none)

  FrameAction OnFrameBegin(const Frame& f) override {
    log << "begin t" << f.track_number << " n" << f.payload_size << "\n";
    return f.track_number == skip_track ? FrameAction::kSkip : FrameAction::kRead;
  }
  void OnTracks(const std::vector<TrackInfo>& t) override { tracks.insert(tracks.end(), t.begin(), t.end()); }
  void OnFrame(Frame& f) override {
    payloads.emplace_back(f.data.data, f.data.data + f.data.size);
    log << "frame t" << f.track_number << " pts" << f.pts_ms << " l" << f.lace_index << " enc" << f.is_content_encoded
        << " n" << f.data.size << " fn" << f.fragment->fragment_number.value_or("-") << "\n";
    Frame copy = f;
    copy.data = ByteView{};
    copy.owned = nullptr;
    copy.fragment = nullptr;
    frames.push_back(copy);
  }
  void OnFragmentEnd(const FragmentEnd& e) override {
    ends.push_back(e);
    log << "end " << e.index << " complete=" << e.complete << " frames=" << e.frame_count << "\n";
  }
  void OnError(const ParseError& e) override {
    errors.push_back(e);
    log << "error " << ErrorCodeName(e.code) << "@" << e.offset << " " << e.element_path << "\n";
  }
};

// Parses `data` whole, then checks one-byte and random chunkings give the same log.
void Parse(const Bytes& data, Recorder* whole, Limits limits = {}) {
  {
    StreamParser parser(*whole, limits);
    parser.Feed(data.data(), data.size());
    parser.Close();
  }
  for (unsigned seed = 0; seed < 4; ++seed) {
    Recorder chunked;
    chunked.skip_track = whole->skip_track;
    StreamParser parser(chunked, limits);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(1, seed == 0 ? 1 : 700);
    for (std::size_t at = 0; at < data.size();) {
      const std::size_t n = std::min(pick(rng), data.size() - at);
      const Bytes chunk(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + n));
      parser.Feed(chunk.data(), chunk.size());
      at += n;
    }
    parser.Close();
    CHECK_EQ(chunked.log.str(), whole->log.str());
  }
}

Bytes Track(std::uint64_t number, const std::string& codec, const Bytes& extra) {
  return Element(0xAE, Cat({Uint(0xD7, number), Uint(0x83, codec[0] == 'V' ? 1 : 2), Str(0x86, codec), extra}));
}

// One fragment: unknown-size Segment and Cluster, as GetMedia sends them (TimecodeScale 1 ms and Cluster
// Timecode 1000 unless given).
Bytes Fragment(const std::string& number, const Bytes& tracks, const Bytes& blocks,
               std::uint64_t timecode_scale = 1000000, std::uint64_t cluster_timecode = 1000) {
  return Cat({EbmlHeader(), UnknownSize(0x18538067), Element(0x1549A966, Uint(0x2AD7B1, timecode_scale)),
              Element(0x1654AE6B, tracks),
              Element(0x1254C367, Element(0x7373, SimpleTag("AWS_KINESISVIDEO_FRAGMENT_NUMBER", number))),
              UnknownSize(0x1F43B675), Uint(0xE7, cluster_timecode), blocks});
}

Bytes Encoding(std::uint64_t algorithm, const Bytes& settings, std::uint64_t scope = 1, std::uint64_t order = 0) {
  Bytes compression = Uint(0x4254, algorithm);
  if (!settings.empty()) compression = Cat({compression, Element(0x4255, settings)});
  return Element(0x6D80, Element(0x6240, Cat({Uint(0x5031, order), Uint(0x5032, scope), Uint(0x5033, 0),
                                               Element(0x5034, compression)})));
}

Bytes FixedLaced(std::uint8_t track, std::int16_t timecode, const std::vector<Bytes>& laces) {
  Bytes payload = {static_cast<std::uint8_t>(laces.size() - 1)};
  for (const Bytes& lace : laces) payload.insert(payload.end(), lace.begin(), lace.end());
  return Element(0xA3, BlockBody(track, timecode, 0x84, payload));
}

#ifdef KVS_PARSER_HAVE_ZLIB
Bytes Deflate(const Bytes& in) {
  uLongf size = compressBound(static_cast<uLong>(in.size()));
  Bytes out(size);
  compress(out.data(), &size, in.data(), static_cast<uLong>(in.size()));
  out.resize(size);
  return out;
}
#endif

// ---- RFC 8794 section 6.2 ------------------------------------------------------------------------

void GarbageBetweenFragmentsDoesNotSwallowTheNext() {
  const Bytes a = KvsFragment("1", 1000, 3);
  const Bytes b = KvsFragment("2", 2000, 2);
  const Bytes c = KvsFragment("3", 3000, 4);
  // An "element" claiming 1 MiB (more than all that follows), then other random-looking bytes.
  const Bytes claim = {0x4D, 0xBB, 0x83, 0x10, 0x00, 0x00};
  Recorder rec;
  Parse(Cat({a, claim, Bytes(40, 0x42), b, c}), &rec);
  CHECK_EQ(rec.frames.size(), 9u);
  CHECK_EQ(rec.ends.size(), 3u);
  CHECK_EQ(rec.errors.size(), 1u);
  CHECK(rec.errors.size() == 1 && rec.errors[0].code == ErrorCode::kUnexpectedElement);
  CHECK(rec.ends.size() == 3 && rec.ends[0].complete && rec.ends[1].complete && rec.ends[2].complete);

  // Random bytes: whatever they read as, the fragments after them come through whole. (Bytes that
  // happen to read as a valid Cluster child, such as a SimpleBlock, are indistinguishable from data:
  // those seeds are skipped, as FFmpeg would be fooled too.)
  int seeds = 0;
  for (unsigned seed = 1; seeds < 40; ++seed) {
    std::mt19937 rng(seed);
    Bytes garbage(64 + rng() % 200);
    for (std::uint8_t& byte : garbage) byte = static_cast<std::uint8_t>(rng());
    const std::uint8_t first = garbage[0];
    if (first == 0xA3 || first == 0xA0 || first == 0xE7 || first == 0xA7 || first == 0xAB || first == 0xAF ||
        first == 0xEC || first == 0xBF || first == 0x58 || first == 0x1F || first == 0x18 || first == 0x1A) {
      continue;
    }
    ++seeds;
    Recorder random;
    Parse(Cat({a, garbage, b, c}), &random);
    int later = 0;
    for (const Frame& f : random.frames) later += f.pts_ms >= 2000 ? 1 : 0;
    CHECK_EQ(later, 6);
    if (later != 6) std::printf("seed %u lost frames after its garbage\n", seed);
  }
}

void UnknownElementInsideKnownSizeParentIsSkippedBySize() {
  const Bytes cluster = Element(0x1F43B675, Cat({Uint(0xE7, 50), SimpleBlock(1, 0, true, Bytes(10, 1)),
                                                 Element(0x4DBB, Bytes(30, 0xA3)), SimpleBlock(1, 5, false, Bytes(10, 2))}));
  Recorder rec;
  Parse(Cat({EbmlHeader(), UnknownSize(0x18538067), cluster}), &rec);
  CHECK_EQ(rec.frames.size(), 2u);
  CHECK(rec.errors.empty());
}

void ElementNotValidInAnUnknownSizeClusterEndsIt() {
  // A Tags element (a Segment child) ends the Cluster; a Cues (another) too; the Segment goes on.
  const Bytes stream = Cat({EbmlHeader(), UnknownSize(0x18538067), UnknownSize(0x1F43B675), Uint(0xE7, 10),
                            SimpleBlock(1, 0, true, Bytes(5, 1)), Element(0x1C53BB6B, Bytes(4, 0)),
                            UnknownSize(0x1F43B675), Uint(0xE7, 20), SimpleBlock(1, 0, true, Bytes(5, 2))});
  Recorder rec;
  Parse(stream, &rec);
  CHECK_EQ(rec.frames.size(), 2u);
  CHECK(rec.errors.empty());
  CHECK(rec.frames.size() == 2 && rec.frames[1].pts_ms == 20);
  CHECK_EQ(rec.ends.size(), 1u);
}

// ---- ContentEncoding -------------------------------------------------------------------------------

void HeaderStrippingIsUndone() {
  const Bytes header = {0x00, 0x00, 0x00, 0x01};
  const Bytes tracks = Track(1, "V_MPEG4/ISO/AVC", Encoding(3, header));
  Recorder rec;
  Parse(Fragment("1", tracks, Cat({SimpleBlock(1, 0, true, {0x65, 0x88}), SimpleBlock(1, 33, false, Bytes(3000, 7))})),
        &rec);
  CHECK_EQ(rec.payloads.size(), 2u);
  CHECK(rec.payloads.size() == 2 && rec.payloads[0] == Bytes({0x00, 0x00, 0x00, 0x01, 0x65, 0x88}));
  CHECK(rec.payloads.size() == 2 && rec.payloads[1].size() == 3004);
  CHECK(rec.tracks.size() == 1 && rec.tracks[0].content_encodings.size() == 1);
  if (rec.tracks.size() == 1 && rec.tracks[0].content_encodings.size() == 1) {
    const ContentEncoding& e = rec.tracks[0].content_encodings[0];
    CHECK(e.compression_algorithm == 3 && e.scope == 1 && e.type == 0 && e.compression_settings == header &&
          !e.encrypted);
  }
  CHECK(rec.errors.empty());
}

void ZlibFramesAndCodecPrivateAreInflated() {
#ifdef KVS_PARSER_HAVE_ZLIB
  Bytes big(20000);
  for (std::size_t k = 0; k < big.size(); ++k) big[k] = static_cast<std::uint8_t>(k * 7 / 3);
  const Bytes codec_private = {0x01, 0x64, 0x00, 0x1F, 0xFF, 0xE1};
  const Bytes tracks = Track(1, "V_MPEG4/ISO/AVC", Cat({Element(0x63A2, Deflate(codec_private)), Encoding(0, {}, 3)}));
  Recorder rec;
  Parse(Fragment("1", tracks, Cat({SimpleBlock(1, 0, true, Deflate({1, 2, 3})), SimpleBlock(1, 33, false, Deflate(big))})),
        &rec);
  CHECK(rec.payloads.size() == 2 && rec.payloads[0] == Bytes({1, 2, 3}) && rec.payloads[1] == big);
  CHECK(rec.tracks.size() == 1 && rec.tracks[0].codec_private == codec_private);
  CHECK(rec.errors.empty());
#endif
}

void EncodingsAreUndoneHighestOrderFirst() {
#ifdef KVS_PARSER_HAVE_ZLIB
  // Written as zlib (order 0) then header stripping of the zlib header (order 1): read back in reverse.
  const Bytes payload(500, 0x33);
  const Bytes deflated = Deflate(payload);
  const Bytes header(deflated.begin(), deflated.begin() + 2);
  const Bytes stored(deflated.begin() + 2, deflated.end());
  const Bytes encodings = Element(0x6D80, Cat({Element(0x6240, Cat({Uint(0x5031, 0), Uint(0x5033, 0),
                                                                    Element(0x5034, Uint(0x4254, 0))})),
                                               Element(0x6240, Cat({Uint(0x5031, 1), Uint(0x5033, 0),
                                                                    Element(0x5034, Cat({Uint(0x4254, 3),
                                                                                         Element(0x4255, header)}))}))}));
  Recorder rec;
  Parse(Fragment("1", Track(1, "V_VP8", encodings), SimpleBlock(1, 0, true, stored)), &rec);
  CHECK(rec.payloads.size() == 1 && rec.payloads[0] == payload);
  CHECK(rec.errors.empty());
  CHECK(rec.tracks.size() == 1 && rec.tracks[0].content_encodings.size() == 2);
#endif
}

void UndecodableFramesAreFlaggedAndBounded() {
#ifdef KVS_PARSER_HAVE_ZLIB
  // A corrupt zlib stream, and a "zlib bomb" past max_frame_size: reported, handed out as stored.
  Limits limits;
  limits.max_frame_size = 4096;
  const Bytes bomb = Deflate(Bytes(1 << 20, 0));
  Recorder rec;
  Parse(Fragment("1", Track(1, "V_VP8", Encoding(0, {})),
                 Cat({SimpleBlock(1, 0, true, {0x78, 0x9C, 0x01}), SimpleBlock(1, 1, true, bomb)})),
        &rec, limits);
  CHECK_EQ(rec.frames.size(), 2u);
  CHECK(rec.frames.size() == 2 && rec.frames[0].is_content_encoded && rec.frames[1].is_content_encoded);
  CHECK(rec.payloads.size() == 2 && rec.payloads[1] == bomb);
  CHECK_EQ(rec.errors.size(), 2u);
  CHECK(rec.errors.size() == 2 && rec.errors[0].code == ErrorCode::kUndecodableFrame);
#endif
  // Encryption cannot be undone here: flagged, not an error.
  const Bytes encrypted = Element(0x6D80, Element(0x6240, Cat({Uint(0x5033, 1), Element(0x5035, Uint(0x47E1, 5))})));
  Recorder enc;
  Parse(Fragment("1", Track(1, "V_VP8", encrypted), SimpleBlock(1, 0, true, Bytes(9, 9))), &enc);
  CHECK(enc.frames.size() == 1 && enc.frames[0].is_content_encoded && enc.errors.empty());
  CHECK(enc.tracks.size() == 1 && enc.tracks[0].content_encodings.size() == 1 &&
        enc.tracks[0].content_encodings[0].encrypted && enc.tracks[0].content_encodings[0].encryption_algorithm == 5u);
}

// ---- timing ----------------------------------------------------------------------------------------

void LacesAreSpacedByDefaultDuration() {
  const Bytes tracks = Cat({Track(2, "A_AAC", Uint(0x23E383, 21333333)),
                            Track(3, "A_OPUS", Cat({Uint(0x56AA, 6500000), Uint(0x56BB, 80000000)}))});
  const std::vector<Bytes> laces(4, Bytes(16, 4));
  Recorder rec;
  Parse(Fragment("1", tracks, Cat({FixedLaced(2, 10, laces), FixedLaced(3, 20, laces)})), &rec);
  std::vector<std::int64_t> pts;
  for (const Frame& f : rec.frames) pts.push_back(f.pts_ms);
  // Track 2: 1010 + k x 21.333 ms (floored); track 3 has no DefaultDuration: every lace at 1020.
  CHECK(pts == std::vector<std::int64_t>({1010, 1031, 1052, 1073, 1020, 1020, 1020, 1020}));
  CHECK(rec.tracks.size() == 2 && rec.tracks[1].codec_delay_ns == 6500000u &&
        rec.tracks[1].seek_pre_roll_ns == 80000000u && !rec.tracks[0].codec_delay_ns);
}

// Lace times are summed in ns from the block's ticks and rounded once. Scale 20833 ns (1/48 kHz), the
// block at tick 4080 = 84.998640 ms, laces 10.666667 ms apart: 95.665307, 106.331974, 116.998641 ms.
// Adding the laces' offsets to the block's time already cut to 84 ms gave 94 and 105.
void LaceTimesOfANonMillisecondScaleAreRoundedOnce() {
  const Bytes tracks = Track(2, "A_OPUS", Uint(0x23E383, 10666667));
  const std::vector<Bytes> laces(4, Bytes(8, 1));
  Recorder rec;
  Parse(Fragment("1", tracks, FixedLaced(2, 80, laces), 20833, 4000), &rec);
  std::vector<std::int64_t> pts;
  for (const Frame& f : rec.frames) pts.push_back(f.pts_ms);
  CHECK(pts == std::vector<std::int64_t>({84, 95, 106, 116}));
  // A scale that divides 1 ms (1 us): the block at 84.998 ms, laces 10.667 ms apart, exactly in integers.
  Recorder micro;
  Parse(Fragment("1", Track(2, "A_OPUS", Uint(0x23E383, 10667000)), FixedLaced(2, 998, laces), 1000, 84000), &micro);
  pts.clear();
  for (const Frame& f : micro.frames) pts.push_back(f.pts_ms);
  CHECK(pts == std::vector<std::int64_t>({84, 95, 106, 116}));
}

// ---- tags ------------------------------------------------------------------------------------------

// Carried from issue 12: a SimpleTag that is not UTF-8 is reported and dropped, never applied; KVS tags
// are not charged to max_tags_per_fragment, user tags over it are dropped.
void TagRules() {
  Limits limits;
  limits.max_tags_per_fragment = 2;
  Bytes tags;
  for (int k = 0; k < 5; ++k) tags = Cat({tags, SimpleTag("AWS_KINESISVIDEO_X" + std::to_string(k), "1")});
  tags = Cat({tags, SimpleTag("user1", "a"), SimpleTag("user2", "b"), SimpleTag("user3", "c"),
              SimpleTag("AWS_KINESISVIDEO_FRAGMENT_NUMBER", "bad\xff\xfe")});
  const Bytes stream = Cat({EbmlHeader(), UnknownSize(0x18538067), Element(0x1254C367, Element(0x7373, tags)),
                            UnknownSize(0x1F43B675), Uint(0xE7, 0), SimpleBlock(1, 0, true, Bytes(4, 1))});
  Recorder rec;
  Parse(stream, &rec, limits);
  CHECK_EQ(rec.ends.size(), 1u);
  if (rec.ends.size() != 1) return;
  CHECK_EQ(rec.ends[0].tags.size(), 7u);  // five KVS tags and two user tags
  CHECK(!rec.ends[0].metadata.fragment_number);  // the non-UTF-8 value was never applied
  CHECK_EQ(rec.errors.size(), 2u);
  CHECK(rec.errors.size() == 2 && rec.errors[0].code == ErrorCode::kLimitExceeded &&
        rec.errors[1].code == ErrorCode::kInvalidValue);
}

// ---- skip before copying ---------------------------------------------------------------------------

void SkippedBlocksAreNeverCopied() {
  const Bytes tracks = Cat({Track(1, "V_VP8", {}), Track(2, "V_VP8", {})});
  const Bytes blocks = Cat({SimpleBlock(2, 0, true, Bytes(1 << 20, 3)), SimpleBlock(1, 0, true, Bytes(100, 1)),
                            Element(0xA0, Element(0xA1, BlockBody(2, 5, 0, Bytes(1 << 20, 4)))),
                            FixedLaced(2, 6, std::vector<Bytes>(3, Bytes(1 << 18, 5)))});
  const Bytes stream = Fragment("1", tracks, blocks);
  Recorder rec;
  rec.skip_track = 2;
  StreamParser parser(rec);
  for (std::uint8_t byte : stream) parser.Feed(&byte, 1);  // one byte at a time: anything read is buffered
  parser.Close();
  CHECK_EQ(rec.frames.size(), 1u);
  CHECK(rec.frames.size() == 1 && rec.frames[0].track_number == 1);
  CHECK(parser.peak_memory() < 16 * 1024);  // none of the 1.75 MiB skipped was held
  CHECK(rec.ends.size() == 1 && rec.ends[0].frame_count == 4);  // skipped blocks count once each
  Recorder chunked;
  chunked.skip_track = 2;
  Parse(stream, &chunked);
}

}  // namespace

int main() {
  RUN_TEST(GarbageBetweenFragmentsDoesNotSwallowTheNext);
  RUN_TEST(UnknownElementInsideKnownSizeParentIsSkippedBySize);
  RUN_TEST(ElementNotValidInAnUnknownSizeClusterEndsIt);
  RUN_TEST(HeaderStrippingIsUndone);
  RUN_TEST(ZlibFramesAndCodecPrivateAreInflated);
  RUN_TEST(EncodingsAreUndoneHighestOrderFirst);
  RUN_TEST(UndecodableFramesAreFlaggedAndBounded);
  RUN_TEST(LacesAreSpacedByDefaultDuration);
  RUN_TEST(LaceTimesOfANonMillisecondScaleAreRoundedOnce);
  RUN_TEST(TagRules);
  RUN_TEST(SkippedBlocksAreNeverCopied);
  TEST_MAIN_END();
}
