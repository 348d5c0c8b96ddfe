/* kvs_parser.h must compile as strict C89 (built with -std=c89 -pedantic-errors where supported). */
#include "kvs_parser/kvs_parser.h"

int kvs_parser_c89_header_check(void) {
  kvs_parser_callbacks callbacks;
  kvs_parser *parser = 0;
  int status;
  kvs_parser_callbacks_init(&callbacks);
  status = kvs_parser_create(0, &callbacks, 0, &parser);
  kvs_parser_destroy(parser);
  return status;
}
