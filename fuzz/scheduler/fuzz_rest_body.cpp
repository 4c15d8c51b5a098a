// REST bodies as the listener hands them to PATCH /api/v1/bookings/{id} (and POST): every body goes
// through the merge patch over a real booking, and must come out as a request or a 400 naming the
// body, never a crash. Hostile bodies that matter here are large and regular (60,000 nested
// brackets in 120 KB), which mutations rarely build within -max_len, so an input of the form
// "*COUNT|PREFIX|OPEN|CLOSE|SUFFIX" is expanded to PREFIX, OPEN x COUNT, CLOSE x COUNT, SUFFIX (at
// most 1 MiB, the listener's body limit).
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "plateau/common/json_input.hpp"
#include "plateau/scheduler/app/booking_json.hpp"
#include "sample_booking.hpp"

namespace {

std::string Expand(std::string_view in) {
  if (in.empty() || in.front() != '*') return std::string(in);
  std::string_view parts[5];
  std::string_view rest = in.substr(1);
  for (int i = 0; i < 4; ++i) {
    const size_t bar = rest.find('|');
    if (bar == std::string_view::npos) return std::string(in);
    parts[i] = rest.substr(0, bar);
    rest.remove_prefix(bar + 1);
  }
  parts[4] = rest;
  size_t count = 0;
  auto [p, ec] = std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), count);
  if (ec != std::errc()) return std::string(in);
  constexpr size_t kMaxBody = 1024 * 1024;
  const size_t unit = parts[2].size() + parts[3].size();
  if (unit > 0) count = std::min(count, kMaxBody / unit);
  std::string out(parts[1]);
  for (size_t i = 0; i < count; ++i) out += parts[2];
  for (size_t i = 0; i < count; ++i) out += parts[3];
  out += parts[4];
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body = Expand(std::string_view(reinterpret_cast<const char*>(data), size));
  using plateau::scheduler::app::kMaxBodyDepth;
  const bool hostile =
      !plateau::JsonWithinDepth(body, kMaxBodyDepth) || body.find('\0') != std::string::npos;

  plateau::scheduler::BookingRequest current = plateau::fuzz::SampleBooking();
  current.recurrence = plateau::scheduler::Recurrence{
      plateau::scheduler::Recurrence::Frequency::kWeekly, 1, 3, 0, {}};

  auto patched = plateau::scheduler::app::ApplyBookingPatch(current, body, {});
  if (hostile && (patched.ok() || patched.error().fields.empty() ||
                  patched.error().fields.front().field != "body"))
    __builtin_trap();  // refused before parsing, naming the body
  if (!patched.ok() && patched.error().fields.empty()) __builtin_trap();

  auto created = plateau::scheduler::app::ParseBookingRequest(body, {});
  if (hostile && created.ok()) __builtin_trap();
  return 0;
}
