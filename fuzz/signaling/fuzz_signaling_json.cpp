// Signaling messages as venues (and, for the terminal, the server) send them: the strict parser
// must never crash, and whatever it accepts must serialise and parse back to the same message.
#include <cstdint>
#include <string_view>

#include "plateau/signaling/protocol.hpp"

namespace p = plateau::signaling::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto c = p::ParseClientMessage(text); c.ok()) {
    const std::string once = p::Serialize(c.value());
    auto again = p::ParseClientMessage(once);
    if (!again.ok() || p::Serialize(again.value()) != once) __builtin_trap();
  } else if (c.failure().code.empty()) {
    __builtin_trap();
  }
  if (auto s = p::ParseServerMessage(text); s.ok()) {
    const std::string once = p::Serialize(s.value());
    auto again = p::ParseServerMessage(once);
    if (!again.ok() || p::Serialize(again.value()) != once) __builtin_trap();
  } else {
    (void)p::ToErrorMessage(s.failure());
  }
  return 0;
}
