#include "plateau/negotiation/sdp/sdp_text.hpp"

#include <algorithm>

namespace plateau::negotiation::sdp {

std::optional<SdpLine> SdpLineReader::Next() {
  if (pos_ >= sdp_.size()) return std::nullopt;
  size_t end = sdp_.find('\n', pos_);
  if (end == std::string_view::npos) end = sdp_.size();
  SdpLine line;
  line.text = sdp_.substr(pos_, end - pos_);
  pos_ = end + 1;
  line.number = ++number_;
  if (!line.text.empty() && line.text.back() == '\r') line.text.remove_suffix(1);
  if (line.text.size() >= 2 && line.text[1] == '=' && line.text[0] >= 'a' && line.text[0] <= 'z') {
    line.type = line.text[0];
    line.value = line.text.substr(2);
  }
  return line;
}

SdpAttribute SplitAttribute(std::string_view attribute) {
  const size_t colon = attribute.find(':');
  if (colon == std::string_view::npos) return {attribute, {}, false};
  return {attribute.substr(0, colon), attribute.substr(colon + 1), true};
}

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IStartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

bool IContains(std::string_view s, std::string_view part) {
  for (size_t i = 0; i + part.size() <= s.size(); ++i) {
    if (IEquals(s.substr(i, part.size()), part)) return true;
  }
  return false;
}

bool ParsePayloadType(std::string_view s, uint8_t* out) {
  unsigned v = 0;
  if (!ParseNumber(s, &v) || v > 127) return false;
  *out = static_cast<uint8_t>(v);
  return true;
}

std::vector<std::pair<std::string_view, std::string_view>> FmtpParameters(std::string_view params) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view item = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace_back(Trim(item.substr(0, eq)), Trim(item.substr(eq + 1)));
  }
  return out;
}

}  // namespace plateau::negotiation::sdp
