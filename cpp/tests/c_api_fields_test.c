/* The C API from C: every field of every struct the callbacks receive, on a stream built here with
 * one of each (two tracks with CodecPrivate, dimensions, sampling, header stripping, CodecDelay and
 * SeekPreRoll; KVS tags, a binary and a nested tag; a SimpleBlock, a laced BlockGroup, a block skipped
 * by on_frame_begin; a parse error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvs_parser/kvs_parser.h"

static int failures = 0;
#define EXPECT(cond)                                                   \
  do {                                                                 \
    if (!(cond)) {                                                     \
      fprintf(stderr, "%s:%d: EXPECT failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                      \
    }                                                                  \
  } while (0)

/* ---- a tiny EBML writer (every size on 8 bytes) ---- */

struct buf {
  unsigned char data[4096];
  size_t size;
};

static void put(struct buf *b, const void *p, size_t n) {
  memcpy(b->data + b->size, p, n);
  b->size += n;
}

static void put_id(struct buf *b, unsigned long id) {
  int length = id > 0xFFFFFFul ? 4 : id > 0xFFFFul ? 3 : id > 0xFFul ? 2 : 1;
  while (length-- > 0) b->data[b->size++] = (unsigned char)(id >> (8 * length));
}

static void put_be(struct buf *b, uint64_t value, int bytes) {
  while (bytes-- > 0) b->data[b->size++] = (unsigned char)(value >> (8 * bytes));
}

static size_t open_el(struct buf *b, unsigned long id) {
  size_t at;
  put_id(b, id);
  at = b->size;
  b->size += 8;
  return at;
}

static void close_el(struct buf *b, size_t at) {
  size_t end = b->size;
  b->size = at;
  b->data[b->size++] = 0x01;
  put_be(b, (uint64_t)(end - at - 8), 7);
  b->size = end;
}

static void unknown_el(struct buf *b, unsigned long id) {
  static const unsigned char unknown[8] = {0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  put_id(b, id);
  put(b, unknown, 8);
}

static void uint_el(struct buf *b, unsigned long id, uint64_t value) {
  size_t at = open_el(b, id);
  put_be(b, value, 8);
  close_el(b, at);
}

static void bin_el(struct buf *b, unsigned long id, const void *p, size_t n) {
  size_t at = open_el(b, id);
  put(b, p, n);
  close_el(b, at);
}

static void str_el(struct buf *b, unsigned long id, const char *s) { bin_el(b, id, s, strlen(s)); }

static void float_el(struct buf *b, unsigned long id, double value) {
  uint64_t bits;
  size_t at = open_el(b, id);
  memcpy(&bits, &value, sizeof bits);
  put_be(b, bits, 8);
  close_el(b, at);
}

static void simple_tag(struct buf *b, const char *name, const char *value) {
  size_t at = open_el(b, 0x67C8);
  str_el(b, 0x45A3, name);
  str_el(b, 0x4487, value);
  close_el(b, at);
}

/* Offsets noted while building, to check the ones the parser reports. */
struct offsets {
  size_t segment, first_block, group_block, bad_byte;
};

static void build(struct buf *b, struct offsets *o) {
  static const unsigned char codec_private[4] = {0x01, 0x64, 0x00, 0x1F};
  static const unsigned char start_code[4] = {0x00, 0x00, 0x00, 0x01};
  static const unsigned char binary[3] = {9, 8, 7};
  static const unsigned char key_block[6] = {0x81, 0x00, 0x00, 0x80, 0x65, 0x88};
  static const unsigned char laced_block[11] = {0x82, 0x00, 0x05, 0x04, 0x01, 1, 1, 1, 2, 2, 2};
  static const unsigned char skipped_block[5] = {0x81, 0x00, 0x21, 0x00, 0x41};
  size_t at, track, inner, tags, tag, group;

  at = open_el(b, 0x1A45DFA3);
  str_el(b, 0x4282, "matroska");
  close_el(b, at);
  o->segment = b->size;
  unknown_el(b, 0x18538067);
  at = open_el(b, 0x1549A966);
  uint_el(b, 0x2AD7B1, 1000000);
  close_el(b, at);

  at = open_el(b, 0x1654AE6B);
  track = open_el(b, 0xAE);
  uint_el(b, 0xD7, 1);
  uint_el(b, 0x73C5, 11);
  uint_el(b, 0x83, 1);
  str_el(b, 0x86, "V_MPEG4/ISO/AVC");
  str_el(b, 0x258688, "h264");
  str_el(b, 0x536E, "video");
  bin_el(b, 0x63A2, codec_private, sizeof codec_private);
  uint_el(b, 0x23E383, 33333333);
  inner = open_el(b, 0xE0);
  uint_el(b, 0xB0, 640);
  uint_el(b, 0xBA, 360);
  close_el(b, inner);
  inner = open_el(b, 0x6D80);
  {
    size_t encoding = open_el(b, 0x6240), compression;
    uint_el(b, 0x5031, 0);
    uint_el(b, 0x5032, 1);
    uint_el(b, 0x5033, 0);
    compression = open_el(b, 0x5034);
    uint_el(b, 0x4254, 3);
    bin_el(b, 0x4255, start_code, sizeof start_code);
    close_el(b, compression);
    close_el(b, encoding);
  }
  close_el(b, inner);
  close_el(b, track);
  track = open_el(b, 0xAE);
  uint_el(b, 0xD7, 2);
  uint_el(b, 0x73C5, 22);
  uint_el(b, 0x83, 2);
  str_el(b, 0x86, "A_OPUS");
  uint_el(b, 0x23E383, 20000000);
  uint_el(b, 0x56AA, 6500000);
  uint_el(b, 0x56BB, 80000000);
  inner = open_el(b, 0xE1);
  float_el(b, 0xB5, 48000.0);
  uint_el(b, 0x9F, 2);
  uint_el(b, 0x6264, 16);
  close_el(b, inner);
  close_el(b, track);
  close_el(b, at);

  tags = open_el(b, 0x1254C367);
  tag = open_el(b, 0x7373);
  simple_tag(b, "AWS_KINESISVIDEO_FRAGMENT_NUMBER", "91343852333181432392682062607743920146264772034");
  simple_tag(b, "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", "1700000000.500");
  simple_tag(b, "AWS_KINESISVIDEO_SERVER_TIMESTAMP", "1700000001.250");
  at = open_el(b, 0x67C8);
  str_el(b, 0x45A3, "BIN");
  bin_el(b, 0x4485, binary, sizeof binary);
  simple_tag(b, "NESTED", "x");
  close_el(b, at);
  close_el(b, tag);
  close_el(b, tags);

  unknown_el(b, 0x1F43B675);
  uint_el(b, 0xE7, 100);
  o->first_block = b->size;
  bin_el(b, 0xA3, key_block, sizeof key_block);
  group = open_el(b, 0xA0);
  o->group_block = b->size;
  bin_el(b, 0xA1, laced_block, sizeof laced_block);
  uint_el(b, 0x9B, 40);
  close_el(b, group);
  bin_el(b, 0xA3, skipped_block, sizeof skipped_block);

  tags = open_el(b, 0x1254C367);
  tag = open_el(b, 0x7373);
  simple_tag(b, "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", "1500");
  close_el(b, tag);
  close_el(b, tags);
  o->bad_byte = b->size;
  b->data[b->size++] = 0x00; /* no element ID starts with 0x00: a parse error */
}

/* ---- what the callbacks saw ---- */

struct seen {
  const struct offsets *o;
  int starts, begins, frames, ends, errors, track_calls, tag_calls, tags;
};

static const int64_t kProducer = 1700000000500LL;

static void on_fragment_start(void *user, const kvs_parser_fragment_start *s) {
  struct seen *seen = (struct seen *)user;
  seen->starts++;
  EXPECT(s->index == 0);
  EXPECT(s->offset == seen->o->segment);
}

static int on_frame_begin(void *user, const kvs_parser_frame *h) {
  struct seen *seen = (struct seen *)user;
  seen->begins++;
  EXPECT(h->data == NULL && h->size == 0);
  if (seen->begins == 1) {
    EXPECT(h->track_number == 1 && h->payload_size == 2 && h->pts_ms == 100);
    EXPECT(h->flags == (KVS_PARSER_FRAME_KEYFRAME));
  } else if (seen->begins == 2) {
    EXPECT(h->track_number == 2 && h->payload_size == 7 && h->lacing == 2);
    EXPECT(h->flags == KVS_PARSER_FRAME_IN_BLOCK_GROUP); /* keyframe and duration not known yet */
    EXPECT(h->block_offset == seen->o->group_block);
  } else {
    EXPECT(h->track_number == 1 && h->timecode == 33 && h->payload_size == 1);
    return KVS_PARSER_SKIP;
  }
  EXPECT(h->fragment != NULL && h->fragment->has_producer_timestamp);
  return KVS_PARSER_READ;
}

static void on_frame(void *user, const kvs_parser_frame *f) {
  static const unsigned char first[6] = {0x00, 0x00, 0x00, 0x01, 0x65, 0x88};
  struct seen *seen = (struct seen *)user;
  const kvs_parser_fragment_metadata *m = f->fragment;
  seen->frames++;
  EXPECT(f->fragment_index == 0);
  EXPECT(f->cluster_timecode == 100);
  EXPECT(m != NULL);
  if (m != NULL) {
    EXPECT(strcmp(m->fragment_number, "91343852333181432392682062607743920146264772034") == 0);
    EXPECT(m->has_producer_timestamp && m->producer_timestamp_ms == kProducer);
    EXPECT(m->has_server_timestamp && m->server_timestamp_ms == 1700000001250LL);
    EXPECT(!m->has_millis_behind_now && m->continuation_token == NULL && m->error_code == NULL);
    EXPECT(!m->has_error_id && m->error_message == NULL);
  }
  if (seen->frames == 1) {
    EXPECT(f->track_number == 1 && f->timecode == 0 && f->pts_ms == 100);
    EXPECT(f->flags == (KVS_PARSER_FRAME_KEYFRAME | KVS_PARSER_FRAME_HAS_PRODUCER_TIME));
    EXPECT(f->duration == 0 && f->lacing == 0 && f->lace_index == 0);
    EXPECT(f->block_offset == seen->o->first_block);
    EXPECT(f->size == 6 && memcmp(f->data, first, 6) == 0); /* the stripped start code put back */
    EXPECT(f->producer_time_ms == kProducer);
    EXPECT(f->payload_size == 2);
  } else {
    const int lace = seen->frames - 2;
    EXPECT(f->track_number == 2 && f->timecode == 5);
    EXPECT(f->pts_ms == 105 + 20 * lace); /* laces DefaultDuration (20 ms) apart */
    EXPECT(f->flags == (KVS_PARSER_FRAME_KEYFRAME | KVS_PARSER_FRAME_IN_BLOCK_GROUP |
                        KVS_PARSER_FRAME_HAS_DURATION | KVS_PARSER_FRAME_HAS_PRODUCER_TIME));
    EXPECT(f->duration == 40 && f->lacing == 2 && f->lace_index == (uint32_t)lace);
    EXPECT(f->block_offset == seen->o->group_block);
    EXPECT(f->size == 3 && f->data[0] == lace + 1 && f->data[2] == lace + 1);
    EXPECT(f->producer_time_ms == kProducer + 5 + 20 * lace);
  }
}

static void on_tracks(void *user, const kvs_parser_track *t, size_t count) {
  static const unsigned char codec_private[4] = {0x01, 0x64, 0x00, 0x1F};
  static const unsigned char start_code[4] = {0x00, 0x00, 0x00, 0x01};
  struct seen *seen = (struct seen *)user;
  seen->track_calls++;
  EXPECT(count == 2);
  if (count != 2) return;
  EXPECT(t[0].number == 1 && t[0].uid == 11 && t[0].type == 1);
  EXPECT(strcmp(t[0].codec_id, "V_MPEG4/ISO/AVC") == 0 && strcmp(t[0].codec_name, "h264") == 0);
  EXPECT(strcmp(t[0].name, "video") == 0);
  EXPECT(t[0].codec_private_size == 4 && memcmp(t[0].codec_private, codec_private, 4) == 0);
  EXPECT(t[0].default_duration_ns == 33333333 && t[0].codec_delay_ns == 0 && t[0].seek_pre_roll_ns == 0);
  EXPECT(t[0].pixel_width == 640 && t[0].pixel_height == 360);
  EXPECT(t[0].sampling_frequency == 0.0 && t[0].channels == 0 && t[0].bit_depth == 0);
  EXPECT(t[0].content_encoding_count == 1 && t[0].content_encodings != NULL);
  if (t[0].content_encoding_count == 1) {
    const kvs_parser_content_encoding *e = &t[0].content_encodings[0];
    EXPECT(e->order == 0 && e->scope == 1 && e->type == 0 && e->compression_algorithm == 3 && !e->encrypted);
    EXPECT(e->compression_settings_size == 4 && memcmp(e->compression_settings, start_code, 4) == 0);
  }
  EXPECT(t[1].number == 2 && t[1].uid == 22 && t[1].type == 2);
  EXPECT(strcmp(t[1].codec_id, "A_OPUS") == 0 && strcmp(t[1].codec_name, "") == 0 && strcmp(t[1].name, "") == 0);
  EXPECT(t[1].codec_private_size == 0);
  EXPECT(t[1].default_duration_ns == 20000000 && t[1].codec_delay_ns == 6500000 &&
         t[1].seek_pre_roll_ns == 80000000);
  EXPECT(t[1].pixel_width == 0 && t[1].pixel_height == 0);
  EXPECT(t[1].sampling_frequency == 48000.0 && t[1].channels == 2 && t[1].bit_depth == 16);
  EXPECT(t[1].content_encoding_count == 0 && t[1].content_encodings == NULL);
}

static void on_tags(void *user, const kvs_parser_tag *tags, size_t count) {
  struct seen *seen = (struct seen *)user;
  seen->tag_calls++;
  seen->tags += (int)count;
  if (seen->tag_calls == 1) {
    EXPECT(count == 5);
    if (count != 5) return;
    EXPECT(strcmp(tags[0].name, "AWS_KINESISVIDEO_FRAGMENT_NUMBER") == 0 && tags[0].depth == 0);
    EXPECT(strcmp(tags[1].value, "1700000000.500") == 0 && !tags[1].is_binary && tags[1].binary == NULL);
    EXPECT(tags[1].binary_size == 0);
    EXPECT(strcmp(tags[3].name, "BIN") == 0 && tags[3].is_binary && tags[3].value == NULL);
    EXPECT(tags[3].binary_size == 3 && tags[3].binary[0] == 9 && tags[3].binary[2] == 7 && tags[3].depth == 0);
    EXPECT(strcmp(tags[4].name, "NESTED") == 0 && strcmp(tags[4].value, "x") == 0 && tags[4].depth == 1);
  } else {
    EXPECT(count == 1 && strcmp(tags[0].value, "1500") == 0);
  }
}

static void on_fragment_end(void *user, const kvs_parser_fragment_end *e) {
  struct seen *seen = (struct seen *)user;
  seen->ends++;
  EXPECT(e->index == 0 && e->start_offset == seen->o->segment);
  EXPECT(e->end_offset == seen->o->bad_byte + 1);
  EXPECT(e->complete == 0); /* the bad byte lies inside it */
  EXPECT(e->frame_count == 4); /* three frames and one block skipped */
  EXPECT(e->timecode_scale == 1000000 && e->track_count == 2 && e->tag_count == 6);
  EXPECT(strcmp(e->metadata.fragment_number, "91343852333181432392682062607743920146264772034") == 0);
  EXPECT(e->metadata.has_millis_behind_now && e->metadata.millis_behind_now == 1500);
  EXPECT(e->metadata.has_producer_timestamp && e->metadata.producer_timestamp_ms == kProducer);
}

static void on_error(void *user, const kvs_parser_error *e) {
  struct seen *seen = (struct seen *)user;
  seen->errors++;
  EXPECT(e->code == 1 && strcmp(e->code_name, "invalid_vint") == 0);
  EXPECT(e->offset == seen->o->bad_byte);
  EXPECT(strcmp(e->path, "Segment") == 0); /* the Tags after the Cluster ended it */
  EXPECT(e->message != NULL && strlen(e->message) > 0);
}

static int parse(const struct buf *b, const struct offsets *o, size_t chunk) {
  struct seen seen;
  kvs_parser_callbacks callbacks;
  kvs_parser *parser = NULL;
  size_t at;
  memset(&seen, 0, sizeof seen);
  seen.o = o;
  kvs_parser_callbacks_init(&callbacks);
  EXPECT(callbacks.size == sizeof callbacks && callbacks.on_frame == NULL);
  callbacks.on_fragment_start = on_fragment_start;
  callbacks.on_frame_begin = on_frame_begin;
  callbacks.on_frame = on_frame;
  callbacks.on_fragment_end = on_fragment_end;
  callbacks.on_error = on_error;
  callbacks.on_tracks = on_tracks;
  callbacks.on_tags = on_tags;
  if (kvs_parser_create(NULL, &callbacks, &seen, &parser) != KVS_PARSER_OK) return 1;
  for (at = 0; at < b->size; at += chunk) {
    EXPECT(kvs_parser_feed(parser, b->data + at, at + chunk < b->size ? chunk : b->size - at) == KVS_PARSER_OK);
  }
  EXPECT(kvs_parser_close(parser) == KVS_PARSER_OK);
  EXPECT(kvs_parser_bytes_consumed(parser) == b->size && kvs_parser_error_count(parser) == 1);
  EXPECT(kvs_parser_fragment_count(parser) == 1);
  kvs_parser_destroy(parser);
  EXPECT(seen.starts == 1 && seen.begins == 3 && seen.frames == 3 && seen.ends == 1 && seen.errors == 1);
  EXPECT(seen.track_calls == 1 && seen.tag_calls == 2 && seen.tags == 6);
  return 0;
}

int main(void) {
  static struct buf b;
  struct offsets o;
  size_t chunk;
  build(&b, &o);
  for (chunk = 1; chunk <= b.size; chunk = chunk * 3 + 1) {
    if (parse(&b, &o, chunk) != 0) ++failures;
  }
  if (parse(&b, &o, b.size) != 0) ++failures;
  printf("%d failure(s)\n", failures);
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
