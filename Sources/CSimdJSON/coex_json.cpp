#include "coex_json.h"

#include <simdjson.h>

static_assert(COEX_JSON_PADDING >= simdjson::SIMDJSON_PADDING, "padding too small");

struct coex_json_parser {
  simdjson::dom::parser parser;
};

extern "C" {

coex_json_parser *coex_json_parser_new(void) {
  try {
    return new coex_json_parser();
  } catch (...) {
    return nullptr;
  }
}

void coex_json_parser_free(coex_json_parser *parser) { delete parser; }

int coex_json_parse(coex_json_parser *parser, const uint8_t *bytes, size_t len, int padded) {
  try {
    simdjson::dom::element root;
    auto error = parser->parser.parse(bytes, len, padded == 0).get(root);
    return int(error);
  } catch (const std::bad_alloc &) {
    return int(simdjson::MEMALLOC);
  }
}

void coex_json_document(const coex_json_parser *parser, const uint64_t **tape, const uint8_t **strings) {
  *tape = parser->parser.doc.tape.get();
  *strings = parser->parser.doc.string_buf.get();
}

const char *coex_json_error_message(int code) {
  return simdjson::error_message(simdjson::error_code(code));
}

int coex_json_error_is_utf8(int code) { return code == int(simdjson::UTF8_ERROR); }

int coex_json_error_is_depth(int code) { return code == int(simdjson::DEPTH_ERROR); }

int coex_json_error_is_number(int code) {
  return code == int(simdjson::NUMBER_ERROR) ||
         code == int(simdjson::NUMBER_OUT_OF_RANGE);
}

} // extern "C"
