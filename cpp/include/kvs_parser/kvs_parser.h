/*
 * kvs_parser.h: the C API of the KVS/Matroska streaming parser, for C programs and other languages' FFI.
 *
 * Feed the bytes of a Kinesis Video Streams GetMedia response (or any Matroska stream) in chunks of
 * any size; the callbacks are called during kvs_parser_feed() and kvs_parser_close() as soon as each
 * fragment start, frame, fragment end or parse error is known.
 *
 *   kvs_parser_callbacks cb = {0};
 *   kvs_parser *parser = NULL;
 *   cb.on_frame = my_on_frame;
 *   if (kvs_parser_create(NULL, &cb, my_state, &parser) != KVS_PARSER_OK) ...;
 *   while (have data) kvs_parser_feed(parser, chunk, chunk_size);
 *   kvs_parser_close(parser);
 *   kvs_parser_destroy(parser);
 *
 * Every pointer handed to a callback (frame bytes, strings, structs) is valid only during that call:
 * copy what you keep. Parse errors do not stop the parser: they are reported through on_error and
 * parsing resynchronises on the next EBML header, Segment or Cluster. A handle is used by one thread at
 * a time; handles are independent of each other. No C++ exception ever crosses this interface.
 *
 * Plain C89 apart from <stdint.h>; compiles as C and as C++.
 */
#ifndef KVS_PARSER_KVS_PARSER_H_
#define KVS_PARSER_KVS_PARSER_H_

#include <stddef.h>
#include <stdint.h>

/* KVS_PARSER_API marks the exported functions: default visibility on ELF/Mach-O even when the library
 * is built with hidden visibility; dllexport/dllimport for a Windows DLL (KVS_PARSER_DLL is set for
 * consumers of the shared library by its CMake package). */
#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(KVS_PARSER_BUILDING_DLL)
#define KVS_PARSER_API __declspec(dllexport)
#elif defined(KVS_PARSER_DLL)
#define KVS_PARSER_API __declspec(dllimport)
#else
#define KVS_PARSER_API
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define KVS_PARSER_API __attribute__((visibility("default")))
#else
#define KVS_PARSER_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes of the API calls. Parse errors in the stream are not return codes: see on_error. */
#define KVS_PARSER_OK 0
#define KVS_PARSER_E_INVALID_ARGUMENT (-1) /* a NULL handle or output pointer, NULL data with size > 0 */
#define KVS_PARSER_E_NO_MEMORY (-2)        /* an allocation failed; the handle is now unusable */
#define KVS_PARSER_E_CLOSED (-3)           /* feed or close after kvs_parser_close */
#define KVS_PARSER_E_REENTRANT (-4)        /* feed or close called from inside a callback */
#define KVS_PARSER_E_FAILED (-5)           /* an earlier call failed; the handle is unusable */

/* Frame flags (kvs_parser_frame.flags). */
#define KVS_PARSER_FRAME_KEYFRAME 0x1u
#define KVS_PARSER_FRAME_INVISIBLE 0x2u
#define KVS_PARSER_FRAME_DISCARDABLE 0x4u
#define KVS_PARSER_FRAME_IN_BLOCK_GROUP 0x8u /* from a BlockGroup rather than a SimpleBlock */
#define KVS_PARSER_FRAME_HAS_DURATION 0x10u  /* duration is set (BlockDuration) */

typedef struct kvs_parser kvs_parser; /* opaque */

/* Bounds on what hostile input can make the parser hold; kvs_parser_default_limits() fills the defaults. */
typedef struct kvs_parser_limits {
  uint64_t max_frame_size;        /* one frame (or one laced/grouped block) */
  uint64_t max_buffered_element;  /* a value held whole: CodecPrivate, a tag string */
  uint64_t max_element_size;      /* any known size but Segment and Cluster */
  uint64_t max_segment_size;      /* Segment and Cluster known sizes */
  uint32_t max_depth;             /* nesting of master elements */
  uint32_t max_tags_per_fragment;
  uint32_t max_tracks;
  uint64_t max_fragment_metadata; /* bytes of tags and tracks kept per fragment */
} kvs_parser_limits;

/* KVS metadata of a fragment, from its AWS_KINESISVIDEO_* tags. A NULL string or has_* == 0: absent. */
typedef struct kvs_parser_fragment_metadata {
  const char *fragment_number; /* decimal string, too long for 64 bits */
  int has_server_timestamp;
  int64_t server_timestamp_ms;
  int has_producer_timestamp;
  int64_t producer_timestamp_ms;
  int has_millis_behind_now;
  int64_t millis_behind_now;
  const char *continuation_token;
  const char *error_code;
  int has_error_id;
  int64_t error_id;
  const char *error_message;
} kvs_parser_fragment_metadata;

typedef struct kvs_parser_fragment_start {
  uint64_t index;  /* 0-based count of Segments (fragments) in the stream */
  uint64_t offset; /* byte offset of the Segment header */
} kvs_parser_fragment_start;

typedef struct kvs_parser_fragment_end {
  uint64_t index;
  uint64_t start_offset;
  uint64_t end_offset;
  int complete; /* 0 when the stream was cut or corrupt inside the fragment */
  uint64_t frame_count;
  uint64_t timecode_scale; /* nanoseconds per timecode unit */
  size_t track_count;
  size_t tag_count;
  kvs_parser_fragment_metadata metadata;
} kvs_parser_fragment_end;

typedef struct kvs_parser_frame {
  uint64_t track_number;
  int64_t pts_ms;           /* (cluster_timecode + timecode) * TimecodeScale, in milliseconds */
  int64_t cluster_timecode; /* in TimecodeScale units */
  int32_t timecode;         /* relative to the Cluster, in TimecodeScale units */
  uint32_t flags;           /* KVS_PARSER_FRAME_* */
  uint64_t duration;        /* BlockDuration, in TimecodeScale units, when KVS_PARSER_FRAME_HAS_DURATION */
  uint32_t lacing;          /* 0 none, 1 Xiph, 2 fixed, 3 EBML */
  uint32_t lace_index;      /* position within a laced block */
  uint64_t block_offset;    /* byte offset of the block element */
  uint64_t fragment_index;
  /* The latest KVS fragment metadata seen before this frame; NULL when there was none. */
  const kvs_parser_fragment_metadata *fragment;
  const uint8_t *data; /* the frame's bytes, valid during the callback only */
  size_t size;
} kvs_parser_frame;

typedef struct kvs_parser_error {
  int code;              /* 1..12, see kvs_parser_error_code_name() */
  const char *code_name; /* e.g. "element_too_large" */
  uint64_t offset;       /* absolute byte offset of the offending element (or byte) */
  const char *path;      /* element path, e.g. "Segment/Cluster/SimpleBlock" */
  const char *message;
} kvs_parser_error;

/* Any callback may be NULL. `user` is the pointer given to kvs_parser_create. */
typedef struct kvs_parser_callbacks {
  void (*on_fragment_start)(void *user, const kvs_parser_fragment_start *start);
  void (*on_frame)(void *user, const kvs_parser_frame *frame);
  void (*on_fragment_end)(void *user, const kvs_parser_fragment_end *end);
  void (*on_error)(void *user, const kvs_parser_error *error);
} kvs_parser_callbacks;

/* The library version, e.g. "0.1.0" (the Python package's version). */
KVS_PARSER_API const char *kvs_parser_version(void);
/* A readable name for a parse error code or an API return code; never NULL. */
KVS_PARSER_API const char *kvs_parser_error_code_name(int code);
KVS_PARSER_API const char *kvs_parser_status_name(int status);

KVS_PARSER_API void kvs_parser_default_limits(kvs_parser_limits *limits);

/* Creates a parser. `limits` may be NULL (defaults); `callbacks` may be NULL (no events); the callbacks
 * struct is copied. On success *out holds a handle to release with kvs_parser_destroy. */
KVS_PARSER_API int kvs_parser_create(const kvs_parser_limits *limits, const kvs_parser_callbacks *callbacks,
                                     void *user, kvs_parser **out);
/* Parses `size` bytes; callbacks run before it returns. */
KVS_PARSER_API int kvs_parser_feed(kvs_parser *parser, const uint8_t *data, size_t size);
/* Ends the stream: closes open fragments (reporting a truncation if it ends mid-element). */
KVS_PARSER_API int kvs_parser_close(kvs_parser *parser);
/* Releases the handle; NULL is allowed. Never from inside a callback. */
KVS_PARSER_API void kvs_parser_destroy(kvs_parser *parser);

/* Counters; 0 for a NULL handle. */
KVS_PARSER_API uint64_t kvs_parser_bytes_consumed(const kvs_parser *parser);
KVS_PARSER_API uint64_t kvs_parser_error_count(const kvs_parser *parser);
KVS_PARSER_API uint64_t kvs_parser_fragment_count(const kvs_parser *parser);

#ifdef __cplusplus
}
#endif

#endif /* KVS_PARSER_KVS_PARSER_H_ */
