// JSON from outside (REST bodies, WebSocket messages): the one gate every such text passes before
// nlohmann::json sees it. Two things the library does not do for us:
//  - bound nesting before parsing: a 120 KB "[[[[..." builds a 60,000-deep value whose recursive
//    users (merge_patch, dump, comparison) overflow the stack and take the whole process down;
//  - refuse bytes after the value: nlohmann's lexer reads a NUL byte as the end of input, so
//    `{"a":1}\0garbage` would parse as `{"a":1}`.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "plateau/common/result.hpp"

namespace plateau {

// Nesting depth of `bytes` ('[' and '{' outside strings), counted without building anything and
// stopping at the first level beyond `max_depth`. True when within.
bool JsonWithinDepth(std::string_view bytes, size_t max_depth);

// Parses one JSON value from untrusted bytes. Error codes:
//   "too_deep"       nested deeper than `max_depth` (checked before parsing)
//   "trailing_bytes" a NUL byte (never part of JSON text) with anything after it
//   "bad_json"       not valid JSON (syntax, invalid UTF-8, text after the value)
// The message names the limit or the offset.
Result<nlohmann::json> ParseUntrustedJson(std::string_view bytes, size_t max_depth);

}  // namespace plateau
