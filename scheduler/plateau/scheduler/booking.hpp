// Bookings: what an organiser asks for (BookingRequest, Recurrence), the stored Booking with its
// plan and state, and the occurrences a request expands to.
//
// CONTRACT between the domain (scheduler/, which implements it) and scheduler/store +
// scheduler/app + the REST API (which use it). Extend freely; change existing names only
// together with every user.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plateau/scheduler/cascade_plan.hpp"
#include "plateau/scheduler/instant.hpp"

namespace plateau::scheduler {

enum class Priority { kRegional = 0, kProvincial = 1 };
enum class CascadeMode { kAuto, kOff };
enum class BookingState { kConfirmed, kBumped, kCancelled };

const char* ToString(Priority p);
const char* ToString(CascadeMode c);
const char* ToString(BookingState s);

struct Recurrence {
  enum class Frequency { kDaily, kWeekly };
  Frequency frequency = Frequency::kWeekly;
  int interval = 1;                // every N days/weeks, >= 1
  int count = 0;                   // number of occurrences (0 = use `until`)
  Instant until = 0;               // last occurrence starts at or before this (0 = use count)
  std::vector<Instant> cancelled;  // start instants of cancelled occurrences
};

// What an organiser asks for. Validated by ValidateRequest before anything else looks at it.
struct BookingRequest {
  std::string title;
  std::string organiser;
  std::string region;  // the hub's site id (provincial) or a sub-centre id
  Instant start = 0;
  Instant end = 0;
  int64_t setup_seconds = 15 * kMinute;  // set-up buffer before start, counted for admission
  std::optional<Recurrence> recurrence;
  std::vector<std::string> venues;  // site ids (not the hub)
  std::string main_venue;
  std::string profile;          // profile id
  std::string layout = "auto";  // "auto", "1", "2", "1+5", "2x2", "1+7", "3x3", "4x4"
  Priority priority = Priority::kRegional;
  CascadeMode cascade = CascadeMode::kAuto;
  bool preempt = false;  // provincial only: may bump regional bookings
};

// One occurrence's busy interval: [start - setup, end).
struct Interval {
  Instant from = 0;
  Instant to = 0;
};

struct Booking {
  BookingId id = 0;
  std::string conference_number;  // dialable conference number, unique (assigned by the store)
  BookingRequest request;
  CascadePlan plan;
  BookingState state = BookingState::kConfirmed;
  std::string bumped_reason;  // set when state == kBumped
  BookingId bumped_by = 0;
};

// Busy intervals of every (non-cancelled) occurrence: [start - setup, end), recurrence expanded.
std::vector<Interval> Occurrences(const BookingRequest& req);

}  // namespace plateau::scheduler
