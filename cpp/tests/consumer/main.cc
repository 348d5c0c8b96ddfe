// Parses the file named on the command line through the installed C++ API.
#include <kvs_parser/stream_parser.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

namespace {
class Counter : public kvs::Callback {
 public:
  void OnFrame(kvs::Frame&) override { ++frames; }
  unsigned long frames = 0;
};
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Counter counter;
  kvs::StreamParser parser(counter);
  parser.Feed(bytes.data(), bytes.size());
  parser.Close();
  std::printf("consumer_cxx: %lu fragments, %lu frames\n", static_cast<unsigned long>(parser.fragment_count()),
              counter.frames);
  return counter.frames > 0 ? 0 : 1;
}
