// A minimal test harness: CHECK records failures, RUN_TEST runs a function, main returns non-zero on any.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace kvs_test {
inline int& Failures() {
  static int failures = 0;
  return failures;
}
}  // namespace kvs_test

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++kvs_test::Failures();                                                \
    }                                                                        \
  } while (0)

#define CHECK_EQ(a, b) CHECK((a) == (b))

#define RUN_TEST(fn)                        \
  do {                                      \
    const int before = kvs_test::Failures(); \
    fn();                                   \
    std::printf("%s %s\n", kvs_test::Failures() == before ? "ok  " : "FAIL", #fn); \
  } while (0)

#define TEST_MAIN_END()                                                       \
  std::printf("%d failure(s)\n", kvs_test::Failures());                    \
  return kvs_test::Failures() == 0 ? EXIT_SUCCESS : EXIT_FAILURE
