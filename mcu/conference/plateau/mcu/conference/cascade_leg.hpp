// A cascade leg: a child conference (a sub-centre MCU) joined to its parent (the hub MCU) by one
// SRTP stream each way over UDP, as the scheduler's plan reserves it (docs/cascade.md).
//
//   parent (hub)                                   child (sub-centre)
//   venue `child.id` (an ordinary venue: a tile)   venue `parent.id` (VenueSpec::uplink)
//     receives the parent's tier + its mix  ────>    forwarded to every local venue; mixed
//     minus the child (the province picture)         into the local mixes
//     sends the child's speaker + local mix  <────   the child's picture (layout "1") and its
//                                                    mix minus the parent
//
// Both ends are SDES venue transports with fresh keys (SRTP AES-CM-128/HMAC-SHA1-80 both ways);
// the child sends to the parent's port from the start, and the parent latches the child's address
// from its first authenticated packet. Across hosts the same two calls run on two nodes, with the
// ports and keys exchanged over the nodes' authenticated TLS channel.
#pragma once

#include <string>

#include "plateau/common/result.hpp"
#include "plateau/mcu/conference/conference.hpp"
#include "plateau/mcu/transport/address.hpp"

namespace plateau::mcu::conference {

struct CascadeEnd {
  std::string id;    // the venue id the other end sees: the MCU id ("mcu-haidong", "mcu-hub")
  std::string name;  // its caption ("海东市")
};

struct CascadeLegSpec {
  CascadeEnd child;   // as the parent sees it
  CascadeEnd parent;  // as the child sees it
  // The tier each end sends the other (the booking's profile); empty = each conference's first.
  std::string tier;
  std::string bind_address = "127.0.0.1";  // both ends' UDP sockets (one process)
};

struct CascadeLegInfo {
  transport::Endpoint parent_local;  // where the child sends
  transport::Endpoint child_local;   // where the parent sends (after the latch)
};

// Adds the leg's venue to both conferences. On an error nothing is left behind. Errors: the
// conferences' ("duplicate_venue", "duplicate_uplink", "unknown_tier", "bind_failed", ...).
Result<CascadeLegInfo> ConnectCascadeLeg(Conference& parent, Conference& child,
                                         const CascadeLegSpec& spec);

// Removes the leg's venue from both conferences (what is not there is ignored).
void DisconnectCascadeLeg(Conference& parent, Conference& child, const CascadeLegSpec& spec);

}  // namespace plateau::mcu::conference
