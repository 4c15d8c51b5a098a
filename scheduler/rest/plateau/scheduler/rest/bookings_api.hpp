// The scheduler's REST API under /api/v1 (docs/api/openapi.yaml): topology, bookings, links and
// their timelines, availability, events, a venue's calendar. Handlers only translate HTTP to
// BookingService calls and back; every decision lives in scheduler/app and the domain (scheduler/).
#pragma once

#include "plateau/listener/http.hpp"

namespace plateau::scheduler::app {
class BookingService;
}

namespace plateau::scheduler::rest {

// Adds the /api/v1 routes to `router`. `service` must outlive every dispatch.
void RegisterBookingsApi(listener::Router& router, app::BookingService& service);

}  // namespace plateau::scheduler::rest
