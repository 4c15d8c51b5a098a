// Admission: whether a booking fits the network alongside the others, with its plan, or why not
// (every violated constraint) and what would fit instead. CONTRACT: pure functions of their
// inputs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plateau/scheduler/agenda.hpp"
#include "plateau/scheduler/booking.hpp"
#include "plateau/scheduler/network.hpp"

namespace plateau::scheduler {

// 409-class reasons.
struct Violation {
  std::string code;             // "venue_busy" | "link_capacity" | "mcu_capacity"
  std::string message;          // readable, e.g. "link hub-haidong up needs 8442 kbit/s at ..."
  std::string venue;            // venue_busy
  BookingId other_booking = 0;  // venue_busy
  std::string other_title;      // venue_busy
  std::string link;             // link_capacity
  std::string direction;        // link_capacity: "up" | "down"
  std::string mcu;              // mcu_capacity
  Instant at = 0;               // first instant where the constraint is violated
  int64_t needed = 0;           // kbit/s or ports needed at `at` (this booking + others)
  int64_t available = 0;        // usable kbit/s or ports
};

struct Alternative {
  std::string kind;  // "profile" | "cascade" | "start"
  std::string message;
  std::string profile;                       // kind == "profile"
  CascadeMode cascade = CascadeMode::kAuto;  // kind == "cascade"
  Instant start = 0;  // kind == "start": earliest start (within 7 days) that fits
};

struct Refusal {
  std::vector<Violation> violations;
  std::vector<Alternative> alternatives;
};

struct Bump {
  BookingId booking = 0;
  std::string reason;
};

struct Admission {
  CascadePlan plan;
  std::vector<Bump> bumped;  // regional bookings a provincial preempting request displaces
};

// Either admitted or refused.
struct AdmissionDecision {
  std::optional<Admission> admitted;
  std::optional<Refusal> refused;
};

// Which MCU hosts each venue and what each link and MCU carries (see the cascade rules).
// Precondition: ValidateRequest returned no errors.
CascadePlan PlanCascade(const Network& net, const BookingRequest& req);

// Admission against `existing` (all states; only kConfirmed ones count). `replacing` is the id of
// the booking being edited (ignored in `existing`), 0 for a new one. Checks every instant where
// bookings overlap (sweep over interval end points). On refusal, names every violated constraint
// and proposes alternatives: a cheaper profile or cascade on, and the earliest start within
// 7 days at which the same meeting fits.
AdmissionDecision Admit(const Network& net, const BookingRequest& req,
                        const std::vector<Booking>& existing, BookingId replacing = 0);
// The same decision against an Agenda (built from the same bookings) without rescanning them.
AdmissionDecision Admit(const Network& net, const BookingRequest& req, const Agenda& agenda,
                        BookingId replacing = 0);

}  // namespace plateau::scheduler
