// The JSON views of bookings, plans, refusals and events: the REST API's hand-written schema
// (docs/api/openapi.yaml). Parsing is an edge: any bytes in, a BookingRequest or a field-named
// error out; it never throws.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "plateau/scheduler/admission.hpp"
#include "plateau/scheduler/app/service_error.hpp"
#include "plateau/scheduler/booking.hpp"
#include "plateau/scheduler/store/booking_store.hpp"
#include "plateau/scheduler/validation.hpp"

namespace plateau::scheduler::app {

struct BookingJsonOptions {
  int utc_offset_minutes = 480;  // how times are written (any offset is read)
  std::string hub = "hub";       // region whose bookings default to provincial priority
};

// Nesting a booking body may have: the deepest valid one is 3 (body > recurrence > cancelled).
inline constexpr size_t kMaxBodyDepth = 8;

// The body must be a JSON object nested at most kMaxBodyDepth levels (checked before parsing), with
// nothing after it. Errors name the field "body" (malformed_json, too_deep, not_an_object).
Outcome<nlohmann::json> ParseJsonObject(std::string_view body);

// A booking request from a JSON object: required title, region, start, end, venues, main_venue,
// profile; optional organiser, setup_minutes, recurrence, layout, priority, cascade, preempt.
// Unknown fields, wrong types and unreadable times are errors naming the field ("start",
// "venues[2]", "recurrence.count"). Only the shape is checked here; ValidateRequest checks
// meaning (known venues, end after start, ...).
Outcome<BookingRequest> BookingRequestFromJson(const nlohmann::json& object,
                                               const BookingJsonOptions& options);
Outcome<BookingRequest> ParseBookingRequest(std::string_view body,
                                            const BookingJsonOptions& options);

// The editable fields of a request, in the same shape BookingRequestFromJson reads (preempt
// left out: it is an action of one request, not a lasting property).
nlohmann::json BookingRequestToJson(const BookingRequest& request, int utc_offset_minutes);

// PATCH: an RFC 7396 merge patch over the current request, re-read as a whole. Read-only fields
// (id, state, plan, ...) are refused with code "read_only".
Outcome<BookingRequest> ApplyBookingPatch(const BookingRequest& current, std::string_view body,
                                          const BookingJsonOptions& options);

nlohmann::json PlanToJson(const CascadePlan& plan);
// `occurrences` (optional) lists the busy intervals; each is written as the meeting's own
// start and end (without the set-up buffer).
nlohmann::json BookingToJson(const store::BookingRecord& record, int utc_offset_minutes,
                             const std::vector<Interval>* occurrences = nullptr);
nlohmann::json ViolationToJson(const Violation& v, int utc_offset_minutes);
nlohmann::json AlternativeToJson(const Alternative& a, int64_t duration, int utc_offset_minutes);
nlohmann::json EventToJson(const store::Event& e, int utc_offset_minutes);

// {"error":{"code","message", "field" (+ "fields") | "violations","alternatives"}}.
// `duration` is the refused meeting's length, to show alternative start slots with their end.
nlohmann::json ErrorToJson(const ServiceError& error, int utc_offset_minutes, int64_t duration = 0);

}  // namespace plateau::scheduler::app
