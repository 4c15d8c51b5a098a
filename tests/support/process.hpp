// Test support: run the real `plateau` binary as a child process and talk to it over loopback.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace plateau::testing {

// Path of the built plateau binary (meson passes PLATEAU_BIN in the test environment).
std::string PlateauBinary();
// Source root (meson passes PLATEAU_SOURCE_ROOT).
std::string SourceRoot();
// The bytes of a file of the source tree (`relative` to SourceRoot()); empty when it is absent.
std::string ReadSourceFile(const std::string& relative);

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs to completion, capturing stdout and stderr.
RunResult RunCommand(const std::vector<std::string>& argv);

// A child process that is killed (SIGKILL) in the destructor if still running.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_path = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  void Signal(int signo);
  // Waits up to `timeout`; returns the exit code, or -1 on timeout (-2 when killed by a signal).
  int Wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  int pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

// A port that was free a moment ago on 127.0.0.1.
int FreePort();

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One HTTP/1.1 request to 127.0.0.1:port (Connection: close). status 0 = could not connect.
HttpReply Http(int port, const std::string& method, const std::string& target,
               const std::string& body = "", const std::string& content_type = "application/json");

// Polls GET /healthz until it answers 200 or the deadline passes.
bool WaitHealthy(int port, std::chrono::milliseconds timeout);

// A fresh empty directory under the system temp dir, removed in the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace plateau::testing
