// A C view of simdjson for Swift: Swift's C++ interop cannot call simdjson's
// ref-qualified parse overloads, so this shim parses in C++ and hands the
// parsed document's tape to Swift, which walks it without further calls.
#ifndef COEX_JSON_H
#define COEX_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes that must be readable after the end of an input passed with `padded != 0`.
#define COEX_JSON_PADDING 64

/// simdjson's tape (documented in its tape.md): one 64-bit word per value, the
/// type character in the top byte. '{' and '[' hold the index after their
/// matching close in the low 32 bits and the member count in bits 32-55;
/// '"' holds an offset into the string buffer, where a 32-bit length precedes
/// the bytes; 'l', 'u' and 'd' are followed by a word holding the number.
typedef struct coex_json_parser coex_json_parser;

coex_json_parser *coex_json_parser_new(void);
void coex_json_parser_free(coex_json_parser *parser);

/// Parses `len` bytes. With `padded != 0` the caller guarantees COEX_JSON_PADDING
/// readable bytes after the input (no copy); otherwise the input is copied.
/// Returns 0 or a simdjson error code. The tape and strings stay valid until the
/// next call on the same parser.
int coex_json_parse(coex_json_parser *parser, const uint8_t *bytes, size_t len, int padded);
/// The tape and string buffer of the last successful parse; the root value is at tape index 1.
void coex_json_document(const coex_json_parser *parser, const uint64_t **tape, const uint8_t **strings);
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
