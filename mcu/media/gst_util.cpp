#include "plateau/mcu/media/gst_util.hpp"

#include <cstring>
#include <mutex>
#include <string_view>

#include "plateau/common/log.hpp"

namespace plateau::mcu::media {
namespace {

std::string_view PackageFor(std::string_view factory) {
  if (factory == "avdec_h264") return "gstreamer1.0-libav";
  if (factory == "textoverlay" || factory == "clockoverlay") return "gstreamer1.0-x";
  if (factory.starts_with("openh264") || factory == "h264parse") return "gstreamer1.0-plugins-bad";
  if (factory.starts_with("rtp") || factory == "rtpjitterbuffer")
    return "gstreamer1.0-plugins-good";
  return "gstreamer1.0-plugins-base";
}

}  // namespace

void EnsureGstInit() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

OwnedPipeline::OwnedPipeline(const std::string& name) : pipeline_(gst_pipeline_new(name.c_str())) {
  gst_object_ref_sink(pipeline_);
}

OwnedPipeline::~OwnedPipeline() {
  Stop();
  GstBus* bus = gst_element_get_bus(pipeline_);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  gst_object_unref(pipeline_);
}

Status OwnedPipeline::Play(const std::string& log_prefix) {
  log_prefix_ = log_prefix;
  GstBus* bus = gst_element_get_bus(pipeline_);
  gst_bus_set_sync_handler(bus, &OwnedPipeline::OnBusMessage, this, nullptr);
  gst_object_unref(bus);
  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    return Error{"gstreamer", "the " + log_prefix + " pipeline failed to start (see the log)"};
  }
  return Status::Ok();
}

bool OwnedPipeline::WaitForEos(std::chrono::milliseconds timeout) {
  std::unique_lock lock(wait_mu_);
  wait_cv_.wait_for(lock, timeout, [this] { return eos_.load() || errors_.load() > 0; });
  return eos_.load();
}

void OwnedPipeline::Stop() {
  gst_element_set_state(pipeline_, GST_STATE_NULL);
}

uint64_t OwnedPipeline::RunningTimeNs() const {
  GstClock* clock = gst_element_get_clock(pipeline_);
  if (!clock) return 0;
  const GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  const GstClockTime base = gst_element_get_base_time(pipeline_);
  return now > base ? now - base : 0;
}

GstBusSyncReply OwnedPipeline::OnBusMessage(GstBus*, GstMessage* message, gpointer self_ptr) {
  auto* self = static_cast<OwnedPipeline*>(self_ptr);
  const GstMessageType type = GST_MESSAGE_TYPE(message);
  if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    if (type == GST_MESSAGE_ERROR) {
      gst_message_parse_error(message, &error, &debug);
      self->errors_++;
    } else {
      gst_message_parse_warning(message, &error, &debug);
    }
    const char* source = GST_MESSAGE_SRC_NAME(message);
    nlohmann::json fields = {{"element", source ? source : ""},
                             {"message", error ? error->message : ""},
                             {"debug", debug ? debug : ""}};
    if (type == GST_MESSAGE_ERROR)
      log::Error(self->log_prefix_ + ".error", fields);
    else
      log::Warn(self->log_prefix_ + ".warning", fields);
    if (error) g_error_free(error);
    g_free(debug);
  }
  if (type == GST_MESSAGE_EOS || type == GST_MESSAGE_ERROR) {
    {
      std::lock_guard lock(self->wait_mu_);
      if (type == GST_MESSAGE_EOS) self->eos_ = true;
    }
    self->wait_cv_.notify_all();
  }
  return GST_BUS_DROP;
}

Result<GstElement*> AddElement(GstBin* bin, const char* factory, const std::string& name) {
  GstElement* element = gst_element_factory_make(factory, name.c_str());
  if (!element) {
    return Error{"gstreamer", std::string("GStreamer element \"") + factory +
                                  "\" is missing; install the Debian package " +
                                  std::string(PackageFor(factory))};
  }
  gst_bin_add(bin, element);
  return element;
}

Status LinkChain(std::initializer_list<GstElement*> elements) {
  GstElement* previous = nullptr;
  for (GstElement* e : elements) {
    if (previous && !gst_element_link(previous, e)) {
      return Error{"gstreamer", std::string("cannot link ") + GST_ELEMENT_NAME(previous) + " to " +
                                    GST_ELEMENT_NAME(e)};
    }
    previous = e;
  }
  return Status::Ok();
}

GstCapsPtr CapsFromString(const std::string& text) {
  return GstCapsPtr(gst_caps_from_string(text.c_str()));
}

}  // namespace plateau::mcu::media
