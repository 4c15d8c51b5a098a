// CPU of the video mixer with N venues replaying pre-encoded H.264 (generated here, in memory),
// against the same mixer composing an empty canvas in the same run. Prints one JSON object:
//   {"venues","visible","input","canvas","tiers","seconds","cpu_cores","idle_cpu_cores",
//    "ratio_to_idle","decoders","output_fps_min","composed_fps"}
// Usage: video_mixer_cpu [--venues N] [--visible 16] [--input 640x360] [--canvas 1280x720]
//                        [--tiers 8m:1280x720:1800,2m:640x360:1100] [--seconds S]
//                        [--pattern solid|ball|smpte|snow|...]  (videotestsrc pattern; "solid" =
//                        a colour per venue; every clip also carries a running clock)
// The replay senders run in the same process; their cost (a copy per packet) is included.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "plateau/mcu/media/video_mixer.hpp"
#include "plateau/terminal/media/replay.hpp"

using namespace plateau::mcu;
namespace terminal = plateau::terminal;
using Clock = std::chrono::steady_clock;

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

bool ParseSize(const std::string& text, int* w, int* h) {
  return std::sscanf(text.c_str(), "%dx%d", w, h) == 2 && *w > 0 && *h > 0;
}

struct Measure {
  double cpu_cores = 0;
  double output_fps_min = 0;
  double composed_fps = 0;
  size_t decoders = 0;
};

Measure Run(media::VideoMixer& mixer, double seconds) {
  const auto s0 = mixer.Stats();
  const double c0 = CpuSeconds();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = CpuSeconds() - c0;
  const auto s1 = mixer.Stats();
  Measure m;
  m.cpu_cores = cpu / wall;
  m.composed_fps = static_cast<double>(s1.frames_composed - s0.frames_composed) / wall;
  m.output_fps_min = 1e9;
  for (size_t i = 0; i < s1.tiers.size(); ++i)
    m.output_fps_min = std::min(
        m.output_fps_min,
        static_cast<double>(s1.tiers[i].frames_encoded - s0.tiers[i].frames_encoded) / wall);
  m.decoders = s1.active_decoders;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int venues = 20;
  int visible = 16;
  std::string input = "640x360";
  std::string canvas = "1280x720";
  std::string tiers = "8m:1280x720:1800,2m:640x360:1100";
  double seconds = 10;
  std::string pattern = "solid";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--venues")
      venues = std::atoi(v.c_str());
    else if (k == "--visible")
      visible = std::atoi(v.c_str());
    else if (k == "--input")
      input = v;
    else if (k == "--canvas")
      canvas = v;
    else if (k == "--tiers")
      tiers = v;
    else if (k == "--seconds")
      seconds = std::atof(v.c_str());
    else if (k == "--pattern")
      pattern = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  media::VideoMixerConfig config;
  int in_w = 0, in_h = 0;
  if (!ParseSize(input, &in_w, &in_h) ||
      !ParseSize(canvas, &config.canvas_width, &config.canvas_height) || venues < 1 ||
      visible < 1 || visible > 16 || seconds <= 0) {
    std::fprintf(stderr, "bad sizes, --venues >= 1, --visible 1..16, --seconds > 0\n");
    return 2;
  }
  config.tiers.clear();
  std::stringstream ss(tiers);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char name[32] = {};
    media::TierConfig t;
    if (std::sscanf(item.c_str(), "%31[^:]:%dx%d:%d", name, &t.width, &t.height, &t.bitrate_kbps) !=
        4) {
      std::fprintf(stderr, "bad tier %s (NAME:WxH:KBPS)\n", item.c_str());
      return 2;
    }
    t.name = name;
    config.tiers.push_back(t);
  }

  // Same-run reference: the mixer composing and encoding an empty canvas.
  Measure idle;
  {
    auto mixer = media::VideoMixer::Create(config, {});
    if (!mixer.ok()) {
      std::fprintf(stderr, "%s\n", mixer.error().message.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    idle = Run(**mixer, seconds / 2);
  }

  // Eight distinct clips shared by all venues (like a real conference, each venue one stream).
  std::vector<std::shared_ptr<const terminal::media::EncodedClip>> clips;
  for (int i = 0; i < std::min(venues, 8); ++i) {
    terminal::media::ClipConfig c;
    c.color =
        terminal::media::Rgb{static_cast<uint8_t>(40 + 25 * i), static_cast<uint8_t>(200 - 20 * i),
                             static_cast<uint8_t>(90 + 15 * i)};
    if (pattern != "solid") c.pattern = pattern;
    c.width = in_w;
    c.height = in_h;
    c.clock = true;  // every frame differs, as with a camera
    c.seconds = 4;
    c.gop_frames = 60;
    c.video_kbps = in_w >= 1280 ? 1800 : 800;
    c.audio = false;
    auto clip = terminal::media::EncodedClip::Generate(c);
    if (!clip.ok()) {
      std::fprintf(stderr, "%s\n", clip.error().message.c_str());
      return 1;
    }
    clips.push_back(*clip);
  }
  auto created = media::VideoMixer::Create(config, {});
  if (!created.ok()) return 1;
  auto& mixer = **created;
  mixer.SetLayout(media::AutoLayoutFor(static_cast<size_t>(visible)));
  terminal::media::ReplayHub hub;
  std::vector<terminal::media::ReplayHub::SenderId> ids;
  for (int i = 0; i < venues; ++i) {
    const std::string id = "v" + std::to_string(i);
    (void)mixer.AddVenue(id, "会场" + std::to_string(i + 1));
    ids.push_back(
        hub.AddSender(clips[static_cast<size_t>(i) % clips.size()], {},
                      [&mixer, id](terminal::media::MediaKind kind, std::span<const uint8_t> rtp) {
                        if (kind == terminal::media::MediaKind::kVideo) mixer.PushVideoRtp(id, rtp);
                      }));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const Measure m = Run(mixer, seconds);
  for (auto id : ids) hub.RemoveSender(id);

  nlohmann::json out = {{"venues", venues},
                        {"visible", visible},
                        {"input", input},
                        {"canvas", canvas},
                        {"tiers", tiers},
                        {"seconds", seconds},
                        {"pattern", pattern},
                        {"cpu_cores", m.cpu_cores},
                        {"idle_cpu_cores", idle.cpu_cores},
                        {"ratio_to_idle", idle.cpu_cores > 0 ? m.cpu_cores / idle.cpu_cores : 0},
                        {"decoders", m.decoders},
                        {"output_fps_min", m.output_fps_min},
                        {"composed_fps", m.composed_fps}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
