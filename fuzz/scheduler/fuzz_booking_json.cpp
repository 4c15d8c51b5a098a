// The REST API's booking body (POST /bookings, PATCH /bookings/{id}): any bytes must give a
// BookingRequest or a field-named error, never a crash, and what is accepted must survive being
// written back and read again unchanged.
#include <cstdint>
#include <string_view>

#include "plateau/scheduler/app/booking_json.hpp"
#include "sample_booking.hpp"

namespace {

using plateau::scheduler::BookingRequest;
using plateau::scheduler::app::BookingRequestFromJson;
using plateau::scheduler::app::BookingRequestToJson;

void CheckRoundTrip(const BookingRequest& q) {
  for (int offset : {480, 0, -330}) {
    auto again = BookingRequestFromJson(BookingRequestToJson(q, offset), {});
    if (!again.ok()) __builtin_trap();
    if (BookingRequestToJson(*again, 480) != BookingRequestToJson(q, 480)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto created = plateau::scheduler::app::ParseBookingRequest(body, {});
  if (created.ok()) {
    CheckRoundTrip(*created);
  } else if (created.error().fields.empty()) {
    __builtin_trap();  // every refusal names a field
  }

  BookingRequest current = plateau::fuzz::SampleBooking();
  auto patched = plateau::scheduler::app::ApplyBookingPatch(current, body, {});
  if (patched.ok()) CheckRoundTrip(*patched);
  return 0;
}
