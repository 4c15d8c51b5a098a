// The topology's JSON view, shared by `plateau topology --json` and GET /api/v1/topology.
#pragma once

#include <nlohmann/json.hpp>

#include "plateau/scheduler/topology.hpp"

namespace plateau::scheduler::app {

// {"name", "sites":[{"id","name","kind","parent","number"...}], "links":[...], "mcus":[...]}
nlohmann::json TopologyToJson(const Topology& topology);

// A readable tree, one site a line, with link capacities and MCU ports.
std::string TopologyToText(const Topology& topology);

}  // namespace plateau::scheduler::app
