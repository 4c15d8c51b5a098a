// SDES SDP as venues send it in `offer` (and the server in `answer`): the parser must never crash
// or throw, every refusal is a "bad_sdp" error, and whatever it accepts must format and parse back
// to the same description (and format to the same text again). The answer to an accepted offer
// (AnswerTo) has exactly as many m-lines, in the same order, and parses back too.
#include <cstdint>
#include <string>
#include <string_view>

#include "plateau/negotiation/sdp/sdes_sdp.hpp"

namespace sdp = plateau::negotiation::sdp;

namespace {

bool SameLines(const sdp::SdesDescription& a, const sdp::SdesDescription& b) {
  if (a.lines.size() != b.lines.size()) return false;
  for (size_t i = 0; i < a.lines.size(); ++i) {
    const auto& x = a.lines[i];
    const auto& y = b.lines[i];
    if (x.use != y.use || x.mid != y.mid || x.media != y.media || x.proto != y.proto ||
        x.format != y.format)
      return false;
  }
  return true;
}

size_t CountMediaLines(std::string_view text) {
  size_t n = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text.substr(pos, 2) == "m=") ++n;
    const size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool dtls = sdp::IsDtlsOffer(text);
  (void)sdp::DtlsFingerprint(text);
  auto d = sdp::ParseSdes(text);
  if (!d.ok()) {
    if (d.error().code != "bad_sdp" || d.error().message.empty()) __builtin_trap();
    return 0;
  }
  const auto& a = d.value();
  if (!a.video_payload_type && !a.audio_payload_type) __builtin_trap();
  if (a.lines.size() != CountMediaLines(text)) __builtin_trap();
  const std::string once = sdp::FormatSdes(a);
  auto again = sdp::ParseSdes(once);
  if (!again.ok()) __builtin_trap();
  const auto& b = again.value();
  if (a.session_id != b.session_id || a.session_version != b.session_version ||
      a.address != b.address || a.port != b.port || a.video_payload_type != b.video_payload_type ||
      a.audio_payload_type != b.audio_payload_type || a.video_direction != b.video_direction ||
      a.audio_direction != b.audio_direction || !(a.crypto.key == b.crypto.key) ||
      a.crypto.tag != b.crypto.tag || a.bundle != b.bundle || !SameLines(a, b))
    __builtin_trap();
  if (sdp::FormatSdes(b) != once) __builtin_trap();
  if (!dtls && sdp::IsDtlsOffer(once)) __builtin_trap();

  // The answer (RFC 3264 6): the offer's m-lines in order, the same ones used.
  sdp::SdesDescription answer = sdp::AnswerTo(a);
  answer.session_id = 1;
  answer.address = "192.0.2.1";
  answer.port = 40000;
  answer.crypto = a.crypto;
  const std::string answer_text = sdp::FormatSdes(answer);
  if (CountMediaLines(answer_text) != a.lines.size()) __builtin_trap();
  auto parsed_answer = sdp::ParseSdes(answer_text);
  if (!parsed_answer.ok() || !SameLines(a, parsed_answer.value()) ||
      parsed_answer->video_direction != sdp::AnswerDirection(a.video_direction) ||
      parsed_answer->audio_direction != sdp::AnswerDirection(a.audio_direction))
    __builtin_trap();
  return 0;
}
