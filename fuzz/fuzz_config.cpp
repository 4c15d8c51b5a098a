// The TOML network config: any bytes must give either a valid Config or an error, never a crash.
#include <cstdint>
#include <string_view>

#include "plateau/scheduler/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = plateau::scheduler::config::LoadString(text, "fuzz.toml");
  if (c.ok()) {
    auto t = plateau::scheduler::config::BuildTopology(*c);
    if (!t.ok()) __builtin_trap();  // LoadString validated it: Build must agree
  }
  return 0;
}
