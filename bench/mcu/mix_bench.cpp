#include "mix_bench.hpp"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "mix_probe.hpp"
#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/mcu/audio/opus_codec.hpp"
#include "plateau/mcu/audio/tone.hpp"
#include "plateau/mcu/conference/conference.hpp"
#include "plateau/mcu/rtp/packet.hpp"
#include "plateau/mcu/transport/srtp_session.hpp"
#include "plateau/mcu/transport/venue_transport.hpp"
#include "plateau/terminal/media/replay.hpp"

namespace plateau::bench {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using terminal::media::EncodedClip;
using terminal::media::Rgb;

constexpr double kProbeToneHz = 1000;
constexpr double kProbeToneDbov = -20;
constexpr double kToneDetectDbov = -40;
constexpr auto kProbeCycle = 600ms;  // one colour flip and one tone burst per cycle
constexpr auto kToneLength = 200ms;
constexpr auto kAudioFrame = 20ms;
constexpr Rgb kProbeColorA{200, 30, 30};
constexpr Rgb kProbeColorB{30, 30, 200};
constexpr int kColorTolerance = 50;
constexpr uint8_t kVideoPt = 96;
constexpr uint8_t kAudioPt = 111;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// What a venue does in the benchmark.
enum class Role {
  kVideoProbe,  // venue 0: flips between two colours (pinned to the large pane)
  kAudioProbe,  // venue 1: tone bursts after silence
  kObserver,    // venues 2 and 3 (one per tier): decode what they receive to time the probes
  kTalker,      // venues 4 and 5: talk all the time (two of the K = 3 speaker slots)
  kBackground,  // everyone else: camera-like video, silent microphone
};

Role RoleOf(size_t i) {
  if (i == 0) return Role::kVideoProbe;
  if (i == 1) return Role::kAudioProbe;
  if (i == 2 || i == 3) return Role::kObserver;
  if (i == 4 || i == 5) return Role::kTalker;
  return Role::kBackground;
}

std::string TwoDigits(size_t i) {
  return (i < 10 ? "0" : "") + std::to_string(i);
}
std::string VenueId(size_t i) {
  return "v" + TwoDigits(i);
}
std::string VenueName(size_t i) {
  return "会场" + TwoDigits(i);
}

// Venues on the 8 Mbit/s tier send 1280x720, venues on the 2 Mbit/s tier 640x360.
bool IsHighTier(size_t i) {
  return i % 2 == 0;
}

Result<mcu::media::LayoutKind> LayoutForVisible(int visible) {
  for (auto kind : {mcu::media::LayoutKind::kOne, mcu::media::LayoutKind::kTwo,
                    mcu::media::LayoutKind::kTwoByTwo, mcu::media::LayoutKind::kOnePlusFive,
                    mcu::media::LayoutKind::kOnePlusSeven, mcu::media::LayoutKind::kThreeByThree,
                    mcu::media::LayoutKind::kFourByFour})
    if (static_cast<int>(mcu::media::TileCount(kind)) == visible) return kind;
  return Error{"bad_config", "--visible must be a layout's tile count: 1, 2, 4, 6, 8, 9 or 16"};
}

// The clips, generated once and shared by the venues that replay them.
class ClipLibrary {
 public:
  explicit ClipLibrary(double seconds) : seconds_(seconds) {}

  Result<std::shared_ptr<const EncodedClip>> For(size_t venue) {
    const bool high = IsHighTier(venue);
    terminal::media::ClipConfig c;
    c.width = high ? 1280 : 640;
    c.height = high ? 720 : 360;
    c.video_kbps = high ? 1800 : 800;
    c.seconds = seconds_;
    c.gop_frames = 60;
    c.clock = true;  // every frame differs, as from a camera
    c.tone_hz = 0;   // a silent microphone
    std::string key;
    switch (RoleOf(venue)) {
      case Role::kVideoProbe:
        return Probe(false);
      case Role::kTalker:
        c.pattern = "ball";
        c.tone_hz = high ? 300 : 450;
        key = high ? "talk720" : "talk360";
        break;
      default: {
        const bool ball = (venue / 2) % 2 == 0;
        if (ball) {
          c.pattern = "ball";
        } else {
          c.color = high ? Rgb{60, 120, 180} : Rgb{180, 120, 60};
        }
        key = std::string(high ? "bg720" : "bg360") + (ball ? "ball" : "solid");
      }
    }
    return Get(key, c);
  }

  // The probe venue's two solid colours (no clock: the tile's centre is one colour).
  Result<std::shared_ptr<const EncodedClip>> Probe(bool second) {
    terminal::media::ClipConfig c;
    c.color = second ? kProbeColorB : kProbeColorA;
    c.width = 640;
    c.height = 360;
    c.video_kbps = 800;
    c.seconds = 2;
    c.gop_frames = 60;
    c.audio = false;
    return Get(second ? "probeB" : "probeA", c);
  }

  size_t size() const { return clips_.size(); }

 private:
  Result<std::shared_ptr<const EncodedClip>> Get(const std::string& key,
                                                 const terminal::media::ClipConfig& c) {
    if (auto it = clips_.find(key); it != clips_.end()) return it->second;
    auto clip = EncodedClip::Generate(c);
    if (!clip) return clip.error();
    clips_[key] = *clip;
    return *clip;
  }

  double seconds_;
  std::map<std::string, std::shared_ptr<const EncodedClip>> clips_;
};

// An io_context run by one thread that counts as the benchmark's (not the engine's).
class IoThread {
 public:
  IoThread() : work_(asio::make_work_guard(io_)) {}
  ~IoThread() { Stop(); }
  void Start(ThreadSet* threads, const char* name) {
    thread_ = std::thread([this, threads, name] {
      threads->AddCurrentThread(name);
      io_.run();
    });
  }
  // Runs everything posted so far, then stops.
  void Stop() {
    if (!thread_.joinable()) return;
    std::promise<void> done;
    asio::post(io_, [&done] { done.set_value(); });
    done.get_future().wait();
    work_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// A probe's send times, published to the observers: the time is written before the id.
class ProbeTimes {
 public:
  explicit ProbeTimes(size_t capacity) : times_(capacity + 2, 0) {}
  void Publish(int64_t send_us) {
    const int next = id_.load(std::memory_order_relaxed) + 1;
    if (static_cast<size_t>(next) >= times_.size()) return;
    times_[static_cast<size_t>(next)] = send_us;
    id_.store(next, std::memory_order_release);
  }
  int id() const { return id_.load(std::memory_order_acquire); }
  int64_t time_us(int id) const { return times_[static_cast<size_t>(id)]; }

 private:
  std::vector<int64_t> times_;
  std::atomic<int> id_{0};
};

struct Samples {
  std::mutex mu;
  std::vector<double> ms;
  std::vector<double> first;  // samples of the first probe (one per observer)
  void Add(int probe, double value) {
    std::lock_guard lock(mu);
    ms.push_back(value);
    if (probe == 1) first.push_back(value);
  }
};

struct Observer {
  std::unique_ptr<ProbeDecoder> decoder;
  std::optional<mcu::audio::OpusFrameDecoder> opus;  // probe io thread only
  std::vector<int16_t> pcm;
  int audio_seen = 0;  // probe io thread only
  std::atomic<int> video_seen{0};
  std::atomic<int> sample_x{0};  // the probe tile's centre in the decoded picture
  std::atomic<int> sample_y{0};
};

struct BenchVenue {
  size_t index = 0;
  std::string id;
  std::string name;
  std::string tier;
  Role role = Role::kBackground;
  std::shared_ptr<const EncodedClip> clip;
  std::shared_ptr<mcu::transport::VenueTransport> transport;
  std::optional<terminal::media::ReplayHub::SenderId> sender;
  std::unique_ptr<Observer> observer;
  std::atomic<bool> keyframe_wanted{false};  // the video probe was asked for a keyframe
  // What the venue received (its transport's io thread).
  std::atomic<uint64_t> video_packets{0};
  std::atomic<uint64_t> video_frames{0};
  std::atomic<uint64_t> audio_packets{0};
};

class Rig {
 public:
  Rig(const MixBenchOptions& o, mcu::media::LayoutKind layout)
      : o_(o), layout_(layout), audio_probes_(o.probes), video_probes_(o.probes) {}
  ~Rig() { Shutdown(); }

  Status Setup(ClipLibrary& clips);
  Status WaitForMedia();
  void Measure(MixBenchReport* report);
  Status MeasureLatency(MixBenchReport* report);
  void Shutdown();

 private:
  void OnVenueRtp(BenchVenue& v, const mcu::rtp::RtpPacket& p, const mcu::transport::RtpArrival& a);
  void ObserveAudio(Observer& obs, const mcu::rtp::RtpPacket& p, int64_t arrival_us);
  void ObserveVideo(Observer& obs, const ProbeFrame& frame);
  void PacerLoop();
  void StartPacer();
  void StopPacer();

  const MixBenchOptions& o_;
  mcu::media::LayoutKind layout_;
  // The conference's and the venues' transports count here (nothing renders it); declared before
  // the io threads and the conference, so it outlives them.
  metrics::Registry metrics_;
  ThreadSet threads_;
  IoThread venue_io_;  // every venue but the probes and observers
  IoThread probe_io_;  // venues 0..3: their arrival times are not queued behind 60 others
  std::unique_ptr<terminal::media::ReplayHub> hub_;
  std::unique_ptr<mcu::conference::Conference> conference_;
  std::vector<std::unique_ptr<BenchVenue>> venues_;
  std::shared_ptr<const EncodedClip> probe_clips_[2];
  // The probe pacer (venue 0's video, venue 1's audio).
  std::thread pacer_;
  std::mutex pacer_mu_;
  std::condition_variable pacer_cv_;
  bool pacer_stop_ = false;
  bool probing_ = false;  // pacer_mu_
  bool quiet_ = false;    // pacer_mu_: the audio probe stops sending (silence suppressed)
  int cycles_done_ = 0;   // pacer_mu_
  std::atomic<bool> observing_{false};
  ProbeTimes audio_probes_;
  ProbeTimes video_probes_;
  Samples audio_samples_;
  Samples video_samples_;
  bool shut_down_ = false;
};

Status Rig::Setup(ClipLibrary& clips) {
  threads_.AddCurrentThread();  // the main thread samples counters in the window
  venue_io_.Start(&threads_, "bench-venues");
  probe_io_.Start(&threads_, "bench-probes");
  for (int k = 0; k < 2; ++k) {
    auto clip = clips.Probe(k == 1);
    if (!clip) return clip.error();
    probe_clips_[k] = *clip;
  }

  mcu::conference::ConferenceConfig config;
  config.id = "bench-mix";
  config.layout = std::string(mcu::media::LayoutName(layout_));
  if (o_.audio_jitter_ticks) {  // a fixed delay, for experiments
    config.audio.adaptive_delay = false;
    config.audio.jitter_delay_ticks = *o_.audio_jitter_ticks;
  }
  if (o_.video_jitter_ms) config.video.jitter_latency_ms = *o_.video_jitter_ms;
  auto conference = mcu::conference::Conference::Create(config, metrics_);
  if (!conference) return conference.error();
  conference_ = std::move(conference.value());
  hub_ = std::make_unique<terminal::media::ReplayHub>();

  for (size_t i = 0; i < static_cast<size_t>(o_.venues); ++i) {
    auto v = std::make_unique<BenchVenue>();
    v->index = i;
    v->id = VenueId(i);
    v->name = VenueName(i);
    v->tier = IsHighTier(i) ? "8m" : "2m";
    v->role = RoleOf(i);
    auto clip = clips.For(i);
    if (!clip) return clip.error();
    v->clip = *clip;
    const bool probe_side = i < 4;
    if (v->role == Role::kObserver) {
      v->observer = std::make_unique<Observer>();
      auto opus = mcu::audio::OpusFrameDecoder::Create(1);
      if (!opus) return opus.error();
      v->observer->opus = std::move(opus.value());
      Observer* obs = v->observer.get();
      auto decoder =
          ProbeDecoder::Create([this, obs](const ProbeFrame& f) { ObserveVideo(*obs, f); });
      if (!decoder) return decoder.error();
      obs->decoder = std::move(decoder.value());
    }

    const auto up = mcu::transport::GenerateSrtpKey(o_.srtp);    // venue -> MCU
    const auto down = mcu::transport::GenerateSrtpKey(o_.srtp);  // MCU -> venue
    mcu::transport::VenueTransportConfig tc;
    tc.name = "bench-" + v->id;
    tc.send_key = up;
    tc.receive_key = down;
    mcu::transport::VenueTransportCallbacks cb;
    BenchVenue* raw = v.get();
    cb.on_rtp = [this, raw](const mcu::rtp::RtpPacket& p, const mcu::transport::RtpArrival& a) {
      OnVenueRtp(*raw, p, a);
    };
    cb.on_keyframe_request = [this, raw](uint32_t) {
      if (raw->sender) {
        hub_->RequestKeyframe(*raw->sender);
      } else {
        raw->keyframe_wanted = true;
      }
    };
    auto transport = mcu::transport::VenueTransport::Create(
        probe_side ? probe_io_.io() : venue_io_.io(), std::move(tc), std::move(cb), metrics_);
    if (!transport) return Error{"setup", "venue " + v->id + ": " + transport.error().message};
    v->transport = std::move(transport.value());

    mcu::conference::SdesEndpoint endpoint;
    endpoint.remote = v->transport->local_endpoint();
    endpoint.send_key = down;
    endpoint.receive_key = up;
    auto info = conference_->AddVenue({v->id, v->name, v->tier, false}, endpoint);
    if (!info) return Error{"setup", "venue " + v->id + ": " + info.error().message};
    if (!info->local) return Error{"setup", "venue " + v->id + ": the MCU gave no address"};
    v->transport->SetRemote(*info->local);
    if (i == 0) {
      if (auto s = conference_->PinSpeaker(v->id); !s) return s.error();
    }
    venues_.push_back(std::move(v));
  }

  // Replay: everyone but the probes' own streams.
  for (auto& v : venues_) {
    if (v->role == Role::kVideoProbe) continue;
    const bool video_only = v->role == Role::kAudioProbe;  // its audio comes from the pacer
    auto transport = v->transport;
    v->sender =
        hub_->AddSender(v->clip, {kVideoPt, kAudioPt, 0, 0},
                        [this, transport, video_only](terminal::media::MediaKind kind,
                                                      std::span<const uint8_t> rtp) {
                          threads_.AddCurrentThread("bench-replay");  // the hub's pacing thread
                          if (video_only && kind == terminal::media::MediaKind::kAudio) return;
                          transport->SendRtp(rtp);
                        });
  }
  StartPacer();
  return Status::Ok();
}

void Rig::OnVenueRtp(BenchVenue& v, const mcu::rtp::RtpPacket& p,
                     const mcu::transport::RtpArrival& a) {
  if (a.kind == mcu::transport::MediaKind::kVideo) {
    v.video_packets.fetch_add(1, std::memory_order_relaxed);
    if (p.marker()) v.video_frames.fetch_add(1, std::memory_order_relaxed);
    if (v.observer && observing_.load(std::memory_order_relaxed))
      v.observer->decoder->Push(p, a.arrival_us);
  } else {
    v.audio_packets.fetch_add(1, std::memory_order_relaxed);
    if (v.observer && observing_.load(std::memory_order_relaxed))
      ObserveAudio(*v.observer, p, a.arrival_us);
  }
}

// Probe io thread: the first received audio frame that carries the probe's tone, per burst.
void Rig::ObserveAudio(Observer& obs, const mcu::rtp::RtpPacket& p, int64_t arrival_us) {
  auto n = obs.opus->Decode(p.payload(), &obs.pcm);
  if (!n || *n <= 0) return;
  const int id = audio_probes_.id();
  if (id <= obs.audio_seen) return;
  const int64_t sent = audio_probes_.time_us(id);
  if (arrival_us < sent) return;
  const double level = mcu::audio::ToneDetector::LevelDbov(obs.pcm, kProbeToneHz);
  if (level < kToneDetectDbov) return;
  obs.audio_seen = id;
  audio_samples_.Add(id, static_cast<double>(arrival_us - sent) / 1000.0);
  log::Debug(
      "bench.mix.audio_probe",
      {{"probe", id}, {"ms", static_cast<double>(arrival_us - sent) / 1000.0}, {"dbov", level}});
}

// Decoder thread: the first decoded frame showing the probe's new colour, dated by its arrival.
void Rig::ObserveVideo(Observer& obs, const ProbeFrame& frame) {
  const int id = video_probes_.id();
  if (id <= obs.video_seen.load() || frame.arrival_us < 0) return;
  const int64_t sent = video_probes_.time_us(id);
  if (frame.arrival_us < sent) return;
  const Rgb target = id % 2 == 1 ? kProbeColorB : kProbeColorA;
  const Rgb seen = frame.Average(obs.sample_x.load() * frame.width / 10000,
                                 obs.sample_y.load() * frame.height / 10000, 8);
  if (terminal::media::ColorDistance(seen, target) > kColorTolerance) return;
  obs.video_seen = id;
  video_samples_.Add(id, static_cast<double>(frame.arrival_us - sent) / 1000.0);
  log::Debug("bench.mix.video_probe",
             {{"probe", id},
              {"ms", static_cast<double>(frame.arrival_us - sent) / 1000.0},
              {"decoded_after_ms", static_cast<double>(NowUs() - sent) / 1000.0},
              {"color", terminal::media::FormatRgb(seen)},
              {"width", frame.width}});
}

void Rig::StartPacer() {
  pacer_ = std::thread([this] { PacerLoop(); });
}

void Rig::StopPacer() {
  {
    std::lock_guard lock(pacer_mu_);
    pacer_stop_ = true;
  }
  pacer_cv_.notify_all();
  if (pacer_.joinable()) pacer_.join();
}

// Venue 0's video (colour A, flipping to B and back each probe cycle) and venue 1's audio, paced
// in real time on one thread. Before the probes venue 1 sends silence like everyone else; while
// probing it talks in bursts with silence suppressed in between (DTX: no packets), so each burst
// is a new talk spurt. Cycles start at random offsets so the probes meet the MCU's 20 ms audio
// tick and 33 ms video frame at every phase.
void Rig::PacerLoop() {
  threads_.AddCurrentThread("bench-pacer");
  BenchVenue& video_venue = *venues_[0];
  BenchVenue& audio_venue = *venues_[1];
  auto encoder = mcu::audio::OpusFrameEncoder::Create(mcu::audio::OpusEncoderOptions{});
  if (!encoder) {
    log::Error("bench.mix.pacer", {{"error", encoder.error().message}});
    return;
  }
  mcu::audio::SineTone tone(kProbeToneHz, kProbeToneDbov);
  std::vector<int16_t> pcm(mcu::audio::kFrameSamples);
  std::vector<uint8_t> opus;
  std::mt19937 rng(20261126);
  std::uniform_int_distribution<int> cycle_jitter_us(0, 40000);
  const uint32_t audio_ssrc = 0x5eed0001, video_ssrc = 0x5eed0002;
  uint16_t audio_seq = 1, video_seq = 1;
  const auto t0 = Clock::now();
  auto ticks = [t0](Clock::time_point t, int64_t rate) {
    return static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t - t0).count() * rate / 1000000);
  };
  const auto never = Clock::time_point::max();
  auto next_audio = t0;
  Clock::time_point tone_end{};
  bool burst_pending = false;
  bool dtx = false;
  int clip_index = 0;
  auto segment = t0;
  size_t cursor = 0;
  bool flip_pending = false;
  std::optional<Clock::time_point> next_cycle;

  std::unique_lock lock(pacer_mu_);
  while (!pacer_stop_) {
    const auto now = Clock::now();
    if (probing_ && cycles_done_ < o_.probes && (!next_cycle || now >= *next_cycle)) {
      clip_index ^= 1;  // the other colour, from its first frame (a keyframe)
      segment = now;
      cursor = 0;
      flip_pending = true;
      dtx = true;
      burst_pending = true;
      next_audio = now;
      next_cycle = now + kProbeCycle + std::chrono::microseconds(cycle_jitter_us(rng));
      cycles_done_++;
    }
    if (quiet_ && !dtx) {
      dtx = true;
      next_audio = never;
    }
    lock.unlock();
    // Audio: 20 ms frames (catching up if late).
    while (next_audio <= now) {
      const bool first = burst_pending;
      if (burst_pending) {
        burst_pending = false;
        tone_end = next_audio + kToneLength;
      }
      const bool tone_on = next_audio < tone_end;
      if (dtx && !tone_on) {  // silence suppressed until the next burst
        next_audio = never;
        break;
      }
      if (tone_on)
        tone.Fill(pcm);
      else
        std::fill(pcm.begin(), pcm.end(), 0);
      if (encoder->Encode(pcm, &opus)) {
        mcu::rtp::RtpHeader h;
        h.payload_type = kAudioPt;
        h.marker = first;  // the start of a talk spurt (RFC 3551)
        h.sequence_number = audio_seq++;
        h.timestamp = 0x1000 + ticks(next_audio, mcu::audio::kSampleRate);
        h.ssrc = audio_ssrc;
        auto packet = mcu::rtp::BuildRtpPacket(h, opus);
        if (first) audio_probes_.Publish(NowUs());  // the burst's first frame leaves now
        audio_venue.transport->SendRtp(std::move(packet));
      }
      next_audio += kAudioFrame;
    }
    // Video: the current clip's packets that are due.
    if (video_venue.keyframe_wanted.exchange(false)) {
      segment = now;  // restart the clip: it starts with a keyframe
      cursor = 0;
    }
    const EncodedClip& clip = *probe_clips_[clip_index];
    auto due = [&] {
      return segment + std::chrono::microseconds(clip.packets()[cursor].offset_us);
    };
    while (due() <= now) {
      std::vector<uint8_t> packet = clip.packets()[cursor].rtp;
      mcu::rtp::RewriteRtpHeader(
          packet, {kVideoPt, std::nullopt, video_seq++, 0x2000 + ticks(due(), 90000), video_ssrc});
      if (flip_pending) {
        flip_pending = false;
        video_probes_.Publish(NowUs());  // the new colour's keyframe leaves now
      }
      video_venue.transport->SendRtp(std::move(packet));
      if (++cursor == clip.packets().size()) {
        cursor = 0;
        segment += std::chrono::microseconds(clip.duration_us());
      }
    }
    auto wake = std::min(next_audio, due());
    lock.lock();
    if (probing_ && cycles_done_ < o_.probes && next_cycle) wake = std::min(wake, *next_cycle);
    pacer_cv_.wait_until(lock, wake);
  }
}

Status Rig::WaitForMedia() {
  const auto deadline = Clock::now() + 30s;
  for (;;) {
    size_t ready = 0;
    for (const auto& v : venues_)
      if (v->video_frames.load() >= 15 && v->audio_packets.load() >= 25) ready++;
    if (ready == venues_.size()) break;
    if (Clock::now() > deadline) {
      if (ready == 0) return Error{"no_media", "no venue received the mix within 30 s"};
      log::Warn("bench.mix.warmup", {{"ready", ready}, {"venues", venues_.size()}});
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o_.warmup_seconds));
  return Status::Ok();
}

void Rig::Measure(MixBenchReport* r) {
  const size_t n = venues_.size();
  auto snapshot_frames = [&] {
    std::vector<uint64_t> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = venues_[i]->video_frames.load();
    return out;
  };
  const auto stats0 = conference_->Stats();
  std::vector<uint64_t> audio0(n);
  for (size_t i = 0; i < n; ++i) audio0[i] = venues_[i]->audio_packets.load();
  auto frames0 = snapshot_frames();
  r->load_before = LoadAverage();
  const auto threads0 = SampleThreads();
  const double bench0 = threads_.CpuSeconds();
  const double cpu0 = ProcessCpuSeconds();
  const auto t0 = Clock::now();

  // Whole seconds, sampled for the worst second of each venue.
  std::vector<double> worst_second(n, 1e9);
  auto previous = frames0;
  auto tick = t0;
  const auto end =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.seconds));
  while (tick + 1s <= end) {
    tick += 1s;
    std::this_thread::sleep_until(tick);
    auto now_frames = snapshot_frames();
    for (size_t i = 0; i < n; ++i)
      worst_second[i] = std::min(worst_second[i], static_cast<double>(now_frames[i] - previous[i]));
    previous = std::move(now_frames);
  }
  std::this_thread::sleep_until(end);

  const double cpu = ProcessCpuSeconds() - cpu0;
  const double bench = threads_.CpuSeconds() - bench0;
  const double wall = Seconds(Clock::now() - t0);
  const auto threads1 = SampleThreads();
  const auto frames1 = snapshot_frames();
  std::vector<uint64_t> audio1(n);
  for (size_t i = 0; i < n; ++i) audio1[i] = venues_[i]->audio_packets.load();
  const auto stats1 = conference_->Stats();

  r->window_seconds = wall;
  r->load_after = LoadAverage();
  r->process_cpu_cores = cpu / wall;
  r->venue_side_cpu_cores = bench / wall;
  r->cpu_cores = std::max(0.0, cpu - bench) / wall;
  r->output_fps_min = 1e9;
  r->output_fps_min_1s = 1e9;
  r->audio_pps_min = 1e9;
  std::map<std::string, double> tier_min;
  for (size_t i = 0; i < n; ++i) {
    const double fps = static_cast<double>(frames1[i] - frames0[i]) / wall;
    r->output_fps_min = std::min(r->output_fps_min, fps);
    r->output_fps_min_1s = std::min(r->output_fps_min_1s, worst_second[i]);
    r->audio_pps_min =
        std::min(r->audio_pps_min, static_cast<double>(audio1[i] - audio0[i]) / wall);
    auto [m, fresh] = tier_min.try_emplace(venues_[i]->tier, fps);
    if (!fresh) m->second = std::min(m->second, fps);
  }
  if (r->output_fps_min_1s > 1e8) r->output_fps_min_1s = r->output_fps_min;
  // 30 fps sustained: every venue got at least 29 frames a second over the window (frame counting
  // at the window's edges costs up to one frame) and at least 27 in each of its whole seconds, and
  // audio for (nearly) every 20 ms tick.
  r->realtime =
      r->output_fps_min >= 29.0 && r->output_fps_min_1s >= 27.0 && r->audio_pps_min >= 48.0;
  r->decoders = static_cast<size_t>(stats1.active_decoders);
  r->encoders = stats1.video_encoders;
  r->audio_encoders = stats1.audio_encoders;
  r->dropped_packets = stats1.dropped_packets;
  const mcu::media::VideoMixerConfig defaults;
  const auto& tiers = defaults.tiers;
  for (size_t t = 0; t < stats1.video.tiers.size(); ++t) {
    TierFigures f;
    const auto& s1 = stats1.video.tiers[t];
    f.name = s1.name;
    f.width = s1.width;
    f.height = s1.height;
    if (t < tiers.size()) f.bitrate_kbps = tiers[t].bitrate_kbps;
    for (const auto& v : venues_)
      if (v->tier == f.name) f.receivers++;
    const uint64_t before =
        t < stats0.video.tiers.size() ? stats0.video.tiers[t].frames_encoded : 0;
    f.encoded_fps = static_cast<double>(s1.frames_encoded - before) / wall;
    f.received_fps_min = tier_min.count(f.name) ? tier_min[f.name] : 0;
    r->tiers.push_back(f);
  }
  for (const auto& v : venues_) {
    if (IsHighTier(v->index) && v->role != Role::kVideoProbe)
      r->inputs_720p++;
    else
      r->inputs_360p++;
  }
  r->profile = GroupThreadCost(threads0, threads1, wall, threads_.tids());
  if (r->profile.size() > 12) r->profile.resize(12);
}

Status Rig::MeasureLatency(MixBenchReport* r) {
  // Where the probe's tile is (it is pinned to the large pane), as a fraction of the picture.
  const auto placements = conference_->Placements();
  std::optional<mcu::media::Rect> rect;
  for (const auto& p : placements)
    if (p.venue == venues_[0]->id) rect = p.rect;
  if (!rect) return Error{"setup", "the video probe venue is not on screen"};
  const mcu::media::VideoMixerConfig video;
  const int fx = (rect->x + rect->width / 2) * 10000 / video.canvas_width;
  const int fy = (rect->y + rect->height / 2) * 10000 / video.canvas_height;
  std::vector<Observer*> observers;
  for (auto& v : venues_) {
    if (!v->observer) continue;
    v->observer->sample_x = fx;
    v->observer->sample_y = fy;
    observers.push_back(v->observer.get());
  }
  // Silence (no packets) from the audio probe well before its first burst, so that burst is a
  // talk spurt after silence like the others.
  {
    std::lock_guard lock(pacer_mu_);
    quiet_ = true;
  }
  pacer_cv_.notify_all();
  const auto quiet_since = Clock::now();
  observing_ = true;
  // The observers' decoders start now: ask the MCU for a keyframe of each tier they receive.
  for (auto& v : venues_)
    if (v->observer) v->transport->RequestKeyframe(0);
  const auto deadline = Clock::now() + 10s;
  for (Observer* obs : observers) {
    while (obs->decoder->frames() < 5 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
    if (obs->decoder->frames() < 5) return Error{"no_media", "an observer decoded no video"};
  }
  std::this_thread::sleep_until(quiet_since + 500ms);
  {
    std::lock_guard lock(pacer_mu_);
    probing_ = true;
  }
  pacer_cv_.notify_all();
  // Every cycle, then time for the last probe to come through.
  std::this_thread::sleep_for(kProbeCycle * o_.probes + 1s);
  observing_ = false;
  {
    std::lock_guard lock(pacer_mu_);
    probing_ = false;
  }
  auto fill = [&](Samples& s, LatencyFigures* f) {
    std::lock_guard lock(s.mu);
    f->samples = s.ms.size();
    f->expected = static_cast<size_t>(o_.probes) * observers.size();
    f->p50_ms = Percentile(s.ms, 50);
    f->p95_ms = Percentile(s.ms, 95);
    f->max_ms = s.ms.empty() ? 0 : *std::max_element(s.ms.begin(), s.ms.end());
    f->first_ms = s.first.empty() ? -1 : *std::max_element(s.first.begin(), s.first.end());
  };
  fill(audio_samples_, &r->audio_latency);
  fill(video_samples_, &r->video_latency);
  return Status::Ok();
}

void Rig::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  StopPacer();
  hub_.reset();  // no replay callback after this
  conference_.reset();
  for (auto& v : venues_)
    if (v->transport) v->transport->Close();
  venue_io_.Stop();
  probe_io_.Stop();
  for (auto& v : venues_) {
    v->transport.reset();
    if (v->observer) v->observer->decoder.reset();
  }
}

}  // namespace

Result<MixBenchReport> RunMixBench(const MixBenchOptions& o) {
  if (o.venues < 4 || o.venues > 128)
    return Error{"bad_config", "--venues must be 4..128 (venues 0-3 are the latency probes)"};
  auto layout = LayoutForVisible(o.visible);
  if (!layout) return layout.error();
  if (!(o.seconds >= 1 && o.seconds <= 3600))
    return Error{"bad_config", "--seconds must be 1..3600"};
  if (o.probes < 1 || o.probes > 1000) return Error{"bad_config", "--probes must be 1..1000"};
  if (o.baseline_decoder != "openh264dec" && o.baseline_decoder != "avdec_h264")
    return Error{"bad_config", "--baseline-decoder must be openh264dec or avdec_h264"};

  MixBenchReport report;
  report.options = o;
  const auto started = Clock::now();
  ClipLibrary clips(o.clip_seconds);
  for (size_t i = 0; i < static_cast<size_t>(o.venues); ++i)
    if (auto c = clips.For(i); !c) return c.error();
  log::Info("bench.mix.clips",
            {{"clips", clips.size()}, {"seconds", Seconds(Clock::now() - started)}});

  if (o.baseline) {
    BaselineConfig bc;
    bc.layout = *layout;
    bc.tiers = mcu::media::VideoMixerConfig{}.tiers;
    bc.media_seconds = o.baseline_seconds;
    bc.decoder = o.baseline_decoder;
    for (size_t i = 0; i < static_cast<size_t>(o.venues); ++i) {
      BaselineVenue v;
      auto clip = clips.For(i);
      if (!clip) return clip.error();
      v.clip = *clip;
      v.name = VenueName(i);
      v.tier = IsHighTier(i) ? 0 : 1;
      if (i < static_cast<size_t>(o.visible)) v.tile = i;
      bc.venues.push_back(std::move(v));
    }
    auto figures = RunStockBaseline(bc);
    if (!figures) return figures.error();
    report.baseline = *figures;
  }

  {
    Rig rig(o, *layout);
    if (auto s = rig.Setup(clips); !s) return s.error();
    if (auto s = rig.WaitForMedia(); !s) return s.error();
    rig.Measure(&report);
    if (auto s = rig.MeasureLatency(&report); !s) return s.error();
  }
  if (report.baseline && report.cpu_cores > 0)
    report.ratio = report.baseline->cpu_cores / report.cpu_cores;
  return report;
}

double ResidentMb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kb = 0;
      in >> kb;
      return kb / 1024.0;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

double HeapInUseMb() {
  const struct mallinfo2 m = mallinfo2();  // sums every arena
  return static_cast<double>(m.uordblks + m.hblkhd) / (1024.0 * 1024.0);
}

Result<SoakReport> RunMixSoak(const SoakOptions& s,
                              const std::function<void(const SoakSample&)>& on_sample) {
  if (s.venues < 4 || s.venues > 128)
    return Error{"bad_config", "--venues must be 4..128 (venues 0-3 are the latency probes)"};
  auto layout = LayoutForVisible(s.visible);
  if (!layout) return layout.error();
  if (!(s.seconds >= 1 && s.seconds <= 7 * 24 * 3600))
    return Error{"bad_config", "--minutes must be at most a week"};
  if (!(s.warmup_seconds >= 0 && s.warmup_seconds <= 3600))
    return Error{"bad_config", "--warmup-seconds must be 0..3600"};
  if (!(s.sample_seconds >= 1 && s.sample_seconds <= 3600))
    return Error{"bad_config", "--sample-seconds must be 1..3600"};

  // The bench mix rig: its venues, replay and (idle) probe pacer, without baseline or probes.
  MixBenchOptions o;
  o.venues = s.venues;
  o.visible = s.visible;
  o.warmup_seconds = s.warmup_seconds;
  o.probes = 1;
  o.baseline = false;
  o.clip_seconds = s.clip_seconds;
  o.srtp = s.srtp;
  ClipLibrary clips(s.clip_seconds);
  for (size_t i = 0; i < static_cast<size_t>(s.venues); ++i)
    if (auto c = clips.For(i); !c) return c.error();

  SoakReport report;
  report.options = s;
  report.realtime = true;
  Rig rig(o, *layout);
  if (auto st = rig.Setup(clips); !st) return st.error();
  if (auto st = rig.WaitForMedia(); !st) return st.error();
  auto sample = [&](double at, const MixBenchReport* window) {
    SoakSample x;
    x.seconds = at;
    x.rss_mb = ResidentMb();
    x.heap_mb = HeapInUseMb();
    if (window) {
      x.cpu_cores = window->cpu_cores;
      x.output_fps_min = window->output_fps_min;
      x.realtime = window->realtime;
      report.realtime = report.realtime && window->realtime;
    }
    report.samples.push_back(x);
    if (on_sample) on_sample(x);
    return x;
  };
  const SoakSample first = sample(0, nullptr);
  report.warmup_rss_mb = first.rss_mb;
  report.warmup_heap_mb = first.heap_mb;
  double done = 0;
  while (done < s.seconds) {
    o.seconds = std::min(s.sample_seconds, s.seconds - done);  // the rig reads it per window
    MixBenchReport window;
    rig.Measure(&window);
    done += o.seconds;
    sample(done, &window);
  }
  const SoakSample& last = report.samples.back();
  report.end_rss_mb = last.rss_mb;
  report.end_heap_mb = last.heap_mb;
  report.growth_mb = report.end_rss_mb - report.warmup_rss_mb;
  report.passed = report.growth_mb < s.max_growth_mb;
  return report;
}

}  // namespace plateau::bench
