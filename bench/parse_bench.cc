// The C++ core alone: parse files from memory, frames delivered to a C++ callback that reads each
// frame's size and first byte (so nothing is optimised away). Prints MB/s per file set.
// Built and run by bench/parse_throughput.py; usage: parse_bench REPEATS CHUNK_SIZE FILE...
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "kvs_parser/stream_parser.h"

namespace {

class CountingCallback : public kvs::Callback {
 public:
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t checksum = 0;
  void OnFrame(kvs::Frame& frame) override {
    ++frames;
    bytes += frame.data.size;
    if (frame.data.size > 0) checksum += frame.data.data[0];
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s REPEATS CHUNK_SIZE FILE...\n", argv[0]);
    return 2;
  }
  const int repeats = std::atoi(argv[1]);
  const std::size_t chunk = static_cast<std::size_t>(std::atoll(argv[2]));
  std::vector<std::vector<std::uint8_t>> inputs;
  std::size_t total = 0;
  for (int k = 3; k < argc; ++k) {
    std::ifstream in(argv[k], std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    total += inputs.back().size();
  }
  double best = 1e30;
  CountingCallback counts;
  for (int r = 0; r < repeats; ++r) {
    counts = CountingCallback{};
    const auto start = std::chrono::steady_clock::now();
    for (const auto& data : inputs) {
      kvs::StreamParser parser(counts);
      const std::size_t step = chunk == 0 ? data.size() : chunk;
      for (std::size_t at = 0; at < data.size(); at += step) {
        parser.Feed(data.data() + at, std::min(step, data.size() - at));
      }
      parser.Close();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds < best) best = seconds;
  }
  std::printf("{\"bytes\": %zu, \"frames\": %llu, \"seconds\": %.9f, \"checksum\": %llu}\n", total,
              static_cast<unsigned long long>(counts.frames), best,
              static_cast<unsigned long long>(counts.checksum));
  return 0;
}
