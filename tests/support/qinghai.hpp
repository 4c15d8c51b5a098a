// The real Qinghai network (configs/qinghai.toml) for tests of any layer: one loader instead of a
// copy per suite. Header-only; users link plateau_config.
#pragma once

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>

#include "plateau/scheduler/config/config.hpp"
#include "plateau/scheduler/network.hpp"

namespace plateau::testing {

inline std::string QinghaiPath() {
  const char* root = std::getenv("PLATEAU_SOURCE_ROOT");
  return std::string(root ? root : ".") + "/configs/qinghai.toml";
}

// The network; `tweak` may edit the loaded config first (e.g. fewer MCU ports). Throws on a
// broken config, which fails the test that asked.
inline scheduler::Network LoadQinghai(
    const std::function<void(scheduler::config::Config&)>& tweak = {}) {
  auto c = scheduler::config::LoadFile(QinghaiPath());
  if (!c.ok()) throw std::runtime_error(c.error().message);
  if (tweak) tweak(*c);
  auto n = scheduler::config::BuildNetwork(*c);
  if (!n.ok()) throw std::runtime_error(n.error().message);
  return std::move(n.value());
}

}  // namespace plateau::testing
