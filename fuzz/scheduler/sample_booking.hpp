// The stored booking the scheduler fuzz targets merge their PATCH bodies over.
#pragma once

#include "plateau/scheduler/app/booking_json.hpp"

namespace plateau::fuzz {

inline scheduler::BookingRequest SampleBooking() {
  scheduler::BookingRequest b;
  b.title = "全省经济工作会议";
  b.organiser = "省政府办公厅";
  b.region = "hub";
  b.start = 1898816400;
  b.end = b.start + 7200;
  b.venues = {"hall-1", "minhe"};
  b.main_venue = "hall-1";
  b.profile = "hd-2m";
  return b;
}

}  // namespace plateau::fuzz
