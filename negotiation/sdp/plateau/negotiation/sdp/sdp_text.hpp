// SDP text as tokens (RFC 8866 5): lines in order, each split into its type letter and value;
// attributes split into name and value; the helpers every reader of SDP text needs (fields,
// trimming, case-insensitive comparison, numbers). No rules about what a description may say:
// Plateau's rules sit on top (sdes_sdp.cpp for SDES endpoints, webrtc_offer.cpp for browsers).
// Nothing here allocates per line or reads past the input; it is reached by the SDP fuzz targets.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace plateau::negotiation::sdp {

// One line of the description.
struct SdpLine {
  size_t number = 0;       // 1-based
  std::string_view text;   // the whole line, without CR/LF
  char type = 0;           // 'a'..'z' when the line is "<letter>=<value>", else 0
  std::string_view value;  // after "<letter>="; empty when type is 0
};

// Splits SDP text into lines (LF or CRLF ends; the last line may lack one). Lenient: a line that
// is not "<letter>=<value>" comes back with type 0, and the caller decides.
class SdpLineReader {
 public:
  explicit SdpLineReader(std::string_view sdp) : sdp_(sdp) {}
  // The next line, or nullopt at the end of the input.
  std::optional<SdpLine> Next();
  // The input after the last line returned.
  std::string_view rest() const { return sdp_.substr(std::min(pos_, sdp_.size())); }

 private:
  std::string_view sdp_;
  size_t pos_ = 0;
  size_t number_ = 0;
};

// "a=<name>:<value>" or the property "a=<name>" (value empty, has_value false).
struct SdpAttribute {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};
SdpAttribute SplitAttribute(std::string_view attribute);

// Space-separated fields, empty ones skipped.
std::vector<std::string_view> Fields(std::string_view s);
// Without leading and trailing spaces and tabs.
std::string_view Trim(std::string_view s);
// ASCII case-insensitive comparisons (SDP tokens such as profiles and codec names).
bool IEquals(std::string_view a, std::string_view b);
bool IStartsWith(std::string_view s, std::string_view prefix);
bool IContains(std::string_view s, std::string_view part);

// A decimal number of at most 20 digits, nothing else (no sign, no spaces).
template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// An RTP payload type: 0..127.
bool ParsePayloadType(std::string_view s, uint8_t* out);

// The "name=value" items of an a=fmtp parameter list ("a=1;b=2"), in order, each part trimmed;
// items without '=' are skipped.
std::vector<std::pair<std::string_view, std::string_view>> FmtpParameters(std::string_view params);

}  // namespace plateau::negotiation::sdp
