// The terminal sending a media file (`plateau terminal --file`, TerminalSender with a file): the
// file loops for the whole call with RTP that runs on (one SSRC, sequence numbers +1, timestamps
// that follow the clock, a keyframe at each loop point), a kind the file lacks comes from the live
// sources, play-once stops, and files that cannot be played are refused before the call. Every
// media file is generated here at run time in a temp dir (solid colour + tone); none is kept in
// git. Suite `media`.
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "plateau/mcu/rtp/h264.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/terminal/media/receiver.hpp"
#include "plateau/terminal/media/sender.hpp"

namespace plateau::testing {
namespace {

namespace mt = plateau::terminal::media;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- Generating media files.

struct ClipSpec {
  std::string container = "mkv";  // mkv (H.264 + Opus), mp4 / ts (H.264 + AAC)
  double seconds = 1.0;
  bool video = true;
  bool audio = true;
  mt::Rgb colour{0, 0, 255};
  int tone_hz = 660;
  int width = 160;
  int height = 90;
};

// Encodes `spec` into `path`; "" or the error.
std::string MakeClip(const std::string& path, const ClipSpec& spec) {
  gst_init(nullptr, nullptr);
  const int frames = static_cast<int>(spec.seconds * 30);
  const int blocks = static_cast<int>(spec.seconds * 50);  // 20 ms each
  const bool aac = spec.container != "mkv";
  char argb[16];
  std::snprintf(argb, sizeof(argb), "0xff%02x%02x%02x", spec.colour.r, spec.colour.g,
                spec.colour.b);
  std::string desc;
  if (spec.video)
    desc += "videotestsrc num-buffers=" + std::to_string(frames) +
            " pattern=solid-color foreground-color=" + argb +
            " ! video/x-raw,width=" + std::to_string(spec.width) +
            ",height=" + std::to_string(spec.height) +
            ",framerate=30/1 ! openh264enc rate-control=bitrate bitrate=300000 ! h264parse ! "
            "mux. ";
  if (spec.audio)
    desc += "audiotestsrc num-buffers=" + std::to_string(blocks) +
            " samplesperbuffer=960 volume=0.3 freq=" + std::to_string(spec.tone_hz) +
            " ! audio/x-raw,rate=48000,channels=1 ! " +
            (aac ? std::string("avenc_aac ! aacparse") : std::string("opusenc")) + " ! mux. ";
  const std::string mux = spec.container == "mp4"  ? "mp4mux"
                          : spec.container == "ts" ? "mpegtsmux"
                                                   : "matroskamux";
  desc += mux + " name=mux ! filesink location=\"" + path + "\"";
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &error);
  if (!pipeline) {
    std::string e = error ? error->message : "gst_parse_launch failed";
    if (error) g_error_free(error);
    return e;
  }
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string result = msg ? "" : "timed out encoding " + path;
  if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    result = e ? e->message : "error";
    if (e) g_error_free(e);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return result;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A copy of a Matroska clip (H.264 + Opus) whose codec ids no decoder knows (same lengths, so the
// file stays well-formed); "" or the error.
std::string WriteUnknownCodecsCopy(const std::string& from_path, const std::string& to_path) {
  std::ifstream in(from_path, std::ios::binary);
  std::string mkv((std::istreambuf_iterator<char>(in)), {});
  for (auto [from, to] : {std::pair<std::string, std::string>{"V_MPEG4/ISO/AVC", "V_PLATEAU/NOPE"},
                          {"A_OPUS", "A_NOPE"}}) {
    const size_t at = mkv.find(from);
    if (at == std::string::npos) return "no " + from + " in " + from_path;
    mkv.replace(at, from.size(), to + std::string(from.size() - to.size(), '_'));
  }
  WriteFile(to_path, mkv);
  return "";
}

bool CentreIs(const mt::DecodedFrame& f, mt::Rgb want) {
  return mt::ColorDistance(f.Average(f.width / 2, f.height / 2, 6), want) <= 45;
}

// ---- In-process: what the sender hands out.

struct Sent {
  double at_s;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  bool keyframe_start;
};

// Records every packet of a sender (and feeds a receiver that decodes them).
class Capture {
 public:
  Capture() {
    auto r = mt::TerminalReceiver::Create({});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (r.ok()) receiver_ = std::move(*r);
  }
  mt::PacketCallback Callback() {
    return [this](mt::MediaKind kind, std::span<const uint8_t> rtp) {
      auto p = mcu::rtp::RtpPacket::Parse(rtp);
      if (!p) return;
      const double at = std::chrono::duration<double>(Clock::now() - start_).count();
      Sent s{at, p->sequence_number(), p->timestamp(), p->ssrc(),
             kind == mt::MediaKind::kVideo && mcu::rtp::IsH264KeyframeStart(p->payload())};
      {
        std::lock_guard lock(mu_);
        (kind == mt::MediaKind::kVideo ? video_ : audio_).push_back(s);
      }
      if (receiver_) receiver_->PushRtp(rtp);
    };
  }
  std::vector<Sent> video() const {
    std::lock_guard lock(mu_);
    return video_;
  }
  std::vector<Sent> audio() const {
    std::lock_guard lock(mu_);
    return audio_;
  }
  mt::TerminalReceiver& receiver() { return *receiver_; }

 private:
  const Clock::time_point start_ = Clock::now();
  mutable std::mutex mu_;
  std::vector<Sent> video_, audio_;
  std::unique_ptr<mt::TerminalReceiver> receiver_;
};

// One stream is continuous: a single SSRC, sequence numbers +1 each packet, timestamps that never
// go back, frames at least `min_step` apart, no jump, and the RTP clock in step with the wall
// clock from the first packet to the last.
void ExpectContinuous(const std::vector<Sent>& s, uint32_t ssrc, double rate, uint32_t min_step,
                      const std::string& what) {
  ASSERT_GT(s.size(), 10u) << what;
  int bad_seq = 0, bad_ts = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    EXPECT_EQ(s[i].ssrc, ssrc) << what << " packet " << i;
    if (static_cast<uint16_t>(s[i].seq - s[i - 1].seq) != 1) ++bad_seq;
    // Opus's first packet is stamped at the stream's start although the encoder's 6.5 ms
    // look-ahead comes first: the first step is short, also for the live sources.
    if (i == 1) continue;
    const auto step = static_cast<int32_t>(s[i].ts - s[i - 1].ts);
    if (step != 0 && (step < static_cast<int32_t>(min_step) || step > 0.4 * rate)) {
      ++bad_ts;
      ADD_FAILURE() << what << ": timestamp step " << step << " at packet " << i << " (t "
                    << s[i].at_s << " s)";
    }
    if (step == 0 && min_step > 1) ++bad_ts;  // audio: every packet is a new frame
  }
  EXPECT_EQ(bad_seq, 0) << what << ": sequence numbers that do not count up by one";
  EXPECT_EQ(bad_ts, 0) << what;
  const double rtp_span = static_cast<uint32_t>(s.back().ts - s.front().ts) / rate;
  const double wall_span = s.back().at_s - s.front().at_s;
  EXPECT_NEAR(rtp_span, wall_span, 0.15) << what << ": RTP clock vs wall clock";
}

class TerminalFileSender : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Path(const std::string& name) { return dir_.path() + "/" + name; }
  TempDir dir_;
};

// mkv/Opus and mp4/AAC loop by segment seeks (the AAC audio runs a little past the end: the
// overlap must not push timestamps back); MPEG-TS refuses segment seeks and loops by a flushing
// seek after EOS, bridged by the sender.
TEST_P(TerminalFileSender, LoopsWithContinuousRtpAndAKeyframeAtEachLoop) {
  const std::string path = Path("clip." + GetParam());
  ClipSpec spec;
  spec.container = GetParam();
  ASSERT_EQ(MakeClip(path, spec), "");

  Capture cap;
  mt::SenderConfig c;
  c.file = path;
  c.width = 160;
  c.height = 90;
  c.video_kbps = 150;
  c.gop_frames = 600;  // keyframes only at the start, on request and at loop points
  c.clock = false;
  auto sender = mt::TerminalSender::Create(c, cap.Callback());
  ASSERT_TRUE(sender.ok()) << sender.error().message;
  mt::TerminalSender& s = **sender;
  EXPECT_TRUE(s.Stats().file_video);
  EXPECT_TRUE(s.Stats().file_audio);

  // Two loop points, then 0.5 s of the third pass.
  const auto deadline = Clock::now() + seconds(8);
  while (s.Stats().file_loops < 3 && Clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(20));
  ASSERT_GE(s.Stats().file_loops, 3u) << "the file did not loop";
  const uint64_t frame_index = [&] {
    auto f = cap.receiver().LatestFrame();
    return f ? f->index : 0;
  }();
  // The receiver keeps decoding the file's picture and sound after the loop points.
  EXPECT_NE(cap.receiver().WaitForFrame([&](const auto& f) { return CentreIs(f, spec.colour); },
                                        Clock::now() + seconds(3), frame_index + 10),
            nullptr);
  EXPECT_GT(cap.receiver().ToneLevelDbov(660, 200), -30.0);
  const auto stats = s.Stats();
  const uint32_t video_ssrc = s.video_ssrc(), audio_ssrc = s.audio_ssrc();
  sender->reset();

  const auto video = cap.video(), audio = cap.audio();
  ExpectContinuous(video, video_ssrc, 90000, 1, GetParam() + " video");
  // 20 ms Opus packets: 960 at 48 kHz, 959 or 961 now and then where the container's timestamps
  // are rounded (MPEG-TS: 90 kHz); an overlap at a loop point would be far less.
  ExpectContinuous(audio, audio_ssrc, 48000, 950, GetParam() + " audio");
  int keyframes = 0;
  uint32_t last_keyframe_ts = 0;
  for (const auto& p : video)
    if (p.keyframe_start && (keyframes == 0 || p.ts != last_keyframe_ts)) {
      ++keyframes;
      last_keyframe_ts = p.ts;
    }
  // The first picture, and one at each loop point (the 600-frame GOP makes no others).
  EXPECT_GE(keyframes, static_cast<int>(stats.file_loops) + 1) << stats.file_loops << " loops";
  EXPECT_LE(keyframes, static_cast<int>(stats.file_loops) + 3);
  EXPECT_FALSE(stats.ended);
  RecordProperty("loops", static_cast<int>(stats.file_loops));
}

INSTANTIATE_TEST_SUITE_P(Containers, TerminalFileSender, ::testing::Values("mkv", "mp4", "ts"));

// A file with only video sends the tone (here silence) as its audio; one with only audio sends the
// colour as its picture. Both keep looping.
TEST(TerminalFileKinds, AKindTheFileLacksComesFromTheLiveSources) {
  TempDir dir;
  {
    ClipSpec spec;
    spec.audio = false;
    spec.colour = {255, 0, 0};
    ASSERT_EQ(MakeClip(dir.path() + "/video.mkv", spec), "");
    Capture cap;
    mt::SenderConfig c;
    c.file = dir.path() + "/video.mkv";
    c.width = 160;
    c.height = 90;
    c.clock = false;
    c.tone_hz = 0;
    auto sender = mt::TerminalSender::Create(c, cap.Callback());
    ASSERT_TRUE(sender.ok()) << sender.error().message;
    EXPECT_TRUE((*sender)->Stats().file_video);
    EXPECT_FALSE((*sender)->Stats().file_audio);
    EXPECT_NE(cap.receiver().WaitForFrame([&](const auto& f) { return CentreIs(f, spec.colour); },
                                          Clock::now() + seconds(5)),
              nullptr);
    ASSERT_TRUE(cap.receiver().WaitForAudio(400, Clock::now() + seconds(5)));
    EXPECT_LT(cap.receiver().AudioLevelDbov(400), -60.0) << "silence expected";
    const auto deadline = Clock::now() + seconds(5);
    while ((*sender)->Stats().file_loops < 1 && Clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(20));
    EXPECT_GE((*sender)->Stats().file_loops, 1u);
  }
  {
    ClipSpec spec;
    spec.video = false;
    spec.tone_hz = 880;
    ASSERT_EQ(MakeClip(dir.path() + "/audio.mkv", spec), "");
    Capture cap;
    mt::SenderConfig c;
    c.file = dir.path() + "/audio.mkv";
    c.width = 160;
    c.height = 90;
    c.clock = false;
    c.color = mt::Rgb{0, 255, 0};
    auto sender = mt::TerminalSender::Create(c, cap.Callback());
    ASSERT_TRUE(sender.ok()) << sender.error().message;
    EXPECT_FALSE((*sender)->Stats().file_video);
    EXPECT_TRUE((*sender)->Stats().file_audio);
    EXPECT_NE(cap.receiver().WaitForFrame([&](const auto& f) { return CentreIs(f, *c.color); },
                                          Clock::now() + seconds(5)),
              nullptr);
    const auto deadline = Clock::now() + seconds(5);
    while ((*sender)->Stats().file_loops < 1 && Clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(20));
    EXPECT_GE((*sender)->Stats().file_loops, 1u);
    ASSERT_TRUE(cap.receiver().WaitForAudio(400, Clock::now() + seconds(5)));
    EXPECT_GT(cap.receiver().ToneLevelDbov(880, 200), -30.0);
    sender->reset();
    ExpectContinuous(cap.audio(), cap.audio().front().ssrc, 48000, 950, "audio-only file");
  }
}

TEST(TerminalFileKinds, PlayOnceSendsTheFileOnceAndThenNothing) {
  TempDir dir;
  ClipSpec spec;
  ASSERT_EQ(MakeClip(dir.path() + "/once.mkv", spec), "");
  Capture cap;
  mt::SenderConfig c;
  c.file = dir.path() + "/once.mkv";
  c.width = 160;
  c.height = 90;
  c.loop = false;
  auto sender = mt::TerminalSender::Create(c, cap.Callback());
  ASSERT_TRUE(sender.ok()) << sender.error().message;
  auto deadline = Clock::now() + seconds(5);
  while (!(*sender)->Stats().ended && Clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(20));
  const auto at_end = (*sender)->Stats();
  ASSERT_TRUE(at_end.ended);
  EXPECT_EQ(at_end.file_loops, 0u);
  EXPECT_NEAR(static_cast<double>(at_end.video_frames), 30.0, 3.0);  // 1 s at 30 fps
  EXPECT_NEAR(static_cast<double>(at_end.audio_packets), 50.0, 3.0);
  // A loop would have started again within a second: nothing more is sent.
  deadline = Clock::now() + milliseconds(1500);
  while ((*sender)->Stats().video_packets == at_end.video_packets && Clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ((*sender)->Stats().video_packets, at_end.video_packets);
  EXPECT_EQ((*sender)->Stats().audio_packets, at_end.audio_packets);
}

// Not media, an empty file, codecs nothing can decode: refused by Create (no hang), with a
// sentence that names the file and the problem.
TEST(TerminalFileKinds, FilesThatCannotBePlayedAreRefusedWithAReason) {
  TempDir dir;
  ASSERT_EQ(MakeClip(dir.path() + "/good.mkv", ClipSpec{}), "");
  ASSERT_EQ(WriteUnknownCodecsCopy(dir.path() + "/good.mkv", dir.path() + "/unknown-codecs.mkv"),
            "");
  WriteFile(dir.path() + "/notes.mkv", "Agenda: 1. budget 2. roads\n");
  WriteFile(dir.path() + "/empty.mp4", "");

  struct Case {
    std::string file;
    std::string says;
  };
  for (const Case& k :
       {Case{"notes.mkv", "cannot be played"}, Case{"empty.mp4", "cannot be played"},
        Case{"unknown-codecs.mkv", "no decoder for video/x-unknown"},
        Case{"missing.mkv", "does not exist"}}) {
    mt::SenderConfig c;
    c.file = dir.path() + "/" + k.file;
    const auto start = Clock::now();
    auto r = mt::TerminalSender::Create(c, nullptr);
    ASSERT_FALSE(r.ok()) << k.file;
    EXPECT_EQ(r.error().code, "bad_file") << k.file;
    EXPECT_NE(r.error().message.find(c.file), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(k.says), std::string::npos) << r.error().message;
    EXPECT_LT(Clock::now() - start, seconds(8)) << k.file << " took too long to refuse";
  }
}

// ---- Through the CLI, in a booked meeting.

struct Rgb8 {
  int r = 0, g = 0, b = 0;
};

std::optional<Rgb8> TileColour(const json& report, const std::string& venue) {
  for (const json& t : report.value("tiles", json::array()))
    if (t.value("venue", "") == venue && t.contains("rgb")) {
      const std::string s = t["rgb"];
      auto h = [&](int i) {
        return static_cast<int>(std::strtol(s.substr(i, 2).c_str(), nullptr, 16));
      };
      return Rgb8{h(1), h(3), h(5)};
    }
  return std::nullopt;
}

int Distance(Rgb8 a, Rgb8 b) {
  return std::max({std::abs(a.r - b.r), std::abs(a.g - b.g), std::abs(a.b - b.b)});
}

double Probe(const json& report, double hz) {
  for (const json& p : report["audio"].value("probes", json::array()))
    if (p.value("hz", 0.0) == hz) return p.value("dbov", -127.0);
  return -127.0;
}

constexpr double kHeard = -30.0;
constexpr double kSilent = -45.0;

class TerminalFileCli : public ServerFixture {};

TEST_F(TerminalFileCli, AVenuePlayingAClipIsSeenAndHeardAfterItLoops) {
  // The clip: 2 s of magenta and a 660 Hz tone.
  ClipSpec spec;
  spec.seconds = 2.0;
  spec.colour = {255, 0, 255};
  spec.width = 320;
  spec.height = 180;
  const std::string clip = Dir() + "/briefing.mkv";
  ASSERT_EQ(MakeClip(clip, spec), "");

  StartServer();
  json booking = Book({"datong", "huangzhong"});
  const std::string number = booking["conference_number"];
  const std::string observer_stats = Dir() + "/datong.json",
                    file_stats = Dir() + "/huangzhong.json";
  auto o_args = TerminalArgs("datong");
  for (const std::string& x :
       {std::string("--conference"), number, std::string("--color"), std::string("#ff0000"),
        std::string("--tone"), std::string("440"), std::string("--probe-hz"),
        std::string("440,660"), std::string("--seconds"), std::string("40"),
        std::string("--stats-json"), observer_stats, std::string("--stats-interval"),
        std::string("0.25")})
    o_args.push_back(x);
  auto f_args = TerminalArgs("huangzhong");
  for (const std::string& x :
       {std::string("--conference"), number, std::string("--file"), clip, std::string("--probe-hz"),
        std::string("440,660"), std::string("--seconds"), std::string("40"),
        std::string("--stats-json"), file_stats, std::string("--stats-interval"),
        std::string("0.25")})
    f_args.push_back(x);
  TerminalProcess observer(Dir(), "datong", o_args);
  TerminalProcess player(Dir(), "huangzhong", f_args);

  // The clip has gone back to its start twice.
  auto looped = WaitForReport(
      file_stats,
      [](const json& r) {
        return r.value("state", "") == "in_call" && r["sent"]["file_loops"].get<int>() >= 2;
      },
      seconds(20));
  ASSERT_TRUE(looped && (*looped)["sent"]["file_loops"].get<int>() >= 2)
      << (looped ? looped->dump() : "no report") << player.err();
  EXPECT_TRUE((*looped)["sent"]["file_video"].get<bool>());
  EXPECT_TRUE((*looped)["sent"]["file_audio"].get<bool>());
  EXPECT_FALSE((*looped)["sent"]["file_ended"].get<bool>());

  // From then on the observer sees the clip's colour in huangzhong's tile and hears its tone,
  // in pictures decoded after the loop point; its own 440 Hz stays out of its mix.
  auto now = ReadReport(observer_stats);
  ASSERT_TRUE(now) << observer.err();
  const int frames = (*now)["video"]["frames_decoded"];
  const Rgb8 magenta{255, 0, 255};
  auto seen = WaitForReport(
      observer_stats,
      [&](const json& r) {
        auto c = TileColour(r, "huangzhong");
        return r["video"]["frames_decoded"].get<int>() > frames + 30 && c &&
               Distance(*c, magenta) <= 40 && Probe(r, 660) > kHeard && Probe(r, 440) < kSilent;
      },
      seconds(10));
  ASSERT_TRUE(seen) << observer.err();
  const json& r = *seen;
  auto c = TileColour(r, "huangzhong");
  ASSERT_TRUE(c) << r["tiles"].dump();
  EXPECT_LE(Distance(*c, magenta), 40) << r["tiles"].dump();
  EXPECT_GT(r["video"]["frames_decoded"].get<int>(), frames + 30);
  EXPECT_GT(Probe(r, 660), kHeard) << r["audio"].dump();
  EXPECT_LT(Probe(r, 440), kSilent) << "own tone heard: " << r["audio"].dump();

  // The playing venue hears the observer and not its own clip (mix-minus), and still loops.
  auto player_now = WaitForReport(
      file_stats, [](const json& x) { return Probe(x, 440) > kHeard && Probe(x, 660) < kSilent; },
      seconds(5));
  ASSERT_TRUE(player_now);
  EXPECT_GT(Probe(*player_now, 440), kHeard) << (*player_now)["audio"].dump();
  EXPECT_LT(Probe(*player_now, 660), kSilent) << (*player_now)["audio"].dump();
  EXPECT_EQ((*player_now)["media"]["transport"]["dropped_malformed"], 0);
  RecordProperty("file_loops", (*player_now)["sent"]["file_loops"].get<int>());

  observer.process().Signal(SIGTERM);
  player.process().Signal(SIGTERM);
  EXPECT_EQ(observer.Wait(seconds(10)), 0) << observer.err();
  EXPECT_EQ(player.Wait(seconds(10)), 0) << player.err();
}

TEST_F(TerminalFileCli, AFileWithUnknownCodecsExitsOneBeforeJoining) {
  ASSERT_EQ(MakeClip(Dir() + "/good.mkv", ClipSpec{}), "");
  const std::string path = Dir() + "/unknown.mkv";
  ASSERT_EQ(WriteUnknownCodecsCopy(Dir() + "/good.mkv", path), "");
  // Nothing listens at the server address: a terminal that tried to join would say so.
  const std::string url = "ws://127.0.0.1:" + std::to_string(FreePort()) + "/ws";
  RunResult r = RunCommand({PlateauBinary(), "terminal", "--server", url, "--venue", "datong",
                            "--token", "pvt_x", "--file", path, "--seconds", "5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("plateau terminal: media file " + path), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no decoder for video/x-unknown"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cannot connect"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace plateau::testing
