// plateau terminal: the reference venue terminal. Registers a venue with its token, joins a
// conference (or answers the server's invite), sends a colour/pattern + tone (or a file) as H.264 +
// Opus over SRTP, decodes the mix with an independent decoder (avdec_h264) and reports what it saw
// and heard (docs/terminal.md). Wiring only: the command line
// into terminal::app::TerminalOptions and RunTerminal (terminal/app).
//
// Exit status: 0 the call ran (to --seconds, a signal, or the end of the conference); 1 failure
// (cannot connect, TLS, connection lost and not resumed, media could not start); 2 usage; 3 the
// server refused (unauthorized, not_invited, not_started, ended, unknown_conference,
// media_unavailable, ...).
#include <memory>

#include "commands.hpp"
#include "plateau/terminal/app/run_terminal.hpp"

namespace plateau::cli {

using terminal::app::RunTerminal;
using terminal::app::TerminalOptions;

void RegisterTerminal(CLI::App& root, Commands& out) {
  auto o = std::make_shared<TerminalOptions>();
  auto* cmd = root.add_subcommand(
      "terminal",
      "Reference venue terminal: join a conference, send colour + tone, report the received mix");
  cmd->add_option("--server", o->server, "Signaling URL, e.g. ws://127.0.0.1:8080/ws or wss://...")
      ->required();
  cmd->add_option("--venue", o->venue, "Venue id, e.g. datong")->required();
  cmd->add_option("--token", o->token, "The venue's token (from `plateau venue-token`)");
  cmd->add_option("--token-file", o->token_file, "Read the venue's token from this file");
  cmd->add_option("--conference", o->conference,
                  "Conference number to join (default: answer the server's invite)");
  cmd->add_option("--color", o->color, "Solid colour to send: #rrggbb or R,G,B (default grey)");
  cmd->add_option("--pattern", o->pattern, "Send a videotestsrc pattern (smpte, ball, ...)");
  cmd->add_flag("--no-clock", o->no_clock, "No on-screen clock in the sent picture");
  auto* tone = cmd->add_option("--tone", o->tone_hz,
                               "Sine tone to send, Hz (0 = silence; with --file: silence)")
                   ->capture_default_str();
  cmd->add_option("--file", o->file,
                  "Send this media file's video and audio instead, looped for the whole call "
                  "(a kind it lacks: --color/--pattern, --tone)");
  cmd->add_flag("--file-once", o->file_once,
                "Play --file once, then send nothing on its streams until leaving");
  cmd->add_option("--size", o->size, "Sent picture size WIDTHxHEIGHT")->capture_default_str();
  cmd->add_option("--fps", o->fps, "Sent frame rate")->capture_default_str();
  cmd->add_option("--video-kbps", o->video_kbps, "Sent video bit rate")->capture_default_str();
  cmd->add_option("--record", o->record,
                  "Write the received mix to DIR/mix.mkv (H.264 + Opus) and DIR/last.png");
  cmd->add_option("--seconds", o->seconds,
                  "Stay this long, then leave and exit (0 = until a signal)")
      ->capture_default_str();
  cmd->add_option("--stats-json", o->stats_json,
                  "Write the report as JSON to FILE (every --stats-interval and at the end)");
  cmd->add_option("--stats-interval", o->stats_interval, "Seconds between reports (0 = end only)")
      ->capture_default_str();
  cmd->add_option("--sample", o->samples, "Report the received colour at pixel X,Y (repeatable)");
  cmd->add_option("--probe-hz", o->probe_hz,
                  "Report the received level at these frequencies, e.g. 440,660 (default: --tone)");
  cmd->add_flag("--insecure", o->insecure, "wss: accept any server certificate");
  cmd->add_option("--ca", o->ca, "wss: trust exactly the certificate(s) in this PEM file");
  cmd->add_option("--media-address", o->media_address,
                  "Local IPv4 address for media (default: the one that reaches the server)");
  out.push_back({cmd, [o, tone] {
                   o->tone_given = tone->count() > 0;
                   return RunTerminal(*o);
                 }});
}

}  // namespace plateau::cli
