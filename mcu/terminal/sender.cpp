#include "plateau/mcu/terminal/sender.hpp"

#include <atomic>
#include <filesystem>

#include "encode_chain.hpp"
#include "plateau/common/log.hpp"
#include "plateau/mcu/media/gst_util.hpp"
#include "plateau/mcu/rtp/h264.hpp"
#include "plateau/mcu/rtp/packet.hpp"

namespace plateau::mcu::terminal {

struct TerminalSender::Impl {
  SenderConfig config;
  PacketCallback on_packet;
  media::OwnedPipeline pipeline{"terminal-sender"};
  detail::Branch video;
  detail::Branch audio;
  uint32_t video_ssrc = 0;
  uint32_t audio_ssrc = 0;
  std::atomic<uint64_t> video_packets{0}, video_bytes{0}, video_frames{0}, keyframes{0};
  std::atomic<uint64_t> audio_packets{0}, audio_bytes{0};
  // Video streaming thread only.
  bool have_keyframe_ts = false;
  uint32_t last_keyframe_ts = 0;

  void OnVideo(std::span<const uint8_t> rtp) {
    video_packets++;
    video_bytes += rtp.size();
    if (auto p = rtp::RtpPacket::Parse(rtp)) {
      if (p->marker()) video_frames++;
      if (rtp::IsH264KeyframeStart(p->payload()) &&
          (!have_keyframe_ts || last_keyframe_ts != p->timestamp())) {
        have_keyframe_ts = true;
        last_keyframe_ts = p->timestamp();
        keyframes++;
      }
    }
    if (on_packet) on_packet(MediaKind::kVideo, rtp);
  }
  void OnAudio(std::span<const uint8_t> rtp) {
    audio_packets++;
    audio_bytes += rtp.size();
    if (on_packet) on_packet(MediaKind::kAudio, rtp);
  }

  static void OnPadAdded(GstElement*, GstPad* pad, gpointer user) {
    auto* self = static_cast<Impl*>(user);
    media::GstCapsPtr caps(gst_pad_get_current_caps(pad));
    if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
    const GstStructure* s = caps ? gst_caps_get_structure(caps.get(), 0) : nullptr;
    const char* name = s ? gst_structure_get_name(s) : "";
    GstElement* target = nullptr;
    if (g_str_has_prefix(name, "video/")) target = self->video.first;
    if (g_str_has_prefix(name, "audio/")) target = self->audio.first;
    if (!target) return;
    GstPad* sink = gst_element_get_static_pad(target, "sink");
    if (!gst_pad_is_linked(sink) && gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
      log::Warn("terminal.sender.link_failed", {{"caps", name}});
    gst_object_unref(sink);
  }
};

TerminalSender::TerminalSender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TerminalSender::~TerminalSender() {
  if (impl_) impl_->pipeline.Stop();
}

Result<std::unique_ptr<TerminalSender>> TerminalSender::Create(const SenderConfig& config,
                                                               PacketCallback on_packet) {
  auto bad = [](const std::string& m) { return Error{"bad_config", m}; };
  if (config.width < 16 || config.height < 16 || config.width % 2 || config.height % 2 ||
      config.width > 3840 || config.height > 2160)
    return bad("video size must be even, between 16x16 and 3840x2160");
  if (config.fps < 1 || config.fps > 60) return bad("fps must be 1..60");
  if (config.video_kbps < 32 || config.video_kbps > 20000)
    return bad("video bitrate 32..20000 kbit/s");
  if (config.audio_kbps < 6 || config.audio_kbps > 510) return bad("audio bitrate 6..510 kbit/s");
  if (config.tone_hz < 0 || config.tone_hz > 20000) return bad("tone must be 0..20000 Hz");
  if (config.gop_frames < 1 || config.mtu < 200 || config.mtu > 1460)
    return bad("gop >= 1, mtu 200..1460");
  if (config.ids.video_payload_type > 127 || config.ids.audio_payload_type > 127 ||
      config.ids.video_payload_type == config.ids.audio_payload_type)
    return bad("payload types must be distinct, 0..127");
  const bool from_file = !config.file.empty();
  if (from_file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(config.file, ec))
      return Error{"bad_file", "media file " + config.file + " does not exist or is not a file"};
  }

  media::EnsureGstInit();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->on_packet = std::move(on_packet);
  impl->video_ssrc = config.ids.video_ssrc ? config.ids.video_ssrc : detail::RandomSsrc();
  impl->audio_ssrc = config.ids.audio_ssrc ? config.ids.audio_ssrc : detail::RandomSsrc();
  Impl* raw = impl.get();

  detail::VideoBranchConfig v;
  v.live = !from_file;
  v.sync = from_file;
  v.color = config.color;
  v.pattern = config.pattern;
  v.clock = config.clock;
  v.width = config.width;
  v.height = config.height;
  v.fps = config.fps;
  v.kbps = config.video_kbps;
  v.gop_frames = config.gop_frames;
  v.mtu = config.mtu;
  v.payload_type = config.ids.video_payload_type;
  v.ssrc = impl->video_ssrc;
  auto video =
      detail::AddVideoBranch(impl->pipeline.bin(), v, !from_file,
                             [raw](std::span<const uint8_t> rtp, int64_t) { raw->OnVideo(rtp); });
  if (!video) return video.error();
  impl->video = *video;
  if (config.audio) {
    detail::AudioBranchConfig a;
    a.live = !from_file;
    a.sync = from_file;
    a.tone_hz = config.tone_hz;
    a.volume = config.tone_volume;
    a.kbps = config.audio_kbps;
    a.payload_type = config.ids.audio_payload_type;
    a.ssrc = impl->audio_ssrc;
    auto audio =
        detail::AddAudioBranch(impl->pipeline.bin(), a, !from_file,
                               [raw](std::span<const uint8_t> rtp, int64_t) { raw->OnAudio(rtp); });
    if (!audio) return audio.error();
    impl->audio = *audio;
  }
  if (from_file) {
    auto src = media::AddElement(impl->pipeline.bin(), "filesrc", "file");
    auto decode = media::AddElement(impl->pipeline.bin(), "decodebin", "decode");
    if (!src) return src.error();
    if (!decode) return decode.error();
    g_object_set(*src, "location", config.file.c_str(), nullptr);
    if (auto s = media::LinkChain({*src, *decode}); !s) return s.error();
    g_signal_connect(*decode, "pad-added", G_CALLBACK(&Impl::OnPadAdded), raw);
  }
  if (auto s = impl->pipeline.Play("terminal.sender"); !s) return s.error();
  return std::unique_ptr<TerminalSender>(new TerminalSender(std::move(impl)));
}

void TerminalSender::RequestKeyframe() {
  detail::ForceKeyframe(impl_->video.encoder);
}

SenderStats TerminalSender::Stats() const {
  SenderStats s;
  s.video_packets = impl_->video_packets.load();
  s.video_bytes = impl_->video_bytes.load();
  s.video_frames = impl_->video_frames.load();
  s.keyframes = impl_->keyframes.load();
  s.audio_packets = impl_->audio_packets.load();
  s.audio_bytes = impl_->audio_bytes.load();
  s.ended = impl_->pipeline.eos();
  return s;
}

uint32_t TerminalSender::video_ssrc() const {
  return impl_->video_ssrc;
}
uint32_t TerminalSender::audio_ssrc() const {
  return impl_->audio_ssrc;
}

}  // namespace plateau::mcu::terminal
