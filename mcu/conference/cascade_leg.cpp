#include "plateau/mcu/conference/cascade_leg.hpp"

#include "plateau/common/log.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"

namespace plateau::mcu::conference {

Result<CascadeLegInfo> ConnectCascadeLeg(Conference& parent, Conference& child,
                                         const CascadeLegSpec& spec) {
  const transport::SrtpKey up = transport::GenerateSrtpKey();    // child -> parent
  const transport::SrtpKey down = transport::GenerateSrtpKey();  // parent -> child

  SdesEndpoint at_parent;
  at_parent.bind_address = spec.bind_address;
  at_parent.send_key = down;
  at_parent.receive_key = up;  // the remote is latched from the child's first packet
  auto parent_side =
      parent.AddVenue(VenueSpec{spec.child.id, spec.child.name, spec.tier, false}, at_parent);
  if (!parent_side) return parent_side.error();
  if (!parent_side->local) {
    (void)parent.RemoveVenue(spec.child.id);
    return Error{"bind_failed", "the parent end of the cascade leg has no local address"};
  }

  SdesEndpoint at_child;
  at_child.bind_address = spec.bind_address;
  at_child.remote = *parent_side->local;
  at_child.send_key = up;
  at_child.receive_key = down;
  VenueSpec uplink{spec.parent.id, spec.parent.name, spec.tier, false};
  uplink.uplink = true;
  auto child_side = child.AddVenue(uplink, at_child);
  if (!child_side || !child_side->local) {
    (void)parent.RemoveVenue(spec.child.id);
    if (child_side) (void)child.RemoveVenue(spec.parent.id);
    return child_side ? Error{"bind_failed", "the child end of the cascade leg has no address"}
                      : child_side.error();
  }
  log::Info("cascade.leg_connected", {{"child", spec.child.id},
                                      {"parent", spec.parent.id},
                                      {"tier", spec.tier},
                                      {"parent_local", parent_side->local->ToString()},
                                      {"child_local", child_side->local->ToString()}});
  return CascadeLegInfo{*parent_side->local, *child_side->local};
}

void DisconnectCascadeLeg(Conference& parent, Conference& child, const CascadeLegSpec& spec) {
  (void)child.RemoveVenue(spec.parent.id);
  (void)parent.RemoveVenue(spec.child.id);
  log::Info("cascade.leg_disconnected", {{"child", spec.child.id}, {"parent", spec.parent.id}});
}

}  // namespace plateau::mcu::conference
