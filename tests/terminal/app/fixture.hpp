// Shared by the terminal's end-to-end suites: the real `plateau serve` on a temp data dir and a
// loopback port, meetings booked through the REST API, venue tokens from `plateau venue-token`, and
// `plateau terminal` processes whose report (--stats-json) the tests read.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/booking.hpp"
#include "support/process.hpp"

namespace plateau::testing {

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The last complete report a terminal wrote (written atomically, so never half a file).
inline std::optional<nlohmann::json> ReadReport(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// Polls `path` until `done(report)` or the deadline; returns the last report read.
template <typename Pred>
std::optional<nlohmann::json> WaitForReport(const std::string& path, Pred done,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<nlohmann::json> last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto r = ReadReport(path)) {
      last = r;
      if (done(*r)) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

// A `plateau terminal` process with its stdout (the final report) and stderr (logs) in files.
class TerminalProcess {
 public:
  TerminalProcess(const std::string& dir, const std::string& name,
                  const std::vector<std::string>& args)
      : out_(dir + "/" + name + ".out"), err_(dir + "/" + name + ".err") {
    std::string cmd = "exec '" + PlateauBinary() + "' terminal";
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " >'" + out_ + "' 2>'" + err_ + "'";
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sh", "-c", cmd});
  }
  int Wait(std::chrono::milliseconds timeout) { return process_->Wait(timeout); }
  std::string out() const { return Slurp(out_); }
  std::string err() const { return Slurp(err_); }
  ChildProcess& process() { return *process_; }

 private:
  std::string out_, err_;
  std::unique_ptr<ChildProcess> process_;
};

class ServerFixture : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> extra = {}, bool wait = true) {
    port_ = FreePort();
    std::vector<std::string> argv = {
        PlateauBinary(), "serve", "--config", Config(),
        "--data",        Data(),  "--listen", "127.0.0.1:" + std::to_string(port_)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ChildProcess>(argv, dir_.path() + "/serve.log");
    if (wait) {
      ASSERT_TRUE(WaitHealthy(port_, std::chrono::seconds(30))) << ServeLog();
    }
  }
  std::string ServeLog() const { return Slurp(dir_.path() + "/serve.log"); }
  static std::string Config() { return SourceRoot() + "/configs/qinghai.toml"; }
  std::string Data() const { return dir_.path() + "/data"; }
  std::string Dir() const { return dir_.path(); }
  std::string Url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws"; }

  std::string Token(const std::string& venue) {
    auto it = tokens_.find(venue);
    if (it != tokens_.end()) return it->second;
    RunResult r =
        RunCommand({PlateauBinary(), "venue-token", venue, "--config", Config(), "--data", Data()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string t = r.out;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
    return tokens_[venue] = t;
  }

  // Books a meeting through the REST API, start/end relative to now in seconds (the 15-minute
  // set-up buffer opens a meeting that starts within 15 minutes at once).
  nlohmann::json Book(const std::vector<std::string>& venues, int64_t start_in = 60,
                      int64_t end_in = 3600, int setup_minutes = 15) {
    return BookMeeting(port_, {venues, start_in, end_in, setup_minutes});
  }

  // The common arguments of a terminal for `venue` against this server.
  std::vector<std::string> TerminalArgs(const std::string& venue, const std::string& server = "") {
    return {"--server", server.empty() ? Url() : server, "--venue", venue, "--token", Token(venue)};
  }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> server_;
  std::map<std::string, std::string> tokens_;
};

}  // namespace plateau::testing
