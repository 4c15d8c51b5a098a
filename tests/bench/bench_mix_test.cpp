// `plateau bench mix` end to end on a small conference: the JSON it prints has the documented
// shape and its figures are sane. Speed is the benchmark's business, not this test's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/process.hpp"

namespace plateau::testing {
namespace {

using nlohmann::json;

TEST(BenchMix, FourVenuesPrintTheDocumentedFigures) {
  const auto run =
      RunCommand({PlateauBinary(), "bench", "mix", "--venues", "4", "--visible", "4", "--seconds",
                  "3", "--probes", "4", "--baseline-seconds", "1", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json j;
  ASSERT_NO_THROW(j = json::parse(run.out)) << run.out;
  for (const char* key :
       {"venues", "visible", "cpu_cores", "output_fps_min", "realtime", "decoders", "encoders",
        "baseline_cpu_cores", "latency_ms", "tiers", "ratio", "baseline"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["venues"], 4);
  EXPECT_EQ(j["visible"], 4);
  // Visible-only decoding: all four are on screen, so four decoders; one encoder per tier.
  EXPECT_EQ(j["decoders"], 4);
  ASSERT_TRUE(j["tiers"].is_array());
  EXPECT_EQ(j["encoders"], j["tiers"].size());
  EXPECT_EQ(j["encoders"], 2);
  EXPECT_EQ(j["audio_encoders"], 4);  // K + 1
  EXPECT_TRUE(j["realtime"].is_boolean());
  EXPECT_GT(j["output_fps_min"].get<double>(), 0);
  EXPECT_GT(j["cpu_cores"].get<double>(), 0);
  for (const auto& tier : j["tiers"]) {
    EXPECT_GT(tier["encoded_fps"].get<double>(), 0) << tier.dump();
    EXPECT_EQ(tier["receivers"], 2) << tier.dump();
  }
  // The probes came through: each observer timed at least one colour flip and one tone burst.
  const auto& latency = j["latency_ms"];
  EXPECT_GT(latency["audio_p95"].get<double>(), 0);
  EXPECT_GT(latency["video_p95"].get<double>(), 0);
  EXPECT_GE(latency["audio"]["samples"].get<int>(), 2);
  EXPECT_GE(latency["video"]["samples"].get<int>(), 2);
  // The stock way: every venue decoded, one encode per receiver.
  const auto& b = j["baseline"];
  EXPECT_EQ(b["video_decoders"], 4);
  EXPECT_EQ(b["video_encoders"], 4);
  EXPECT_EQ(b["audio_encoders"], 4);
  EXPECT_GT(j["baseline_cpu_cores"].get<double>(), 0);
  EXPECT_GT(b["fps_reached"].get<double>(), 0);
  EXPECT_GT(j["ratio"].get<double>(), 0);
}

TEST(BenchMix, RefusesAVisibleCountNoLayoutHas) {
  const auto run = RunCommand({PlateauBinary(), "bench", "mix", "--venues", "4", "--visible", "5"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("visible"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace plateau::testing
