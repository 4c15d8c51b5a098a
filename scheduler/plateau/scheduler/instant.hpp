// Time in the domain: `Instant`, seconds since the Unix epoch, UTC. The domain never reads a
// clock; callers pass "now" where it matters. Conversion to and from RFC 3339 with offsets lives
// in scheduler/app.
#pragma once

#include <cstdint>
#include <string>

namespace plateau::scheduler {

using Instant = int64_t;    // Unix seconds, UTC
using BookingId = int64_t;  // assigned by the store; 0 = not stored yet

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

// "2024-05-01T02:00:00Z": how decisions write instants into messages (the API adds offsets).
std::string FormatUtc(Instant t);

}  // namespace plateau::scheduler
