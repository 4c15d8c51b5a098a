// The scheduler's REST API under /api/v1 (docs/api/openapi.yaml): topology, bookings, links and
// their timelines, availability, events, a venue's calendar. Handlers only translate HTTP to
// BookingService calls and back; every decision lives in scheduler/app and the domain (scheduler/).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "plateau/common/link_load.hpp"
#include "plateau/listener/http.hpp"

namespace plateau::scheduler::app {
class BookingService;
}

namespace plateau::scheduler::rest {

// Link id -> its load now (links without media may be absent).
using LinkMeasures = std::function<std::map<std::string, LinkLoadNow>()>;

// Adds the /api/v1 routes to `router`. `service` must outlive every dispatch. With `measures`,
// GET /api/v1/links adds each link's measured and reserved kbit/s ("now").
void RegisterBookingsApi(listener::Router& router, app::BookingService& service,
                         LinkMeasures measures = {});

}  // namespace plateau::scheduler::rest
