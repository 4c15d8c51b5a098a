// Shared by the terminal's end-to-end suites: the real `plateau serve` (support/serve_fixture.hpp)
// and `plateau terminal` processes whose report (--stats-json) the tests read.
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

#include "support/process.hpp"
#include "support/serve_fixture.hpp"

namespace plateau::testing {

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

// The real `plateau serve` (support/serve_fixture.hpp) and terminals against it.
class ServerFixture : public ServeFixture {
 protected:
  // The common arguments of a terminal for `venue` against this server.
  std::vector<std::string> TerminalArgs(const std::string& venue, const std::string& server = "") {
    return {"--server", server.empty() ? Url() : server, "--venue", venue, "--token", Token(venue)};
  }
};

}  // namespace plateau::testing
