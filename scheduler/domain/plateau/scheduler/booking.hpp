// Bookings, profiles, cascade plans, admission decisions: the scheduler's vocabulary.
//
// CONTRACT between scheduler/domain (which implements it) and scheduler/store + scheduler/app +
// the REST API (which use it). Extend freely; change existing names only together with every user.
//
// Time is `Instant`: seconds since the Unix epoch, UTC. The domain never reads a clock; callers
// pass "now" where it matters. Conversion to and from RFC 3339 with offsets lives in scheduler/app.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/scheduler/topology.hpp"

namespace plateau::scheduler {

using Instant = int64_t;   // Unix seconds, UTC
using BookingId = int64_t; // assigned by the store; 0 = not stored yet

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

// Kbit/s of one stream per direction for a venue taking part at this profile.
struct Profile {
  std::string id;
  std::string name;
  int video_kbps = 0;
  int audio_kbps = 0;
  double overhead = 1.0;
  std::string tier;  // media output tier ("8m", "2m")
  // ceil((video + audio) * overhead)
  int64_t stream_kbps() const;
};

enum class Priority { kRegional = 0, kProvincial = 1 };
enum class CascadeMode { kAuto, kOff };
enum class BookingState { kConfirmed, kBumped, kCancelled };

const char* ToString(Priority p);
const char* ToString(CascadeMode c);
const char* ToString(BookingState s);

struct Recurrence {
  enum class Frequency { kDaily, kWeekly };
  Frequency frequency = Frequency::kWeekly;
  int interval = 1;                   // every N days/weeks, >= 1
  int count = 0;                      // number of occurrences (0 = use `until`)
  Instant until = 0;                  // last occurrence starts at or before this (0 = use count)
  std::vector<Instant> cancelled;     // start instants of cancelled occurrences
};

// What an organiser asks for. Validated by ValidateRequest before anything else looks at it.
struct BookingRequest {
  std::string title;
  std::string organiser;
  std::string region;                 // the hub's site id (provincial) or a sub-centre id
  Instant start = 0;
  Instant end = 0;
  int64_t setup_seconds = 15 * kMinute;  // set-up buffer before start, counted for admission
  std::optional<Recurrence> recurrence;
  std::vector<std::string> venues;    // site ids (not the hub)
  std::string main_venue;
  std::string profile;                // profile id
  std::string layout = "auto";        // "auto", "1", "2", "1+5", "2x2", "1+7", "3x3", "4x4"
  Priority priority = Priority::kRegional;
  CascadeMode cascade = CascadeMode::kAuto;
  bool preempt = false;               // provincial only: may bump regional bookings
};

// One occurrence's busy interval: [start - setup, end).
struct Interval {
  Instant from = 0;
  Instant to = 0;
};

// Which MCU hosts a venue; `cascade_to` is the parent MCU when the host cascades upward.
struct VenueHost {
  std::string venue;
  std::string mcu;
};
struct CascadeLeg {
  std::string from_mcu;  // sub-centre MCU
  std::string to_mcu;    // hub MCU
  std::string link;      // the link the leg crosses
};
struct LinkLoad {
  std::string link;
  int64_t up_kbps = 0;    // child -> parent
  int64_t down_kbps = 0;  // parent -> child
};
struct McuLoad {
  std::string mcu;
  int ports = 0;
};
struct CascadePlan {
  std::string root_mcu;               // the MCU that hosts the conference (hub or a sub-centre)
  std::vector<VenueHost> hosts;       // one per venue
  std::vector<CascadeLeg> cascades;
  std::vector<LinkLoad> links;        // only links that carry something
  std::vector<McuLoad> mcus;          // only MCUs that are used
};

struct Booking {
  BookingId id = 0;
  std::string conference_number;      // dialable conference number, unique (assigned by the store)
  BookingRequest request;
  CascadePlan plan;
  BookingState state = BookingState::kConfirmed;
  std::string bumped_reason;          // set when state == kBumped
  BookingId bumped_by = 0;
};

// 400-class problem with a request, naming the field.
struct FieldError {
  std::string field;    // "venues[3]", "end", "main_venue", "region", ...
  std::string code;     // "unknown_venue", "end_before_start", "empty_venues", "main_not_in_venues",
                        // "outside_region", "unknown_profile", "bad_recurrence", ...
  std::string message;
};

// 409-class reasons.
struct Violation {
  std::string code;            // "venue_busy" | "link_capacity" | "mcu_capacity"
  std::string message;         // readable, e.g. "link hub-haidong up needs 8442 kbit/s at ..."
  std::string venue;           // venue_busy
  BookingId other_booking = 0; // venue_busy
  std::string other_title;     // venue_busy
  std::string link;            // link_capacity
  std::string direction;       // link_capacity: "up" | "down"
  std::string mcu;             // mcu_capacity
  Instant at = 0;              // first instant where the constraint is violated
  int64_t needed = 0;          // kbit/s or ports needed at `at` (this booking + others)
  int64_t available = 0;       // usable kbit/s or ports
};

struct Alternative {
  std::string kind;            // "profile" | "cascade" | "start"
  std::string message;
  std::string profile;         // kind == "profile"
  CascadeMode cascade = CascadeMode::kAuto;  // kind == "cascade"
  Instant start = 0;           // kind == "start": earliest start (within 7 days) that fits
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
  std::vector<Bump> bumped;    // regional bookings a provincial preempting request displaces
};

// Either admitted or refused.
struct AdmissionDecision {
  std::optional<Admission> admitted;
  std::optional<Refusal> refused;
};

}  // namespace plateau::scheduler
