// Request targets and query strings as clients send them.
#include <cstdint>
#include <string_view>

#include "plateau/listener/http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto q = plateau::listener::ParseQuery(text);
  for (const auto& [k, v] : q) {
    if (k.size() > size || v.size() > size) __builtin_trap();
  }
  (void)plateau::listener::PercentDecode(text, false);
  return 0;
}
