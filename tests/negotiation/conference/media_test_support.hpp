// Shared pieces of the signaling media tests: a MediaEvents that records what the negotiator
// pushes (in place of the Switchboard), and Offer() with a deadline.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "plateau/negotiation/conference/conference_media.hpp"

namespace plateau::signaling::testing {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct PublishedLayout {
  int64_t booking = 0;
  std::string layout;
  std::vector<protocol::Tile> tiles;
};

class RecordingEvents final : public MediaEvents {
 public:
  void SendOffer(const MediaSeat&, std::string sdp) override {
    std::lock_guard lock(mu_);
    offers_.push_back(std::move(sdp));
    cv_.notify_all();
  }
  void SendCandidate(const MediaSeat& seat,
                     std::optional<protocol::IceCandidate> candidate) override {
    std::lock_guard lock(mu_);
    candidates_.emplace_back(seat.venue, std::move(candidate));
    cv_.notify_all();
  }
  void PublishLayout(int64_t booking, const std::string& layout,
                     std::vector<protocol::Tile> tiles) override {
    std::lock_guard lock(mu_);
    layouts_.push_back({booking, layout, std::move(tiles)});
    cv_.notify_all();
  }
  void PublishSpeaker(int64_t booking, const std::string& venue) override {
    std::lock_guard lock(mu_);
    speakers_.emplace_back(booking, venue);
    cv_.notify_all();
  }
  void PublishMuted(int64_t booking, const std::string& venue, bool muted) override {
    std::lock_guard lock(mu_);
    muted_.push_back({booking, venue, muted});
    cv_.notify_all();
  }

  // The latest layout whose tiles satisfy `pred`, waiting up to the deadline.
  std::optional<PublishedLayout> WaitForLayout(
      const std::function<bool(const PublishedLayout&)>& pred, Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    std::optional<PublishedLayout> found;
    cv_.wait_until(lock, deadline, [&] {
      if (!layouts_.empty() && pred(layouts_.back())) found = layouts_.back();
      return found.has_value();
    });
    return found;
  }
  std::optional<PublishedLayout> LatestLayout() {
    std::lock_guard lock(mu_);
    if (layouts_.empty()) return std::nullopt;
    return layouts_.back();
  }
  std::vector<std::pair<std::string, std::optional<protocol::IceCandidate>>> Candidates() {
    std::lock_guard lock(mu_);
    return candidates_;
  }
  struct MutedEvent {
    int64_t booking;
    std::string venue;
    bool muted;
  };
  std::vector<MutedEvent> Muted() {
    std::lock_guard lock(mu_);
    return muted_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> offers_;
  std::vector<std::pair<std::string, std::optional<protocol::IceCandidate>>> candidates_;
  std::vector<PublishedLayout> layouts_;
  std::vector<std::pair<int64_t, std::string>> speakers_;
  std::vector<MutedEvent> muted_;
};

// Sends an offer the way the Switchboard does and waits for the one answer.
inline Result<std::string> OfferAndWait(MediaNegotiator& media, const MediaSeat& seat,
                                        std::string sdp, Clock::duration timeout = 20s) {
  auto promise = std::make_shared<std::promise<Result<std::string>>>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto future = promise->get_future();
  media.Offer(seat, std::move(sdp), [promise, calls](Result<std::string> answer) {
    if (calls->fetch_add(1) == 0)
      promise->set_value(std::move(answer));
    else
      ADD_FAILURE() << "the answer callback was called twice";
  });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Error{"timeout", "no answer in time"};
  }
  return future.get();
}

// The Qinghai profiles' ids and audio rates with small pictures and video rates: the suite runs on
// 2 shared cores.
inline std::vector<plateau::negotiation::conference::MediaProfile> SmallProfiles() {
  return {{"hd-8m", 320, 180, 500, 64}, {"hd-2m", 160, 90, 200, 48}, {"sd-1m", 160, 90, 150, 32}};
}

inline Meeting TestMeeting(int64_t booking, std::string profile = "hd-8m") {
  Meeting m;
  m.booking = booking;
  m.conference = "8" + std::to_string(booking);
  m.title = "test";
  m.venues = {"datong", "huangzhong"};
  m.main_venue = "datong";
  m.layout = "auto";
  m.profile = std::move(profile);
  return m;
}

inline MediaSeat SeatFor(const Meeting& m, std::string venue, std::string name, int seat,
                         uint64_t epoch) {
  // The in-process terminals signal (as far as the Switchboard would see) from 127.0.0.1 and offer
  // that address: their media is sent at once, as for a real terminal on loopback.
  return MediaSeat{m.booking, m.conference, std::move(venue), std::move(name), m.profile,
                   seat,      epoch,        "127.0.0.1"};
}

}  // namespace plateau::signaling::testing
