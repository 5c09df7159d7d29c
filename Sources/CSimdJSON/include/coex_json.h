// A C view of simdjson for Swift: Swift's C++ interop cannot call simdjson's
// ref-qualified parse overloads, so this shim parses in C++ and flattens the
// DOM into an array of nodes that Swift walks without further calls.
#ifndef COEX_JSON_H
#define COEX_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes that must be readable after the end of an input passed with `padded != 0`.
#define COEX_JSON_PADDING 64

enum {
  COEX_JSON_NULL = 0,
  COEX_JSON_FALSE = 1,
  COEX_JSON_TRUE = 2,
  COEX_JSON_INT64 = 3,
  COEX_JSON_UINT64 = 4,
  COEX_JSON_DOUBLE = 5,
  COEX_JSON_STRING = 6,
  COEX_JSON_ARRAY = 7,
  COEX_JSON_OBJECT = 8,
  COEX_JSON_KEY = 9
};

/// One value (or object key) in document order. Objects hold key, value, key,
/// value...; `end` is the index one past the node's subtree, so siblings are
/// reached without walking children.
typedef struct coex_json_node {
  uint8_t type;
  /// String or key length in bytes; child count for arrays; member count for objects.
  uint32_t len;
  uint32_t end;
  union {
    int64_t i;
    uint64_t u;
    double d;
    const char *s;
  } v;
} coex_json_node;

typedef struct coex_json_parser coex_json_parser;

coex_json_parser *coex_json_parser_new(void);
void coex_json_parser_free(coex_json_parser *parser);

/// Parses `len` bytes. With `padded != 0` the caller guarantees COEX_JSON_PADDING
/// readable bytes after the input (no copy); otherwise the input is copied.
/// Returns 0 or a simdjson error code. Nodes and strings stay valid until the
/// next call on the same parser.
int coex_json_parse(coex_json_parser *parser, const uint8_t *bytes, size_t len, int padded);
const coex_json_node *coex_json_nodes(const coex_json_parser *parser, size_t *count);
const char *coex_json_error_message(int code);
/// Nonzero when the code means the input is not valid UTF-8.
int coex_json_error_is_utf8(int code);
/// Nonzero when the code means the input nests deeper than the parser allows.
int coex_json_error_is_depth(int code);
/// Nonzero when the code means a number out of range or malformed.
int coex_json_error_is_number(int code);

#ifdef __cplusplus
}
#endif

#endif
