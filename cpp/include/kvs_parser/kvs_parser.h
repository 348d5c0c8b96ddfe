/*
 * kvs_parser.h: the C API of the KVS/Matroska streaming parser, for C programs and other languages' FFI.
 *
 * Feed the bytes of a Kinesis Video Streams GetMedia response (or any Matroska stream) in chunks of
 * any size; the callbacks are called during kvs_parser_feed() and kvs_parser_close() as soon as each
 * fragment start, frame, fragment end or parse error is known.
 *
 *   kvs_parser_callbacks cb;
 *   kvs_parser *parser = NULL;
 *   kvs_parser_callbacks_init(&cb);   (zeroes it and sets cb.size: the struct may grow)
 *   cb.on_tracks = my_on_tracks;      (codec, CodecPrivate, dimensions, sampling: what a decoder needs)
 *   cb.on_frame = my_on_frame;
 *   if (kvs_parser_create(NULL, &cb, my_state, &parser) != KVS_PARSER_OK) ...;
 *   while (have data) kvs_parser_feed(parser, chunk, chunk_size);
 *   kvs_parser_close(parser);
 *   kvs_parser_destroy(parser);
 *
 * Every pointer handed to a callback (frame bytes, strings, structs) is valid only during that call:
 * copy what you keep. Structs the library hands out may gain fields at their end in a later version;
 * the callbacks struct carries its own size so that it can grow too. Parse errors do not stop the parser: they are reported through on_error and
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
#define KVS_PARSER_FRAME_HAS_PRODUCER_TIME 0x20u /* producer_time_ms is set */
/* The track's ContentEncoding could not be undone (encryption, bzlib, lzo1x, a corrupt zlib stream):
 * the bytes are as stored. Header stripping and zlib are undone before on_frame. */
#define KVS_PARSER_FRAME_CONTENT_ENCODED 0x40u

/* What on_frame_begin returns. */
#define KVS_PARSER_READ 0 /* read the block: on_frame is called for each of its frames */
#define KVS_PARSER_SKIP 1 /* skip it unread: none of its bytes is copied */

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

/* One ContentEncoding of a track (Matroska ContentEncodings). */
typedef struct kvs_parser_content_encoding {
  uint64_t order;                 /* decoding starts with the highest */
  uint64_t scope;                 /* bits: 1 frames, 2 CodecPrivate, 4 the next encoding's settings */
  uint64_t type;                  /* 0 compression, 1 encryption */
  uint64_t compression_algorithm; /* 0 zlib, 1 bzlib, 2 lzo1x, 3 header stripping */
  const uint8_t *compression_settings; /* header stripping: the bytes stripped from each frame */
  size_t compression_settings_size;
  int encrypted; /* a ContentEncryption is present: frames are flagged KVS_PARSER_FRAME_CONTENT_ENCODED */
} kvs_parser_content_encoding;

/* A TrackEntry: what a decoder needs. Numbers absent from the stream are 0 (strings ""). */
typedef struct kvs_parser_track {
  uint64_t number;
  uint64_t uid;
  uint64_t type; /* 1 video, 2 audio, 17 subtitle */
  const char *codec_id; /* e.g. "V_MPEG4/ISO/AVC" */
  const char *codec_name;
  const char *name;
  const uint8_t *codec_private; /* e.g. the avcC record; its ContentEncoding undone when scoped to it */
  size_t codec_private_size;
  uint64_t default_duration_ns;
  uint64_t codec_delay_ns;
  uint64_t seek_pre_roll_ns;
  uint64_t pixel_width; /* video */
  uint64_t pixel_height;
  double sampling_frequency; /* audio */
  uint64_t channels;
  uint64_t bit_depth;
  size_t content_encoding_count;
  const kvs_parser_content_encoding *content_encodings;
} kvs_parser_track;

/* A SimpleTag. value is NULL for a binary tag (then binary and binary_size are set). */
typedef struct kvs_parser_tag {
  const char *name;
  const char *value;
  const uint8_t *binary;
  size_t binary_size;
  int is_binary;
  uint32_t depth; /* 0 for a SimpleTag directly in a Tag, 1+ when nested */
} kvs_parser_tag;

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
  const uint8_t *data; /* the frame's bytes, valid during the callback only (NULL in on_frame_begin) */
  size_t size;
  /* The fragment's producer timestamp plus this frame's offset in it, when KVS_PARSER_FRAME_HAS_PRODUCER_TIME. */
  int64_t producer_time_ms;
  uint64_t payload_size; /* the block's payload as stored (lacing included): what on_frame_begin may skip */
} kvs_parser_frame;

typedef struct kvs_parser_error {
  int code;              /* 1..14, see kvs_parser_error_code_name() */
  const char *code_name; /* e.g. "element_too_large" */
  uint64_t offset;       /* absolute byte offset of the offending element (or byte) */
  const char *path;      /* element path, e.g. "Segment/Cluster/SimpleBlock" */
  const char *message;
} kvs_parser_error;

/* Any callback may be NULL. `user` is the pointer given to kvs_parser_create. Fill the struct with
 * kvs_parser_callbacks_init first: `size` tells the library which fields the caller knows, so new
 * callbacks can be added at the end without breaking programs built against an older header. */
typedef struct kvs_parser_callbacks {
  size_t size; /* sizeof(kvs_parser_callbacks) as the caller compiled it */
  void (*on_fragment_start)(void *user, const kvs_parser_fragment_start *start);
  /* A block's header was read, before any of its payload is copied: return KVS_PARSER_SKIP to skip it.
   * The frame has no data (data NULL, size 0; payload_size set); a laced block is one call; in a
   * BlockGroup the keyframe flag and duration are not known yet. Without on_frame every block is skipped. */
  int (*on_frame_begin)(void *user, const kvs_parser_frame *header);
  void (*on_frame)(void *user, const kvs_parser_frame *frame);
  void (*on_fragment_end)(void *user, const kvs_parser_fragment_end *end);
  void (*on_error)(void *user, const kvs_parser_error *error);
  /* A Tracks element was read: its TrackEntries. */
  void (*on_tracks)(void *user, const kvs_parser_track *tracks, size_t count);
  /* A Tags element was read: its SimpleTags (KVS fragment tags among them), in stream order. */
  void (*on_tags)(void *user, const kvs_parser_tag *tags, size_t count);
} kvs_parser_callbacks;

/* The library version, e.g. "0.1.0" (the Python package's version). */
KVS_PARSER_API const char *kvs_parser_version(void);
/* A readable name for a parse error code or an API return code; never NULL. */
KVS_PARSER_API const char *kvs_parser_error_code_name(int code);
KVS_PARSER_API const char *kvs_parser_status_name(int status);

KVS_PARSER_API void kvs_parser_default_limits(kvs_parser_limits *limits);
/* Zeroes `callbacks` and sets its size: call it before setting the callbacks you need. */
KVS_PARSER_API void kvs_parser_callbacks_init(kvs_parser_callbacks *callbacks);

/* Creates a parser. `limits` may be NULL (defaults); `callbacks` may be NULL (no events); the callbacks
 * struct is copied. KVS_PARSER_E_INVALID_ARGUMENT when callbacks->size was not set by
 * kvs_parser_callbacks_init (or names callbacks this library does not have). On success *out holds a handle to release with kvs_parser_destroy. */
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
