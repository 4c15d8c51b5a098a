// IP addresses and address:port endpoints as they arrive from outside (an SDP offer's c= address,
// a signaling peer's address): parse; anything accepted is written canonically and must parse
// back to the same value, whose text is then stable.
#include <cstdint>
#include <string_view>

#include "plateau/mcu/transport/address.hpp"

using namespace plateau::mcu::transport;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto a = IpAddress::Parse(text); a.ok()) {
    if (a->bytes().size() != (a->is_v4() ? 4u : 16u)) __builtin_trap();
    const auto b = IpAddress::Parse(a->ToString());
    if (!b.ok() || !(*b == *a) || b->ToString() != a->ToString()) __builtin_trap();
  } else if (a.error().code.empty() || a.error().message.empty()) {
    __builtin_trap();
  }
  if (const auto e = Endpoint::Parse(text); e.ok()) {
    const auto f = Endpoint::Parse(e->ToString());
    if (!f.ok() || !(*f == *e) || f->ToString() != e->ToString()) __builtin_trap();
  } else if (e.error().code.empty() || e.error().message.empty()) {
    __builtin_trap();
  }
  return 0;
}
