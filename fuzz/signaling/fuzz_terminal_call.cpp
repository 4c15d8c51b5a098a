// Any sequence of server messages (one per line; an empty line = the connection dropped) into the
// reference terminal's call state machine. Never crash, and:
//  - every message the terminal would send is valid protocol v1 (the server's strict parser
//    accepts it), so a hostile server cannot make the terminal send garbage;
//  - media generations only count up, by one;
//  - once the call has ended or failed, nothing more happens.
#include <cstdint>
#include <string_view>

#include "plateau/mcu/transport/crypto_attribute.hpp"
#include "plateau/terminal/client/terminal_call.hpp"
#include "support/sdes_sample.hpp"

namespace p = plateau::signaling::protocol;
namespace sc = plateau::terminal::client;
namespace sdp = plateau::negotiation::sdp;

namespace {

sdp::SdesDescription Local() {
  sdp::SdesDescription d = ::plateau::testing::LoopbackSdes();
  d.crypto.key.material.fill(7);  // fixed: the fuzzer needs determinism, not secrecy
  return d;
}

struct Checker {
  sc::TerminalCall call{sc::CallConfig{}};
  int generation = 0;

  void Apply(std::vector<sc::CallAction> actions, int depth = 0) {
    for (auto& action : actions) {
      if (const auto* send = std::get_if<sc::SendMessage>(&action)) {
        if (!p::ParseClientMessage(p::Serialize(send->message)).ok()) __builtin_trap();
      } else if (const auto* start = std::get_if<sc::StartMedia>(&action)) {
        if (start->generation != generation + 1) __builtin_trap();
        generation = start->generation;
      } else if (std::holds_alternative<sc::PrepareLocal>(action) && depth < 4) {
        Apply(call.OnLocalPrepared(Local()), depth + 1);
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first line chooses the configuration: a conference number, or none (answer invites).
  size_t pos = text.find('\n');
  Checker checker;
  std::string_view first = text.substr(0, pos);
  if (!first.empty() && first.size() <= 32 &&
      first.find_first_not_of("0123456789") == std::string_view::npos)
    checker.call = sc::TerminalCall(sc::CallConfig{std::string(first)});
  size_t messages = 0;
  while (pos != std::string_view::npos && pos < text.size() && messages++ < 256) {
    const size_t start = pos + 1;
    const size_t end = text.find('\n', start);
    const std::string_view line =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    pos = end;
    const bool done = checker.call.state() == sc::CallState::kEnded ||
                      checker.call.state() == sc::CallState::kFailed;
    std::vector<sc::CallAction> actions;
    if (line.empty()) {
      actions = checker.call.OnDisconnected();
    } else if (auto message = p::ParseServerMessage(line); message.ok()) {
      actions = checker.call.OnServerMessage(message.value());
    } else {
      continue;
    }
    if (done && !actions.empty()) __builtin_trap();
    checker.Apply(std::move(actions));
  }
  return 0;
}
