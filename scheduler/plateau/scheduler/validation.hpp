// Field-level validation of a booking request: 400-class problems, each naming the field.
#pragma once

#include <string>
#include <vector>

#include "plateau/scheduler/booking.hpp"
#include "plateau/scheduler/network.hpp"

namespace plateau::scheduler {

// 400-class problem with a request, naming the field.
struct FieldError {
  std::string field;  // "venues[3]", "end", "main_venue", "region", ...
  std::string code;   // "unknown_venue", "end_before_start", "empty_venues", "main_not_in_venues",
                      // "outside_region", "unknown_profile", "bad_recurrence", ...
  std::string message;
};

// Field-level checks: venues known and not the hub, no duplicates, non-empty, main venue listed,
// end after start, setup >= 0, profile known, layout known, recurrence sane (interval >= 1, count
// or until, at most 366 occurrences), region is the hub or a sub-centre, and a sub-centre's
// booking stays inside its own subtree; preempt only with provincial priority.
std::vector<FieldError> ValidateRequest(const Network& net, const BookingRequest& req);

}  // namespace plateau::scheduler
