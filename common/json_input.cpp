#include "plateau/common/json_input.hpp"

#include <string>

namespace plateau {

bool JsonWithinDepth(std::string_view bytes, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : bytes) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

Result<nlohmann::json> ParseUntrustedJson(std::string_view bytes, size_t max_depth) {
  // A raw NUL is never valid JSON text (inside strings it must be escaped as \u0000), and the
  // parser would stop at it and ignore the rest.
  if (const size_t nul = bytes.find('\0'); nul != std::string_view::npos)
    return Error{"trailing_bytes",
                 "a NUL byte at offset " + std::to_string(nul) + " (JSON text has none)"};
  if (!JsonWithinDepth(bytes, max_depth))
    return Error{"too_deep", "nested deeper than " + std::to_string(max_depth) + " levels"};
  nlohmann::json j =
      nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{"bad_json", "not valid JSON"};
  return j;
}

}  // namespace plateau
