// Profiles, recurrence expansion and the small vocabulary functions of booking.hpp.
#include "plateau/scheduler/booking.hpp"

#include <algorithm>
#include <cmath>

#include "internal.hpp"
#include "plateau/common/civil_time.hpp"

namespace plateau::scheduler {

int64_t Profile::stream_kbps() const {
  // Rounded up; the small epsilon keeps exact products (1000 * 1.05 = 1050.0000000000002 in
  // binary floating point) from rounding up one kbit/s too far.
  const double raw = (static_cast<double>(video_kbps) + audio_kbps) * overhead;
  return static_cast<int64_t>(std::ceil(raw - 1e-6));
}

int64_t Profile::media_kbps(const Packetization& p) const {
  const double video_frame_bytes = video_kbps * 1000.0 / 8 / p.fps;
  const double video_packets_per_frame =
      std::ceil(video_frame_bytes / (p.video_mtu - p.rtp_header_bytes) - 1e-9);
  const double audio_packets = 1000.0 / p.audio_frame_ms;
  const double packets_per_second = video_packets_per_frame * p.fps + audio_packets;
  const double headers_kbps = packets_per_second * p.packet_overhead_bytes * 8 / 1000;
  return static_cast<int64_t>(std::ceil(video_kbps + audio_kbps + headers_kbps - 1e-6));
}

const char* ToString(Priority p) {
  return p == Priority::kProvincial ? "provincial" : "regional";
}

const char* ToString(CascadeMode c) {
  return c == CascadeMode::kOff ? "off" : "auto";
}

const char* ToString(BookingState s) {
  switch (s) {
    case BookingState::kConfirmed:
      return "confirmed";
    case BookingState::kBumped:
      return "bumped";
    case BookingState::kCancelled:
      return "cancelled";
  }
  return "confirmed";
}

std::string FormatUtc(Instant t) {
  return civil::FormatRfc3339(t, 0);
}

namespace detail {

namespace {
constexpr int kMaxOccurrences = 366;

// Number of occurrences before cancellations (1 without recurrence).
int64_t OccurrenceCount(const BookingRequest& req, int64_t period) {
  if (period <= 0) return 1;
  const Recurrence& r = *req.recurrence;
  int64_t n = 0;
  if (r.count > 0) {
    n = r.count;
  } else if (r.until >= req.start) {
    n = (r.until - req.start) / period + 1;
  } else {
    n = 1;
  }
  return std::clamp<int64_t>(n, 1, kMaxOccurrences);
}
}  // namespace

int64_t RecurrencePeriod(const BookingRequest& req) {
  if (!req.recurrence) return 0;
  const Recurrence& r = *req.recurrence;
  if (r.interval < 1) return 0;
  const int64_t unit = r.frequency == Recurrence::Frequency::kDaily ? kDay : 7 * kDay;
  return unit * r.interval;
}

Interval OccurrenceEnvelope(const BookingRequest& req) {
  if (!req.recurrence)
    return Interval{req.start - std::max<int64_t>(req.setup_seconds, 0), req.end};
  const int64_t period = RecurrencePeriod(req);
  const int64_t n = OccurrenceCount(req, period);
  const int64_t setup = std::max<int64_t>(req.setup_seconds, 0);
  return Interval{req.start - setup, req.end + (n - 1) * period};
}

std::vector<Interval> OccurrencesWithin(const BookingRequest& req, Instant from, Instant to) {
  std::vector<Interval> out;
  const int64_t period = RecurrencePeriod(req);
  const int64_t n = OccurrenceCount(req, period);
  const int64_t setup = std::max<int64_t>(req.setup_seconds, 0);
  const std::vector<Instant>* cancelled =
      req.recurrence && !req.recurrence->cancelled.empty() ? &req.recurrence->cancelled : nullptr;
  int64_t k = 0;
  if (period > 0 && from > req.end) k = std::min<int64_t>((from - req.end) / period, n);
  for (; k < n; ++k) {
    const Instant start = req.start + k * period;
    const Interval busy{start - setup, req.end + k * period};
    if (busy.from >= to) break;
    if (busy.to <= from) continue;
    if (cancelled && std::find(cancelled->begin(), cancelled->end(), start) != cancelled->end())
      continue;
    out.push_back(busy);
  }
  return out;
}

}  // namespace detail

std::vector<Interval> Occurrences(const BookingRequest& req) {
  return detail::OccurrencesWithin(req, detail::kMinInstant, detail::kMaxInstant);
}

}  // namespace plateau::scheduler
