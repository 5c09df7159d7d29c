#include "coex_json.h"

#include <simdjson.h>
#include <vector>

static_assert(COEX_JSON_PADDING >= simdjson::SIMDJSON_PADDING, "padding too small");

struct coex_json_parser {
  simdjson::dom::parser parser;
  std::vector<coex_json_node> nodes;
};

namespace {

void flatten(simdjson::dom::element element, std::vector<coex_json_node> &out) {
  using simdjson::dom::element_type;
  size_t index = out.size();
  out.push_back(coex_json_node{});
  coex_json_node node{};
  switch (element.type()) {
  case element_type::NULL_VALUE:
    node.type = COEX_JSON_NULL;
    break;
  case element_type::BOOL:
    node.type = bool(element) ? COEX_JSON_TRUE : COEX_JSON_FALSE;
    break;
  case element_type::INT64:
    node.type = COEX_JSON_INT64;
    node.v.i = int64_t(element);
    break;
  case element_type::UINT64:
    node.type = COEX_JSON_UINT64;
    node.v.u = uint64_t(element);
    break;
  case element_type::DOUBLE:
    node.type = COEX_JSON_DOUBLE;
    node.v.d = double(element);
    break;
  case element_type::STRING: {
    std::string_view s = element.get_string().value_unsafe();
    node.type = COEX_JSON_STRING;
    node.len = uint32_t(s.size());
    node.v.s = s.data();
    break;
  }
  case element_type::ARRAY: {
    simdjson::dom::array array = element.get_array().value_unsafe();
    uint32_t count = 0;
    for (simdjson::dom::element child : array) {
      flatten(child, out);
      count++;
    }
    node.type = COEX_JSON_ARRAY;
    node.len = count;
    break;
  }
  case element_type::OBJECT: {
    simdjson::dom::object object = element.get_object().value_unsafe();
    uint32_t count = 0;
    for (simdjson::dom::key_value_pair field : object) {
      coex_json_node key{};
      key.type = COEX_JSON_KEY;
      key.len = uint32_t(field.key.size());
      key.v.s = field.key.data();
      key.end = uint32_t(out.size() + 1);
      out.push_back(key);
      flatten(field.value, out);
      count++;
    }
    node.type = COEX_JSON_OBJECT;
    node.len = count;
    break;
  }
  }
  node.end = uint32_t(out.size());
  out[index] = node;
}

} // namespace

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
  parser->nodes.clear();
  try {
    simdjson::dom::element root;
    auto error = parser->parser.parse(bytes, len, padded == 0).get(root);
    if (error) {
      return int(error);
    }
    flatten(root, parser->nodes);
    return 0;
  } catch (const std::bad_alloc &) {
    parser->nodes.clear();
    return int(simdjson::MEMALLOC);
  }
}

const coex_json_node *coex_json_nodes(const coex_json_parser *parser, size_t *count) {
  *count = parser->nodes.size();
  return parser->nodes.data();
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
