// The C API: events and metadata reach the C callbacks, any chunking gives the same events, misuse is
// reported by status codes, and an exception thrown by a callback does not escape.
#include "kvs_parser/kvs_parser.h"

#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

#include "check.h"
#include "stream_builder.h"

using namespace kvs_test;

namespace {

struct Log {
  std::ostringstream text;
  int frames = 0;
  int errors = 0;
  kvs_parser* parser = nullptr;  // for the reentrancy check
  int reentrant_status = KVS_PARSER_OK;
  bool throw_in_frame = false;
};

Log& LogOf(void* user) { return *static_cast<Log*>(user); }

void OnStart(void* user, const kvs_parser_fragment_start* s) {
  LogOf(user).text << "start " << s->index << "@" << s->offset << "\n";
}

void OnFrame(void* user, const kvs_parser_frame* f) {
  Log& log = LogOf(user);
  ++log.frames;
  if (log.parser != nullptr) log.reentrant_status = kvs_parser_feed(log.parser, f->data, f->size);
  if (log.throw_in_frame) throw std::runtime_error("callback failure");
  std::uint64_t sum = 0;
  for (std::size_t k = 0; k < f->size; ++k) sum = sum * 31 + f->data[k];
  log.text << "frame t" << f->track_number << " pts" << f->pts_ms << " tc" << f->timecode << " c"
           << f->cluster_timecode << " key" << ((f->flags & KVS_PARSER_FRAME_KEYFRAME) != 0) << " n" << f->size
           << " h" << sum << " fn" << (f->fragment != nullptr ? f->fragment->fragment_number : "-") << "\n";
}

void OnEnd(void* user, const kvs_parser_fragment_end* e) {
  const kvs_parser_fragment_metadata& m = e->metadata;
  LogOf(user).text << "end " << e->index << " frames" << e->frame_count << " complete" << e->complete << " tracks"
                   << e->track_count << " fn" << (m.fragment_number ? m.fragment_number : "-") << " producer"
                   << (m.has_producer_timestamp ? m.producer_timestamp_ms : -1) << " server"
                   << (m.has_server_timestamp ? m.server_timestamp_ms : -1) << " behind"
                   << (m.has_millis_behind_now ? m.millis_behind_now : -1) << "\n";
}

void OnError(void* user, const kvs_parser_error* e) {
  ++LogOf(user).errors;
  LogOf(user).text << "error " << e->code << " " << e->code_name << " @" << e->offset << " " << e->path << "\n";
}

kvs_parser_callbacks AllCallbacks() {
  kvs_parser_callbacks callbacks;
  kvs_parser_callbacks_init(&callbacks);
  callbacks.on_fragment_start = OnStart;
  callbacks.on_frame = OnFrame;
  callbacks.on_fragment_end = OnEnd;
  callbacks.on_error = OnError;
  return callbacks;
}

Bytes TwoFragments() {
  return Cat({KvsFragment("91343852333181432392682062607743920146264772034", 1000, 3),
              KvsFragment("91343852333181432392682062607743920146264772035", 2000, 2)});
}

std::string Parse(const Bytes& stream, std::size_t chunk, const kvs_parser_limits* limits = nullptr) {
  Log log;
  const kvs_parser_callbacks callbacks = AllCallbacks();
  kvs_parser* parser = nullptr;
  CHECK_EQ(kvs_parser_create(limits, &callbacks, &log, &parser), KVS_PARSER_OK);
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    const std::size_t n = stream.size() - at < chunk ? stream.size() - at : chunk;
    CHECK_EQ(kvs_parser_feed(parser, stream.data() + at, n), KVS_PARSER_OK);
  }
  CHECK_EQ(kvs_parser_close(parser), KVS_PARSER_OK);
  CHECK_EQ(kvs_parser_bytes_consumed(parser), stream.size());
  kvs_parser_destroy(parser);
  return log.text.str();
}

void EventsAndMetadataReachTheCallbacks() {
  const std::string text = Parse(TwoFragments(), 4096);
  CHECK(text.find("start 0@") == 0);
  CHECK(text.find("frame t1 pts1000 tc0 c1000 key1 n100") != std::string::npos);
  CHECK(text.find("frame t1 pts1066 tc66 c1000 key0 n102") != std::string::npos);
  CHECK(text.find("fn91343852333181432392682062607743920146264772034\n") != std::string::npos);
  CHECK(text.find("end 0 frames3 complete1 tracks1 fn91343852333181432392682062607743920146264772034 "
                  "producer1511852108513 server1511852109126 behind15858") != std::string::npos);
  CHECK(text.find("end 1 frames2 complete1") != std::string::npos);
  CHECK(text.find("error") == std::string::npos);
}

void AnyChunkingGivesTheSameEvents() {
  const Bytes stream = TwoFragments();
  const std::string whole = Parse(stream, stream.size());
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 4096u}) CHECK_EQ(Parse(stream, chunk), whole);
}

void LimitsApply() {
  kvs_parser_limits limits;
  kvs_parser_default_limits(&limits);
  CHECK_EQ(limits.max_depth, 32u);
  limits.max_frame_size = 50;  // every frame of the sample is larger
  const std::string text = Parse(TwoFragments(), 4096, &limits);
  CHECK(text.find("error 6 frame_too_large") != std::string::npos);
  CHECK(text.find("frame t1") == std::string::npos);
}

void TruncationIsReportedOnClose() {
  Bytes stream = TwoFragments();
  stream.resize(stream.size() - 30);
  const std::string text = Parse(stream, 4096);
  CHECK(text.find("error 12 truncated") != std::string::npos);
  CHECK(text.find("end 1 frames2 complete0") != std::string::npos);
}

void MisuseIsReportedByStatus() {
  kvs_parser* parser = nullptr;
  CHECK_EQ(kvs_parser_create(nullptr, nullptr, nullptr, nullptr), KVS_PARSER_E_INVALID_ARGUMENT);
  CHECK_EQ(kvs_parser_create(nullptr, nullptr, nullptr, &parser), KVS_PARSER_OK);  // no callbacks at all
  const Bytes stream = TwoFragments();
  CHECK_EQ(kvs_parser_feed(parser, nullptr, 1), KVS_PARSER_E_INVALID_ARGUMENT);
  CHECK_EQ(kvs_parser_feed(parser, nullptr, 0), KVS_PARSER_OK);
  CHECK_EQ(kvs_parser_feed(parser, stream.data(), stream.size()), KVS_PARSER_OK);
  CHECK_EQ(kvs_parser_fragment_count(parser), 2u);
  CHECK_EQ(kvs_parser_close(parser), KVS_PARSER_OK);
  CHECK_EQ(kvs_parser_feed(parser, stream.data(), 1), KVS_PARSER_E_CLOSED);
  CHECK_EQ(kvs_parser_close(parser), KVS_PARSER_E_CLOSED);
  kvs_parser_destroy(parser);
  kvs_parser_destroy(nullptr);
  CHECK_EQ(kvs_parser_feed(nullptr, stream.data(), 1), KVS_PARSER_E_INVALID_ARGUMENT);
  CHECK_EQ(kvs_parser_close(nullptr), KVS_PARSER_E_INVALID_ARGUMENT);
  CHECK_EQ(kvs_parser_bytes_consumed(nullptr), 0u);
  CHECK(std::strcmp(kvs_parser_status_name(KVS_PARSER_E_CLOSED), "closed") == 0);
  CHECK(std::strcmp(kvs_parser_error_code_name(12), "truncated") == 0);
  CHECK(std::strcmp(kvs_parser_error_code_name(999), "unknown") == 0);
  CHECK(std::strlen(kvs_parser_version()) > 0);
}

void ReentrantFeedIsRefused() {
  Log log;
  const kvs_parser_callbacks callbacks = AllCallbacks();
  kvs_parser* parser = nullptr;
  CHECK_EQ(kvs_parser_create(nullptr, &callbacks, &log, &parser), KVS_PARSER_OK);
  log.parser = parser;
  const Bytes stream = TwoFragments();
  CHECK_EQ(kvs_parser_feed(parser, stream.data(), stream.size()), KVS_PARSER_OK);
  CHECK_EQ(log.reentrant_status, KVS_PARSER_E_REENTRANT);
  CHECK_EQ(log.frames, 5);
  kvs_parser_destroy(parser);
}

void CallbackExceptionDoesNotEscape() {
  Log log;
  log.throw_in_frame = true;
  const kvs_parser_callbacks callbacks = AllCallbacks();
  kvs_parser* parser = nullptr;
  CHECK_EQ(kvs_parser_create(nullptr, &callbacks, &log, &parser), KVS_PARSER_OK);
  const Bytes stream = TwoFragments();
  CHECK_EQ(kvs_parser_feed(parser, stream.data(), stream.size()), KVS_PARSER_E_FAILED);
  CHECK_EQ(kvs_parser_feed(parser, stream.data(), 1), KVS_PARSER_E_FAILED);  // poisoned
  CHECK_EQ(kvs_parser_close(parser), KVS_PARSER_E_FAILED);
  kvs_parser_destroy(parser);
}

// The callbacks struct carries its size so it can grow: an unset size is refused; a struct from a newer
// header is accepted as long as the callbacks this library lacks are unset.
void CallbacksStructMustBeInitialised() {
  kvs_parser* parser = nullptr;
  kvs_parser_callbacks unset{};
  CHECK_EQ(kvs_parser_create(nullptr, &unset, nullptr, &parser), KVS_PARSER_E_INVALID_ARGUMENT);
  CHECK(parser == nullptr);
  struct Newer {
    kvs_parser_callbacks known;
    void (*on_something_new)(void*);
  } newer{};
  kvs_parser_callbacks_init(&newer.known);
  newer.known.size = sizeof newer;
  CHECK_EQ(kvs_parser_create(nullptr, &newer.known, nullptr, &parser), KVS_PARSER_OK);
  kvs_parser_destroy(parser);
  parser = nullptr;
  newer.on_something_new = [](void*) {};
  CHECK_EQ(kvs_parser_create(nullptr, &newer.known, nullptr, &parser), KVS_PARSER_E_INVALID_ARGUMENT);
  CHECK_EQ(kvs_parser_create(nullptr, nullptr, nullptr, &parser), KVS_PARSER_OK);  // no events at all
  kvs_parser_destroy(parser);
}

}  // namespace

int main() {
  RUN_TEST(CallbacksStructMustBeInitialised);
  RUN_TEST(EventsAndMetadataReachTheCallbacks);
  RUN_TEST(AnyChunkingGivesTheSameEvents);
  RUN_TEST(LimitsApply);
  RUN_TEST(TruncationIsReportedOnClose);
  RUN_TEST(MisuseIsReportedByStatus);
  RUN_TEST(ReentrantFeedIsRefused);
  RUN_TEST(CallbackExceptionDoesNotEscape);
  TEST_MAIN_END();
}
