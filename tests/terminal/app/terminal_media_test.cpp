// Reference terminals through the CLI, end to end: the real `plateau serve` (scheduler + signaling
// + MCU), meetings booked through the REST API, `plateau terminal` processes sending their own
// colour and tone over SRTP and decoding the mix with avdec_h264. Checked by content: each tile
// holds the right venue's colour, the audio holds the others' tones and not one's own (mix-minus).
// Suite `media`.
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "fixture.hpp"
#include "support/terminal_report.hpp"
#include "support/wait.hpp"
#include "tcp_proxy.hpp"

namespace plateau::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr double kHeard = -30.0;   // a mixed tone arrives around -14 dBov
constexpr double kSilent = -45.0;  // one's own tone, removed by mix-minus: below -50
constexpr int kColourTolerance = 40;

struct Venue {
  std::string id;
  Rgb colour;
  std::string colour_text;
  double tone;  // 0 = silence
};

// Decodes a Matroska recording with H.264 and Opus; returns {video frames, audio buffers}.
std::pair<int, int> DecodeRecording(const std::string& path) {
  gst_init(nullptr, nullptr);
  GError* error = nullptr;
  const std::string desc = "filesrc location=\"" + path +
                           "\" ! matroskademux name=d "
                           "d.video_0 ! queue ! h264parse ! avdec_h264 ! appsink name=v sync=false "
                           "d.audio_0 ! queue ! opusparse ! opusdec ! appsink name=a sync=false";
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &error);
  if (!pipeline) {
    ADD_FAILURE() << (error ? error->message : "gst_parse_launch failed");
    if (error) g_error_free(error);
    return {0, 0};
  }
  GstElement* v = gst_bin_get_by_name(GST_BIN(pipeline), "v");
  GstElement* a = gst_bin_get_by_name(GST_BIN(pipeline), "a");
  std::atomic<int> frames{0}, audio{0};
  GstAppSinkCallbacks vcb{};
  vcb.new_sample = [](GstAppSink* sink, gpointer n) {
    GstSample* s = gst_app_sink_pull_sample(sink);
    if (s) gst_sample_unref(s);
    ++*static_cast<std::atomic<int>*>(n);
    return GST_FLOW_OK;
  };
  gst_app_sink_set_callbacks(GST_APP_SINK(v), &vcb, &frames, nullptr);
  gst_app_sink_set_callbacks(GST_APP_SINK(a), &vcb, &audio, nullptr);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    ADD_FAILURE() << "decoding the recording: " << (e ? e->message : "?");
    if (e) g_error_free(e);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(v);
  gst_object_unref(a);
  gst_object_unref(pipeline);
  return {frames.load(), audio.load()};
}

class TerminalMedia : public ServerFixture {};

TEST_F(TerminalMedia, TerminalsJoinABookedMeetingAndSeeAndHearEachOther) {
  StartServer();
  const std::vector<Venue> venues = {{"datong", {255, 0, 0}, "#ff0000", 440},
                                     {"huangzhong", {0, 255, 0}, "#00ff00", 660},
                                     {"huangyuan", {0, 0, 255}, "#0000ff", 880},
                                     {"minhe", {255, 255, 0}, "#ffff00", 0}};
  std::vector<std::string> ids;
  for (const auto& v : venues) ids.push_back(v.id);
  // Every venue on the hub's MCU (cascade off): this test is about terminals seeing every other
  // venue in one continuous-presence picture. With cascade auto Xining's three counties would be
  // hosted by Xining's MCU and only its speaker would reach the hub (docs/cascade.md).
  json booking = Book(ids, 60, 3600, 15, "off");
  const std::string number = booking["conference_number"];
  ASSERT_EQ(number.size(), 8u) << booking.dump();

  // The observer joins by number; the others answer the server's invite (dial-out) and stay on.
  const std::string observer_stats = Dir() + "/datong.json";
  const std::string record = Dir() + "/record";
  auto args = TerminalArgs("datong");
  for (const std::string& a :
       {std::string("--conference"), number, std::string("--color"), venues[0].colour_text,
        std::string("--tone"), std::string("440"), std::string("--probe-hz"),
        std::string("440,660,880"), std::string("--seconds"), std::string("30"),
        std::string("--stats-json"), observer_stats, std::string("--stats-interval"),
        std::string("0.5"), std::string("--record"), record, std::string("--sample"),
        std::string("160,90")})
    args.push_back(a);
  TerminalProcess observer(Dir(), "datong", args);
  std::vector<std::unique_ptr<TerminalProcess>> others;
  for (size_t i = 1; i < venues.size(); ++i) {
    auto a = TerminalArgs(venues[i].id);
    for (const std::string& x :
         {std::string("--color"), venues[i].colour_text, std::string("--tone"),
          std::to_string(static_cast<int>(venues[i].tone)), std::string("--seconds"),
          std::string("120"), std::string("--stats-json"), Dir() + "/" + venues[i].id + ".json"})
      a.push_back(x);
    others.push_back(std::make_unique<TerminalProcess>(Dir(), venues[i].id, a));
  }

  auto sees_everyone = [&](const json& r) {
    if (r.value("state", "") != "in_call" || r["video"]["frames_decoded"].get<int>() <= 30)
      return false;
    for (size_t i = 1; i < venues.size(); ++i) {
      auto c = TileColour(r, venues[i].id);
      if (!c || ColourDistance(*c, venues[i].colour) > kColourTolerance) return false;
    }
    return Probe(r, 660) > kHeard && Probe(r, 880) > kHeard && Probe(r, 440) < kSilent;
  };
  auto report = WaitForReport(observer_stats, sees_everyone, seconds(25));
  ASSERT_TRUE(report) << observer.err();
  const json& r = *report;
  EXPECT_EQ(r["layout"], "2x2") << r.dump();
  EXPECT_EQ(r["participants"].size(), 4u);
  for (size_t i = 1; i < venues.size(); ++i) {
    auto c = TileColour(r, venues[i].id);
    ASSERT_TRUE(c) << venues[i].id << " has no tile: " << r["tiles"].dump();
    EXPECT_LE(ColourDistance(*c, venues[i].colour), kColourTolerance)
        << venues[i].id << " tile: " << r["tiles"].dump();
  }
  EXPECT_GT(Probe(r, 660), kHeard) << r["audio"].dump();
  EXPECT_GT(Probe(r, 880), kHeard) << r["audio"].dump();
  EXPECT_LT(Probe(r, 440), kSilent) << "own tone heard: " << r["audio"].dump();
  EXPECT_GT(r["video"]["frames_decoded"].get<int>(), 30);
  EXPECT_EQ(r["video"]["width"], 640);  // the hd-2m profile's tier
  RecordProperty("observer_first_media_ms",
                 static_cast<int>(r["join"]["first_media_ms"].get<double>()));

  // The observer leaves at --seconds with exit 0 and writes its recording.
  ASSERT_EQ(observer.Wait(seconds(40)), 0) << observer.err();
  json final_report = json::parse(observer.out());
  EXPECT_EQ(final_report["final"], true);
  EXPECT_EQ(final_report["end_reason"], "left");
  ASSERT_TRUE(std::filesystem::exists(record + "/mix.mkv"));
  ASSERT_TRUE(std::filesystem::exists(record + "/last.png"));
  auto [frames, audio] = DecodeRecording(record + "/mix.mkv");
  EXPECT_GT(frames, 100) << "decoded video frames in the recording";
  EXPECT_GT(audio, 100) << "decoded Opus buffers in the recording";

  // The others were invited (dial-out), saw the observer's red tile while it was there, and stop
  // cleanly on SIGTERM.
  for (size_t i = 0; i < others.size(); ++i) {
    auto o = ReadReport(Dir() + "/" + venues[i + 1].id + ".json");
    ASSERT_TRUE(o) << others[i]->err();
    EXPECT_GE((*o)["signaling"]["invites"].get<int>(), 1);
    EXPECT_EQ((*o)["conference"], number);
    others[i]->process().Signal(SIGTERM);
  }
  for (auto& o : others) EXPECT_EQ(o->Wait(seconds(10)), 0) << o->err();
}

// A cascaded meeting through the real server: two Haidong counties are hosted by Haidong's MCU
// (cascade auto), a Xining county by the hub's. Transparent to the venues: the Xining county sees
// Haidong's speaker in the province picture and hears both counties; a Haidong county hears the
// others and not itself. Measured against booked: the links view and /metrics show hub-haidong
// carrying the one leg (not two county streams), within what the plan reserved.
TEST_F(TerminalMedia, ACascadedMeetingIsTransparentAndItsLegIsMeasuredAgainstTheReservation) {
  StartServer();
  const std::vector<Venue> venues = {{"datong", {255, 0, 0}, "#ff0000", 440},
                                     {"minhe", {0, 255, 0}, "#00ff00", 660},
                                     {"ledu", {0, 0, 255}, "#0000ff", 880}};
  json booking = Book({"datong", "minhe", "ledu"});
  const std::string number = booking["conference_number"];
  ASSERT_EQ(number.size(), 8u) << booking.dump();
  ASSERT_EQ(booking["plan"]["cascades"].size(), 1u) << booking.dump();
  EXPECT_EQ(booking["plan"]["cascades"][0]["from_mcu"], "mcu-haidong");
  std::vector<std::unique_ptr<TerminalProcess>> terminals;
  for (const auto& v : venues) {
    auto a = TerminalArgs(v.id);
    for (const std::string& x :
         {std::string("--conference"), number, std::string("--color"), v.colour_text,
          std::string("--tone"), std::to_string(static_cast<int>(v.tone)),
          std::string("--probe-hz"), std::string("440,660,880"), std::string("--seconds"),
          std::string("60"), std::string("--stats-json"), Dir() + "/" + v.id + ".json",
          std::string("--stats-interval"), std::string("0.5")})
      a.push_back(x);
    terminals.push_back(std::make_unique<TerminalProcess>(Dir(), v.id, a));
  }
  // datong (on the hub's MCU) sees two tiles: its own and the Haidong leg's, named by the county
  // speaking there and in that county's colour; it hears both Haidong counties.
  auto sees_haidong = [&](const json& r) {
    if (r.value("state", "") != "in_call" || r["video"]["frames_decoded"].get<int>() <= 30)
      return false;
    bool haidong_tile = false;
    for (size_t i = 1; i < venues.size(); ++i) {
      auto c = TileColour(r, venues[i].id);
      if (c && ColourDistance(*c, venues[i].colour) <= kColourTolerance) haidong_tile = true;
    }
    return haidong_tile && Probe(r, 660) > kHeard && Probe(r, 880) > kHeard &&
           Probe(r, 440) < kSilent;
  };
  auto report = WaitForReport(Dir() + "/datong.json", sees_haidong, seconds(30));
  ASSERT_TRUE(report) << terminals[0]->err();
  EXPECT_EQ((*report)["tiles"].size(), 2u) << (*report)["tiles"].dump();
  // minhe, under Haidong's MCU, hears datong (through the leg) and ledu (its own MCU), not itself.
  auto minhe = WaitForReport(
      Dir() + "/minhe.json",
      [](const json& r) {
        return Probe(r, 440) > kHeard && Probe(r, 880) > kHeard && Probe(r, 660) < kSilent;
      },
      seconds(20));
  ASSERT_TRUE(minhe) << terminals[1]->err();

  // Measured against booked, refreshed every second: every link the meeting uses carries media
  // (a flow's first sample is its baseline, so each shows up one sample after its venue joined).
  const std::set<std::string> used = {"hub-haidong", "haidong-minhe", "haidong-ledu", "hub-xining",
                                      "xining-datong"};
  json links;
  const bool measured = WaitUntil(
      [&] {
        HttpReply r = Http(port_, "GET", "/api/v1/links");
        links = json::parse(r.body, nullptr, false);
        if (r.status != 200 || !links.is_object()) return false;
        size_t carrying = 0;
        for (const auto& l : links["links"])
          if (used.count(l["id"]) && l["now"]["measured_down_kbps"].get<double>() > 0 &&
              l["now"]["measured_up_kbps"].get<double>() > 0)
            ++carrying;
        return carrying == used.size();
      },
      seconds(15));
  ASSERT_TRUE(measured) << links.dump();
  for (const auto& l : links["links"]) {
    const std::string id = l["id"];
    const json& now = l["now"];
    if (now["reserved_up_kbps"].get<int64_t>() > 0)
      std::printf("[ measured ] %s: %s\n", id.c_str(), now.dump().c_str());
    if (used.count(id)) {
      EXPECT_EQ(now["reserved_up_kbps"], 1229) << id;  // one hd-2m stream each way
      EXPECT_EQ(now["reserved_down_kbps"], 1229) << id;
      EXPECT_GT(now["measured_down_kbps"].get<double>(), 0) << id << ": " << now.dump();
      EXPECT_LE(now["measured_down_kbps"].get<double>(), 1229) << id << ": " << now.dump();
      EXPECT_LE(now["measured_up_kbps"].get<double>(), 1229) << id << ": " << now.dump();
    } else if (id == "hub-golog") {
      EXPECT_EQ(now["reserved_up_kbps"], 0);
      EXPECT_EQ(now["measured_up_kbps"], 0);
    }
  }
  HttpReply metrics = Http(port_, "GET", "/metrics");
  EXPECT_NE(metrics.body.find("plateau_link_reserved_kbps{direction=\"up\",link=\"hub-haidong\"} "
                              "1229"),
            std::string::npos);
  EXPECT_NE(
      metrics.body.find("plateau_link_measured_kbps{direction=\"down\",link=\"hub-haidong\"}"),
      std::string::npos);
  for (auto& t : terminals) t->process().Signal(SIGTERM);
  for (auto& t : terminals) EXPECT_EQ(t->Wait(seconds(10)), 0) << t->err();
}

TEST_F(TerminalMedia, ACutConnectionResumesTheSeatAndMediaFlowsWithNewKeys) {
  StartServer();
  json booking = Book({"datong", "huangzhong"});
  const std::string number = booking["conference_number"];
  TcpProxy proxy(port_);
  const std::string via_proxy = "ws://127.0.0.1:" + std::to_string(proxy.port()) + "/ws";
  const std::string a_stats = Dir() + "/datong.json", b_stats = Dir() + "/huangzhong.json";
  auto a_args = TerminalArgs("datong", via_proxy);
  for (const std::string& x :
       {std::string("--conference"), number, std::string("--color"), std::string("#ff0000"),
        std::string("--tone"), std::string("440"), std::string("--probe-hz"),
        std::string("440,660"), std::string("--seconds"), std::string("60"),
        std::string("--stats-json"), a_stats, std::string("--stats-interval"), std::string("0.2")})
    a_args.push_back(x);
  auto b_args = TerminalArgs("huangzhong");
  for (const std::string& x :
       {std::string("--conference"), number, std::string("--color"), std::string("#00ff00"),
        std::string("--tone"), std::string("660"), std::string("--probe-hz"),
        std::string("440,660"), std::string("--seconds"), std::string("60"),
        std::string("--stats-json"), b_stats, std::string("--stats-interval"), std::string("0.2")})
    b_args.push_back(x);
  TerminalProcess a(Dir(), "datong", a_args);
  TerminalProcess b(Dir(), "huangzhong", b_args);

  // Both in the call, each hearing the other.
  auto before = WaitForReport(
      a_stats,
      [](const json& r) {
        return r["media"]["generation"] == 1 && r["video"]["frames_decoded"].get<int>() > 30 &&
               Probe(r, 660) > kHeard;
      },
      seconds(25));
  ASSERT_TRUE(before && (*before)["media"]["generation"] == 1) << a.err();
  ASSERT_TRUE(WaitForReport(
      b_stats, [](const json& r) { return Probe(r, 440) > kHeard; }, seconds(15)))
      << b.err();

  // Cut datong's signaling connection (TCP, no close frame).
  ASSERT_EQ(proxy.CutAll(), 1);
  const auto cut_at = std::chrono::steady_clock::now();
  auto resumed = WaitForReport(
      a_stats,
      [](const json& r) {
        return r["signaling"]["resumes"].get<int>() >= 1 && r["media"]["generation"] == 2 &&
               r["media"]["packets_in_generation"].get<int>() > 0;
      },
      seconds(5));
  ASSERT_TRUE(resumed);
  const json& r = *resumed;
  ASSERT_GE(r["signaling"]["resumes"].get<int>(), 1) << r.dump() << a.err();
  ASSERT_EQ(r["media"]["generation"], 2) << r.dump();
  EXPECT_GT(r["media"]["packets_in_generation"].get<int>(), 0) << r.dump();
  EXPECT_EQ(r["signaling"]["drops"], 1);
  EXPECT_EQ(r["signaling"]["connects"], 2);
  EXPECT_EQ(r["seat"], (*before)["seat"]);
  EXPECT_EQ(r["signaling"]["rejoins"], 0);  // the same seat, not a new join
  EXPECT_EQ(proxy.accepted(), 2);
  RecordProperty("cut_to_new_keys_ms",
                 static_cast<int>(std::chrono::duration_cast<milliseconds>(
                                      std::chrono::steady_clock::now() - cut_at)
                                      .count()));
  RecordProperty("resume_to_media_ms",
                 static_cast<int>(r["media"]["last_resume_to_media_ms"].get<double>()));

  // Video keeps decoding on the new keys (MCU -> terminal) ...
  const int frames = r["video"]["frames_decoded"];
  auto more = WaitForReport(
      a_stats, [&](const json& x) { return x["video"]["frames_decoded"].get<int>() > frames + 60; },
      seconds(10));
  ASSERT_TRUE(more);
  EXPECT_GT((*more)["video"]["frames_decoded"].get<int>(), frames + 60);
  EXPECT_GT(Probe(*more, 660), kHeard);
  EXPECT_EQ((*more)["media"]["generation"], 2);
  // ... and the MCU takes datong's media on its new keys (terminal -> MCU): huangzhong hears
  // datong's tone in audio decoded only after the new keys took effect.
  auto b_now = ReadReport(b_stats);
  ASSERT_TRUE(b_now);
  const int64_t samples = (*b_now)["audio"]["samples"];
  auto b_after = WaitForReport(
      b_stats,
      [&](const json& x) {
        return x["audio"]["samples"].get<int64_t>() > samples + 48000 && Probe(x, 440) > kHeard;
      },
      seconds(10));
  ASSERT_TRUE(b_after);
  EXPECT_GT(Probe(*b_after, 440), kHeard) << b_after->dump();
  EXPECT_GT((*b_after)["audio"]["samples"].get<int64_t>(), samples + 48000);

  a.process().Signal(SIGTERM);
  b.process().Signal(SIGTERM);
  EXPECT_EQ(a.Wait(seconds(10)), 0) << a.err();
  EXPECT_EQ(b.Wait(seconds(10)), 0) << b.err();
}

}  // namespace
}  // namespace plateau::testing
