/*
 * stream_file: streams a KVS GetMedia capture (or any Matroska file) through the C API in 4 KiB chunks,
 * as a network reader would, and prints what a decoder needs: each track (codec, CodecPrivate size,
 * dimensions or sampling), then one line per fragment start, frame, fragment end and error.
 *
 *   stream_file [--quiet] FILE      (--quiet: no per-frame lines)
 *
 * Exit status: 0 when the stream parsed without errors, 1 when parse errors were reported, 2 on a
 * usage, I/O or API failure.
 */
#include <stdio.h>
#include <string.h>

#include "kvs_parser/kvs_parser.h"

#define CHUNK_SIZE 4096

struct summary {
  int quiet;
  unsigned long fragments;
  unsigned long frames;
  unsigned long keyframes;
  unsigned long errors;
  double frame_bytes;
};

static const char *or_dash(const char *text) { return text != NULL ? text : "-"; }

static void on_tracks(void *user, const kvs_parser_track *tracks, size_t count) {
  size_t i;
  (void)user;
  for (i = 0; i < count; ++i) {
    const kvs_parser_track *t = &tracks[i];
    printf("track %lu type=%lu codec=%s codec_private=%lu bytes", (unsigned long)t->number, (unsigned long)t->type,
           t->codec_id, (unsigned long)t->codec_private_size);
    if (t->pixel_width > 0) printf(" %lux%lu", (unsigned long)t->pixel_width, (unsigned long)t->pixel_height);
    if (t->sampling_frequency > 0) {
      printf(" %.0f Hz %lu channels", t->sampling_frequency, (unsigned long)t->channels);
    }
    if (t->default_duration_ns > 0) printf(" default_duration_ns=%.0f", (double)t->default_duration_ns);
    if (t->content_encoding_count > 0) printf(" content_encodings=%lu", (unsigned long)t->content_encoding_count);
    printf("\n");
  }
}

static void on_tags(void *user, const kvs_parser_tag *tags, size_t count) {
  struct summary *s = (struct summary *)user;
  size_t i;
  if (s->quiet) return;
  for (i = 0; i < count; ++i) {
    if (tags[i].is_binary) {
      printf("  tag %s=<%lu bytes>\n", tags[i].name, (unsigned long)tags[i].binary_size);
    } else {
      printf("  tag %s=%s\n", tags[i].name, tags[i].value);
    }
  }
}

static void on_fragment_start(void *user, const kvs_parser_fragment_start *start) {
  (void)user;
  printf("fragment %lu start offset=%.0f\n", (unsigned long)start->index, (double)start->offset);
}

static void on_frame(void *user, const kvs_parser_frame *frame) {
  struct summary *s = (struct summary *)user;
  s->frames++;
  s->frame_bytes += (double)frame->size;
  if (frame->flags & KVS_PARSER_FRAME_KEYFRAME) s->keyframes++;
  if (s->quiet) return;
  printf("  frame track=%lu pts_ms=%.0f size=%lu%s fragment_number=%s", (unsigned long)frame->track_number,
         (double)frame->pts_ms, (unsigned long)frame->size,
         (frame->flags & KVS_PARSER_FRAME_KEYFRAME) ? " key" : "",
         or_dash(frame->fragment != NULL ? frame->fragment->fragment_number : NULL));
  if (frame->flags & KVS_PARSER_FRAME_HAS_PRODUCER_TIME) printf(" producer_ms=%.0f", (double)frame->producer_time_ms);
  if (frame->flags & KVS_PARSER_FRAME_CONTENT_ENCODED) printf(" still-encoded");
  printf("\n");
}

static void on_fragment_end(void *user, const kvs_parser_fragment_end *end) {
  const kvs_parser_fragment_metadata *m = &end->metadata;
  struct summary *s = (struct summary *)user;
  s->fragments++;
  printf("fragment %lu end frames=%lu complete=%s number=%s", (unsigned long)end->index,
         (unsigned long)end->frame_count, end->complete ? "yes" : "no", or_dash(m->fragment_number));
  if (m->has_producer_timestamp) printf(" producer_ms=%.0f", (double)m->producer_timestamp_ms);
  if (m->has_server_timestamp) printf(" server_ms=%.0f", (double)m->server_timestamp_ms);
  printf("\n");
}

static void on_error(void *user, const kvs_parser_error *error) {
  struct summary *s = (struct summary *)user;
  s->errors++;
  printf("error %s at offset %.0f in %s: %s\n", error->code_name, (double)error->offset, error->path,
         error->message);
}

int main(int argc, char **argv) {
  static unsigned char chunk[CHUNK_SIZE];
  struct summary s;
  kvs_parser_callbacks callbacks;
  kvs_parser *parser = NULL;
  const char *path = NULL;
  FILE *file;
  size_t got;
  int status;
  int i;

  memset(&s, 0, sizeof s);
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quiet") == 0) {
      s.quiet = 1;
    } else if (path == NULL) {
      path = argv[i];
    } else {
      path = NULL;
      break;
    }
  }
  if (path == NULL) {
    fprintf(stderr, "usage: %s [--quiet] FILE\n", argv[0]);
    return 2;
  }
  file = fopen(path, "rb");
  if (file == NULL) {
    perror(path);
    return 2;
  }

  kvs_parser_callbacks_init(&callbacks);
  callbacks.on_tracks = on_tracks;
  callbacks.on_tags = on_tags;
  callbacks.on_fragment_start = on_fragment_start;
  callbacks.on_frame = on_frame;
  callbacks.on_fragment_end = on_fragment_end;
  callbacks.on_error = on_error;
  status = kvs_parser_create(NULL, &callbacks, &s, &parser);
  if (status != KVS_PARSER_OK) {
    fprintf(stderr, "kvs_parser_create: %s\n", kvs_parser_status_name(status));
    fclose(file);
    return 2;
  }

  while (status == KVS_PARSER_OK && (got = fread(chunk, 1, sizeof chunk, file)) > 0) {
    status = kvs_parser_feed(parser, chunk, got);
  }
  if (status == KVS_PARSER_OK && ferror(file)) {
    perror(path);
    status = KVS_PARSER_E_FAILED;
  } else if (status == KVS_PARSER_OK) {
    status = kvs_parser_close(parser);
  } else {
    fprintf(stderr, "kvs_parser_feed: %s\n", kvs_parser_status_name(status));
  }
  fclose(file);

  printf("summary: kvs_parser %s, %.0f bytes, %lu fragments, %lu frames (%lu key), %.0f frame bytes, "
         "%lu errors\n",
         kvs_parser_version(), (double)kvs_parser_bytes_consumed(parser), s.fragments, s.frames, s.keyframes,
         s.frame_bytes, s.errors);
  kvs_parser_destroy(parser);
  if (status != KVS_PARSER_OK) return 2;
  return s.errors > 0 ? 1 : 0;
}
