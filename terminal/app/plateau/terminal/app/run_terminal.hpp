// The reference venue terminal as one call (`plateau terminal`, docs/terminal.md): the command
// line's values checked into a plan, the call run with terminal/client (TerminalSession: signaling
// and SDES media) and terminal/media (sender, receiver, recorder), and the report (stats JSON).
// plateau/cmd_terminal.cpp only parses the command line and calls RunTerminal.
#pragma once

#include <string>
#include <vector>

namespace plateau::terminal::app {

// What the command line gave, unchecked (RunTerminal checks it: exit status 2 with a message).
struct TerminalOptions {
  std::string server;
  std::string venue;
  std::string token;
  std::string token_file;
  std::string conference;
  std::string color;
  std::string pattern;
  bool no_clock = false;
  double tone_hz = 440.0;
  bool tone_given = false;  // --tone on the command line (with --file the default is silence)
  std::string file;
  bool file_once = false;
  std::string size = "640x360";
  int fps = 30;
  int video_kbps = 800;
  std::string record;
  double seconds = 0;
  std::string stats_json;
  double stats_interval = 1.0;
  std::vector<std::string> samples;
  std::string probe_hz;
  bool insecure = false;
  std::string ca;
  std::string media_address;
};

// Runs the terminal until --seconds, a signal (SIGINT/SIGTERM) or the end of the conference.
// Returns the process exit status: 0 the call ran; 1 failure (cannot connect, TLS, connection lost
// and not resumed, media could not start); 2 usage; 3 the server refused (unauthorized,
// not_invited, not_started, ended, unknown_conference, media_unavailable, ...).
int RunTerminal(const TerminalOptions& options);

}  // namespace plateau::terminal::app
