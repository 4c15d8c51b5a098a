// Small GStreamer helpers shared by mcu/media and terminal/media: one-time initialisation, RAII
// handles, element creation with an error that names the Debian package to install, and the
// bus watcher that logs pipeline errors through plateau::log.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "plateau/common/result.hpp"

namespace plateau::mcu::media {

// gst_init once per process (thread-safe).
void EnsureGstInit();

struct GstObjectUnref {
  void operator()(gpointer object) const {
    if (object) gst_object_unref(object);
  }
};
template <typename T>
using GstObjectPtr = std::unique_ptr<T, GstObjectUnref>;

struct GstCapsUnref {
  void operator()(GstCaps* caps) const {
    if (caps) gst_caps_unref(caps);
  }
};
using GstCapsPtr = std::unique_ptr<GstCaps, GstCapsUnref>;

struct GstSampleUnref {
  void operator()(GstSample* sample) const {
    if (sample) gst_sample_unref(sample);
  }
};
using GstSamplePtr = std::unique_ptr<GstSample, GstSampleUnref>;

// A pipeline owned for its whole life: set to NULL (joining every streaming thread) and unreffed
// on destruction.
class OwnedPipeline {
 public:
  explicit OwnedPipeline(const std::string& name);
  ~OwnedPipeline();
  OwnedPipeline(const OwnedPipeline&) = delete;
  OwnedPipeline& operator=(const OwnedPipeline&) = delete;

  GstElement* get() const { return pipeline_; }
  GstBin* bin() const { return GST_BIN(pipeline_); }
  // Error messages and warnings on the bus are logged (event "<log_prefix>.error") and counted.
  Status Play(const std::string& log_prefix);
  void Stop();  // to NULL; idempotent
  uint64_t errors() const { return errors_.load(); }
  bool eos() const { return eos_.load(); }  // an EOS message reached the bus
  // Waits for EOS or an error message; true on EOS.
  bool WaitForEos(std::chrono::milliseconds timeout);
  // The pipeline's current running time (ns), or 0 before it runs.
  uint64_t RunningTimeNs() const;

 private:
  static GstBusSyncReply OnBusMessage(GstBus* bus, GstMessage* message, gpointer self);
  GstElement* pipeline_;
  std::string log_prefix_;
  std::atomic<uint64_t> errors_{0};
  std::atomic<bool> eos_{false};
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
};

// Creates `factory` named `name` and adds it to `bin`. Error "gstreamer" naming the Debian package
// that ships the element when it is missing.
Result<GstElement*> AddElement(GstBin* bin, const char* factory, const std::string& name);
// Links a chain of elements; error "gstreamer" naming the pair that does not link.
Status LinkChain(std::initializer_list<GstElement*> elements);
GstCapsPtr CapsFromString(const std::string& text);

}  // namespace plateau::mcu::media
