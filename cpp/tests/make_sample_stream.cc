// Writes a small two-fragment KVS GetMedia stream to the file named on the command line, for the tests
// that run the examples when the shared captures are not beside the project.
#include <cstdio>
#include <fstream>

#include "stream_builder.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT\n", argv[0]);
    return 2;
  }
  const kvs_test::Bytes stream =
      kvs_test::Cat({kvs_test::KvsFragment("91343852333181432392682062607743920146264772034", 1000, 3),
                     kvs_test::KvsFragment("91343852333181432392682062607743920146264772035", 2000, 2)});
  std::ofstream out(argv[1], std::ios::binary);
  out.write(reinterpret_cast<const char*>(stream.data()), static_cast<std::streamsize>(stream.size()));
  return out ? 0 : 1;
}
