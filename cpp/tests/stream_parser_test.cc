#include "kvs_parser/stream_parser.h"

#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include "check.h"
#include "stream_builder.h"

using namespace kvs;
using namespace kvs_test;

namespace {

// Records every event as one line, so two runs can be compared as strings.
class Recorder : public Callback {
 public:
  std::ostringstream log;
  int frames = 0;
  int errors = 0;
  std::vector<ParseError> error_list;
  std::vector<FragmentEnd> fragments;

  void OnFragmentStart(const FragmentStart& s) override { log << "start " << s.index << "@" << s.offset << "\n"; }
  void OnTracks(const std::vector<TrackInfo>& tracks) override {
    for (const TrackInfo& t : tracks) log << "track " << t.number << " " << t.codec_id << " " << t.codec_private.size() << "\n";
  }
  void OnFrame(Frame& f) override {
    ++frames;
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < f.data.size; ++k) sum = sum * 31 + f.data.data[k];
    log << "frame t" << f.track_number << " tc" << f.timecode << " c" << f.cluster_timecode << " pts" << f.pts_ms
        << " k" << f.is_keyframe << " n" << f.data.size << " h" << sum << " fn"
        << f.fragment->fragment_number.value_or("-") << "\n";
  }
  void OnTags(const std::vector<Tag>& tags) override {
    for (const Tag& t : tags) log << "tag " << t.name << "=" << t.value << "\n";
  }
  void OnFragmentEnd(const FragmentEnd& e) override {
    fragments.push_back(e);
    log << "end " << e.index << " complete=" << e.complete << " frames=" << e.frame_count << " mbn="
        << e.metadata.millis_behind_now.value_or(-1) << "\n";
  }
  void OnError(const ParseError& e) override {
    ++errors;
    error_list.push_back(e);
    log << "error " << ErrorCodeName(e.code) << "@" << e.offset << " " << e.element_path << "\n";
  }
};

std::string ParseInChunks(const Bytes& data, std::size_t min_chunk, std::size_t max_chunk, unsigned seed,
                          Limits limits = {}) {
  Recorder recorder;
  StreamParser parser(recorder, limits);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(min_chunk, max_chunk);
  std::size_t at = 0;
  while (at < data.size()) {
    std::size_t n = std::min(pick(rng), data.size() - at);
    // Copy into a fresh buffer so a view that outlives its chunk would be caught by ASan.
    Bytes chunk(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + n));
    parser.Feed(chunk.data(), chunk.size());
    at += n;
  }
  parser.Close();
  return recorder.log.str();
}

void KvsFragmentsAreParsed() {
  Bytes stream = Cat({KvsFragment("91343852333181432392682062607743920146159169392", 1000, 3),
                      KvsFragment("91343852333181432392682062607743920146159169393", 3000, 2)});
  Recorder recorder;
  StreamParser parser(recorder);
  parser.Feed(stream.data(), stream.size());
  parser.Close();
  CHECK_EQ(recorder.frames, 5);
  CHECK_EQ(recorder.errors, 0);
  CHECK_EQ(recorder.fragments.size(), 2u);
  const FragmentEnd& first = recorder.fragments[0];
  CHECK(first.complete);
  CHECK(first.metadata.fragment_number == std::string("91343852333181432392682062607743920146159169392"));
  CHECK(first.metadata.producer_timestamp_ms == std::int64_t{1511852108513});
  CHECK(first.metadata.server_timestamp_ms == std::int64_t{1511852109126});
  CHECK(first.metadata.millis_behind_now == std::int64_t{15858});
  CHECK(first.metadata.continuation_token == first.metadata.fragment_number);
  CHECK_EQ(first.tracks.size(), 1u);
  CHECK(first.tracks[0].pixel_width == std::uint64_t{640});
  CHECK_EQ(first.tags.size(), 5u);
  CHECK(recorder.log.str().find("frame t1 tc33 c1000 pts1033 k0 n101") != std::string::npos);
}

void AnyChunkingGivesTheSameEvents() {
  Bytes stream = Cat({KvsFragment("1", 0, 4), KvsFragment("2", 200, 4)});
  const std::string whole = ParseInChunks(stream, stream.size(), stream.size(), 1);
  CHECK_EQ(ParseInChunks(stream, 1, 1, 1), whole);
  for (unsigned seed = 1; seed <= 20; ++seed) CHECK_EQ(ParseInChunks(stream, 1, 64, seed), whole);
}

void FrameArrivesWithItsLastByte() {
  Bytes stream = KvsFragment("7", 0, 2);
  Recorder recorder;
  StreamParser parser(recorder);
  // Find the end of the first frame: feed up to it, and the frame must already be out.
  const Bytes first_payload(100, 0);
  std::size_t cut = 0;
  for (std::size_t at = 0; at + first_payload.size() <= stream.size(); ++at) {
    if (stream[at] == 0xA3 && stream[at + 12] == 0x80) {  // SimpleBlock id, then size, then track 1 key
      cut = at + 1 + 8 + 4 + 100;
      break;
    }
  }
  CHECK(cut > 0);
  parser.Feed(stream.data(), cut - 1);
  CHECK_EQ(recorder.frames, 0);
  parser.Feed(stream.data() + cut - 1, 1);
  CHECK_EQ(recorder.frames, 1);
}

void BlockGroupsAndLacing() {
  Bytes group_key = Element(0xA0, Cat({Element(0xA1, BlockBody(1, 0, 0, Bytes(10, 1))), Uint(0x9B, 40)}));
  Bytes group_delta = Element(0xA0, Cat({Element(0xA1, BlockBody(1, 40, 0, Bytes(11, 2))), Uint(0xFB, 40)}));
  Bytes xiph = Element(0xA3, BlockBody(2, 80, 0x80 | 0x02, Cat({{2, 3, 4}, Bytes(3 + 4 + 5, 9)})));
  Bytes stream = Cat({EbmlHeader(), UnknownSize(0x18538067), UnknownSize(0x1F43B675), Uint(0xE7, 0), group_key,
                      group_delta, xiph});
  Recorder recorder;
  StreamParser parser(recorder);
  parser.Feed(stream.data(), stream.size());
  parser.Close();
  CHECK_EQ(recorder.errors, 0);
  CHECK_EQ(recorder.frames, 5);
  const std::string log = recorder.log.str();
  CHECK(log.find("frame t1 tc0 c0 pts0 k1 n10") != std::string::npos);
  CHECK(log.find("frame t1 tc40 c0 pts40 k0 n11") != std::string::npos);
  CHECK(log.find("frame t2 tc80 c0 pts80 k1 n3") != std::string::npos);
  CHECK(log.find("frame t2 tc80 c0 pts80 k1 n5") != std::string::npos);
}

void HugeSizeIsAnErrorAndParsingResumes() {
  Bytes bad = {0x1F, 0x43, 0xB6, 0x75, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};  // Cluster of ~2^48
  Bytes bogus_void = {0xEC, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};  // Void of 2^48 - 2 bytes
  Bytes stream = Cat({KvsFragment("1", 0, 2), bogus_void, bad, KvsFragment("2", 100, 3)});
  Limits limits;
  limits.max_segment_size = 1 << 20;
  const std::string whole = ParseInChunks(stream, stream.size(), stream.size(), 1, limits);
  CHECK(whole.find("error element_too_large") != std::string::npos);
  CHECK(whole.find("fn2") != std::string::npos);  // the second fragment's frames came through
  CHECK_EQ(ParseInChunks(stream, 1, 1, 1, limits), whole);
  for (unsigned seed = 1; seed <= 10; ++seed) CHECK_EQ(ParseInChunks(stream, 1, 50, seed, limits), whole);
}

void TruncationIsReportedAtClose() {
  Bytes stream = KvsFragment("1", 0, 3);
  stream.resize(stream.size() - 220);  // cuts the trailing tags and the last frame
  Recorder recorder;
  StreamParser parser(recorder);
  parser.Feed(stream.data(), stream.size());
  CHECK_EQ(recorder.errors, 0);
  parser.Close();
  CHECK_EQ(recorder.frames, 2);
  CHECK_EQ(recorder.errors, 1);
  CHECK(recorder.error_list[0].code == ErrorCode::kTruncated);
  CHECK_EQ(recorder.fragments.size(), 1u);
  CHECK(!recorder.fragments[0].complete);
}

void ZerosGiveOneErrorAndBoundedMemory() {
  Recorder recorder;
  StreamParser parser(recorder);
  Bytes zeros(1 << 16, 0);
  for (int k = 0; k < 64; ++k) parser.Feed(zeros.data(), zeros.size());
  CHECK_EQ(recorder.errors, 1);
  CHECK(parser.peak_memory() < 4096);
  Bytes good = KvsFragment("9", 0, 2);
  parser.Feed(good.data(), good.size());
  parser.Close();
  CHECK_EQ(recorder.frames, 2);
}

void DeepNestingIsBounded() {
  Bytes tag = SimpleTag("x", "y");
  for (int k = 0; k < 100; ++k) tag = Element(0x67C8, tag);  // SimpleTags nest legally, but not this deep
  Bytes stream = Cat({EbmlHeader(), UnknownSize(0x18538067), Element(0x1254C367, Element(0x7373, tag)),
                      KvsFragment("2", 0, 1)});
  Recorder recorder;
  StreamParser parser(recorder);
  parser.Feed(stream.data(), stream.size());
  parser.Close();
  CHECK(recorder.log.str().find("error too_deep") != std::string::npos);
  CHECK_EQ(recorder.frames, 1);
}

void FixtureFilesParseTheSameInAnyChunking() {
  const char* dir = std::getenv("KVS_FIXTURES_KVS_DIR");
  if (dir == nullptr) return;
  DIR* handle = opendir(dir);
  if (handle == nullptr) {
    std::printf("skipped: no fixtures at %s\n", dir);
    return;
  }
  int files = 0;
  while (dirent* entry = readdir(handle)) {
    const std::string name = entry->d_name;
    if (name.size() < 4 || name.substr(name.size() - 4) != ".mkv") continue;
    std::ifstream in(std::string(dir) + "/" + name, std::ios::binary);
    Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string whole = ParseInChunks(data, data.size(), data.size(), 1);
    CHECK(whole.find("frame") != std::string::npos || name.find("empty") != std::string::npos ||
          name.find("tags") != std::string::npos);
    const std::string bytewise = ParseInChunks(data, 1, 1, 1);
    CHECK_EQ(bytewise, whole);
    CHECK_EQ(ParseInChunks(data, 1, 4096, 7), whole);
    if (bytewise != whole) std::printf("chunking differs for %s\n", name.c_str());
    ++files;
  }
  closedir(handle);
  std::printf("fixture files checked: %d\n", files);
}

// A sync ID found inside a header that failed (here a 12-byte header claiming ~2^53 bytes) arrives
// with bytes after it. They used to be appended past the header buffer (found by the fuzzer,
// fuzz/regressions/resync-replayed-header-overrun); they are the found element's body.
void SyncIdInsideAFailedHeaderKeepsTheBytesAfterIt() {
  // A Void (valid in the Segment, so it is read rather than ending it), then an 8-byte size whose
  // bytes hold a Cluster ID, the size 3 and a Timecode header.
  const Bytes bad = {0xEC, 0x01, 0x1F, 0x43, 0xB6, 0x75, 0x83, 0xE7, 0x81};
  const Bytes stream = Cat({EbmlHeader(), UnknownSize(0x18538067), bad, {0x07},
                            SimpleBlock(1, 5, true, Bytes(20, 3)), KvsFragment("2", 100, 2)});
  const std::string whole = ParseInChunks(stream, stream.size(), stream.size(), 1);
  CHECK(whole.find("error element_too_large") != std::string::npos);
  CHECK(whole.find("frame t1 tc5 c7 pts12 k1 n20") != std::string::npos);  // Timecode 7 was read
  CHECK(whole.find("fn2") != std::string::npos);
  CHECK_EQ(ParseInChunks(stream, 1, 1, 1), whole);
  for (unsigned seed = 1; seed <= 10; ++seed) CHECK_EQ(ParseInChunks(stream, 1, 16, seed), whole);
}

// Timecodes near 2^63 with any TimecodeScale: pts saturates instead of overflowing (UBSan found
// float-to-int and signed overflows in the conversion; fuzz/regressions/pts-overflow-*).
void HugeTimecodesSaturatePts() {
  struct Case {
    std::uint64_t scale;
    std::uint64_t cluster;
    std::int16_t relative;
    std::int64_t pts;
  };
  const std::int64_t max = INT64_MAX;
  const std::int64_t min = INT64_MIN;
  const Case cases[] = {
      {3, 0x7FFFFFFFFFFFFFFFull, 0, 27670116110564},           // neither multiple nor divisor of 1 ms
      {1000000000000ull, 0x7FFFFFFFFFFFFFFFull, 0, max},        // 1e6 ms per tick: saturates
      {1000000000000ull, 0x8000000000000000ull, -1, min},       // INT64_MIN, and below
      {1000, 0x8000000000000000ull, -5, min / 1000 - 1},        // divisor path from INT64_MIN (floor)
      {1000000, 0x7FFFFFFFFFFFFFFFull, 100, max},               // cluster + block overflows
      {1000000000001ull, 0x8000000000000001ull, 0, min},        // long double path below INT64_MIN
  };
  for (const Case& c : cases) {
    Bytes stream = Cat({EbmlHeader(), UnknownSize(0x18538067), Element(0x1549A966, Uint(0x2AD7B1, c.scale)),
                        UnknownSize(0x1F43B675), Uint(0xE7, c.cluster), SimpleBlock(1, c.relative, true, Bytes(4, 1))});
    const std::string log = ParseInChunks(stream, stream.size(), stream.size(), 1);
    const std::string expected = " pts" + std::to_string(c.pts) + " ";
    CHECK(log.find(expected) != std::string::npos);
    if (log.find(expected) == std::string::npos) std::printf("scale %llu: %s", static_cast<unsigned long long>(c.scale), log.c_str());
  }
}

// producer_time_ms = producer timestamp + (pts - the fragment's first pts): with a hostile Timecode
// both steps saturate (UBSan found the signed overflow; fuzz/regressions/producer-time-overflow).
void ProducerTimeSaturates() {
  struct Frames : Callback {
    std::vector<std::optional<std::int64_t>> producer_times;
    void OnFrame(Frame& f) override { producer_times.push_back(f.producer_time_ms); }
  } frames;
  const Bytes stream =
      Cat({EbmlHeader(), UnknownSize(0x18538067),
           Element(0x1254C367, Element(0x7373, SimpleTag("AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", "1511852108.513"))),
           UnknownSize(0x1F43B675), Uint(0xE7, 15), SimpleBlock(1, 0, true, Bytes(4, 1)),
           UnknownSize(0x1F43B675), Uint(0xE7, 0x8000000000000000ull), SimpleBlock(1, -1, false, Bytes(4, 2)),
           UnknownSize(0x1F43B675), Uint(0xE7, 0x7FFFFFFFFFFFFFFFull), SimpleBlock(1, 1, false, Bytes(4, 3))});
  StreamParser parser(frames);
  parser.Feed(stream.data(), stream.size());
  parser.Close();
  CHECK_EQ(frames.producer_times.size(), 3u);
  if (frames.producer_times.size() != 3u) return;
  CHECK(frames.producer_times[0] == std::int64_t{1511852108513});
  CHECK(frames.producer_times[1] == INT64_MIN + std::int64_t{1511852108513});  // pts - start clamped low
  CHECK(frames.producer_times[2] == INT64_MAX);  // clamped high, then + producer clamped again
}

// Every input in fuzz/regressions (4-byte fuzzer control prefix, then the stream) parses the same in
// any chunking, without tripping the sanitizers.
void FuzzRegressionsParseTheSameInAnyChunking() {
  const char* dir = std::getenv("KVS_FUZZ_REGRESSIONS_DIR");
  if (dir == nullptr) return;
  DIR* handle = opendir(dir);
  CHECK(handle != nullptr);
  if (handle == nullptr) return;
  int files = 0;
  while (dirent* entry = readdir(handle)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream in(std::string(dir) + "/" + entry->d_name, std::ios::binary);
    Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.size() < 4) continue;
    data.erase(data.begin(), data.begin() + 4);
    const std::string whole = ParseInChunks(data, data.size(), data.size(), 1);
    CHECK_EQ(ParseInChunks(data, 1, 1, 1), whole);
    CHECK_EQ(ParseInChunks(data, 1, 64, 3), whole);
    ++files;
  }
  closedir(handle);
  CHECK(files > 0);
  std::printf("fuzz regressions checked: %d\n", files);
}

}  // namespace

int main() {
  RUN_TEST(KvsFragmentsAreParsed);
  RUN_TEST(AnyChunkingGivesTheSameEvents);
  RUN_TEST(FrameArrivesWithItsLastByte);
  RUN_TEST(BlockGroupsAndLacing);
  RUN_TEST(HugeSizeIsAnErrorAndParsingResumes);
  RUN_TEST(TruncationIsReportedAtClose);
  RUN_TEST(ZerosGiveOneErrorAndBoundedMemory);
  RUN_TEST(DeepNestingIsBounded);
  RUN_TEST(FixtureFilesParseTheSameInAnyChunking);
  RUN_TEST(SyncIdInsideAFailedHeaderKeepsTheBytesAfterIt);
  RUN_TEST(HugeTimecodesSaturatePts);
  RUN_TEST(ProducerTimeSaturates);
  RUN_TEST(FuzzRegressionsParseTheSameInAnyChunking);
  TEST_MAIN_END();
}
