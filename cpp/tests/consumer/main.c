/* Parses the file named on the command line in one feed through the installed C API. */
#include <stdio.h>
#include <stdlib.h>

#include <kvs_parser/kvs_parser.h>

static void count_frame(void *user, const kvs_parser_frame *frame) {
  (void)frame;
  ++*(unsigned long *)user;
}

int main(int argc, char **argv) {
  static unsigned char buffer[1 << 16];
  kvs_parser_callbacks callbacks;
  kvs_parser *parser = NULL;
  unsigned long frames = 0;
  FILE *file;
  size_t got;
  if (argc != 2 || (file = fopen(argv[1], "rb")) == NULL) return 2;
  kvs_parser_callbacks_init(&callbacks);
  callbacks.on_frame = count_frame;
  if (kvs_parser_create(NULL, &callbacks, &frames, &parser) != KVS_PARSER_OK) return 2;
  while ((got = fread(buffer, 1, sizeof buffer, file)) > 0) {
    if (kvs_parser_feed(parser, buffer, got) != KVS_PARSER_OK) return 2;
  }
  fclose(file);
  if (kvs_parser_close(parser) != KVS_PARSER_OK) return 2;
  printf("consumer_c: kvs_parser %s, %lu fragments, %lu frames\n", kvs_parser_version(),
         (unsigned long)kvs_parser_fragment_count(parser), frames);
  kvs_parser_destroy(parser);
  return frames > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
