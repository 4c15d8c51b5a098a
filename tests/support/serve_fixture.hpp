// The real `plateau serve` for a test: a fresh data directory, a loopback port, venue tokens from
// `plateau venue-token` (as an operator issues them) and meetings booked through the REST API.
// One fixture for every suite that drives the binary (plateau, scheduler/rest, listener,
// signaling, terminal/app, browser), so a change to how serve starts is made once.
// Header-only: the including test links GoogleTest and nlohmann_json (support/booking.hpp).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/booking.hpp"
#include "support/process.hpp"
#include "support/slack.hpp"

namespace plateau::testing {

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class ServeFixture : public ::testing::Test {
 protected:
  // Starts `plateau serve --config configs/qinghai.toml --data DIR/data --listen 127.0.0.1:PORT`
  // plus `extra`, its stderr in DIR/serve.log; with `wait`, until /healthz answers (the test
  // fails with the log otherwise).
  void StartServer(std::vector<std::string> extra = {}, bool wait = true) {
    port_ = FreePort();
    std::vector<std::string> argv = {
        PlateauBinary(), "serve", "--config", Config(),
        "--data",        Data(),  "--listen", "127.0.0.1:" + std::to_string(port_)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ChildProcess>(argv, dir_.path() + "/serve.log");
    if (wait) {
      ASSERT_TRUE(WaitHealthy(port_, Slack(std::chrono::seconds(30)))) << ServeLog();
    }
  }
  std::string ServeLog() const { return Slurp(dir_.path() + "/serve.log"); }
  static std::string Config() { return SourceRoot() + "/configs/qinghai.toml"; }
  std::string Data() const { return dir_.path() + "/data"; }
  std::string Dir() const { return dir_.path(); }
  std::string Url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws"; }

  // A fresh token through the CLI (issuing again revokes the venue's previous one).
  std::string IssueToken(const std::string& venue) {
    RunResult r =
        RunCommand({PlateauBinary(), "venue-token", venue, "--config", Config(), "--data", Data()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string t = r.out;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
    return t;
  }
  // The venue's token, issued once per test.
  std::string Token(const std::string& venue) {
    auto it = tokens_.find(venue);
    if (it != tokens_.end()) return it->second;
    return tokens_[venue] = IssueToken(venue);
  }

  // Books a meeting through the REST API, start/end relative to now in seconds (the 15-minute
  // set-up buffer opens a meeting that starts within 15 minutes at once).
  nlohmann::json Book(const std::vector<std::string>& venues, int64_t start_in = 60,
                      int64_t end_in = 3600, int setup_minutes = 15,
                      const std::string& cascade = "auto") {
    return BookMeeting(port_, {venues, start_in, end_in, setup_minutes, "hd-2m", cascade});
  }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> server_;
  std::map<std::string, std::string> tokens_;
};

}  // namespace plateau::testing
