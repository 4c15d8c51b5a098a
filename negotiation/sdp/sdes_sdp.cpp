#include "plateau/negotiation/sdp/sdes_sdp.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace plateau::negotiation::sdp {
namespace {

namespace tr = plateau::mcu::transport;

Error Bad(size_t line, const std::string& what) {
  if (line == 0) return Error{"bad_sdp", what};
  return Error{"bad_sdp", "line " + std::to_string(line) + ": " + what};
}

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  out += "\"";
  return out;
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

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool ParsePayloadType(std::string_view s, uint8_t* out) {
  unsigned v = 0;
  if (!ParseNumber(s, &v) || v > 127) return false;
  *out = static_cast<uint8_t>(v);
  return true;
}

// Dotted quad, each part 1..3 digits in 0..255.
bool ParseIpv4(std::string_view s, unsigned* first_octet) {
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    unsigned v = 0;
    if (i == start || i - start > 3 || !ParseNumber(s.substr(start, i - start), &v) || v > 255)
      return false;
    if (parts == 0) *first_octet = v;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

std::optional<Direction> ParseDirection(std::string_view a) {
  if (a == "sendrecv") return Direction::kSendRecv;
  if (a == "sendonly") return Direction::kSendOnly;
  if (a == "recvonly") return Direction::kRecvOnly;
  if (a == "inactive") return Direction::kInactive;
  return std::nullopt;
}

// "IN IP4 192.0.2.1" -> the address.
Result<std::string> ParseConnection(size_t line, std::string_view value) {
  const auto f = Fields(value);
  if (f.size() != 3 || f[0] != "IN") {
    return Bad(line, "c= must be \"IN IP4 <address>\", got " + Quote(value));
  }
  if (f[1] == "IP6") {
    return Bad(line, "IPv6 connection addresses are not supported (" + Quote(f[2]) +
                         "): use an IPv4 address");
  }
  if (f[1] != "IP4") return Bad(line, "unknown address type " + Quote(f[1]) + " in c=");
  if (f[2].find('/') != std::string_view::npos) {
    return Bad(line, "multicast connection addresses are not supported (" + Quote(f[2]) + ")");
  }
  unsigned first = 0;
  if (!ParseIpv4(f[2], &first)) {
    return Bad(line, "the connection address must be an IPv4 literal, got " + Quote(f[2]) +
                         " (host names are not resolved)");
  }
  if (first >= 224) {
    return Bad(line, "the connection address " + Quote(f[2]) + " is multicast or reserved");
  }
  return std::string(f[2]);
}

struct Rtpmap {
  std::string_view name;
  uint32_t clock = 0;
  std::string_view channels;
};

// One a=crypto alternative: parsed, or why it is unusable (RFC 4568 7.1.1: skipped).
struct CryptoLine {
  size_t line = 0;
  std::optional<tr::CryptoAttribute> attribute;
  std::string error;
};

struct MediaSection {
  size_t line = 0;
  std::string_view media;
  uint16_t port = 0;
  std::string_view proto;
  std::string_view first_format;  // as written (kept for the port-0 echo of a rejected line)
  std::vector<uint8_t> formats;
  std::optional<std::string_view> mid;
  std::optional<std::string> address;
  size_t address_line = 0;
  std::map<uint8_t, Rtpmap> rtpmaps;
  std::map<uint8_t, std::string_view> fmtps;
  bool rtcp_mux = false;
  std::vector<CryptoLine> cryptos;
  std::optional<Direction> direction;
};

bool HasPacketizationMode1(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view item = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (IEquals(Trim(item.substr(0, eq)), "packetization-mode") && Trim(item.substr(eq + 1)) == "1")
      return true;
  }
  return false;
}

// Media, proto and the kept format are echoed in answers: bounded so an answer stays small.
constexpr size_t kMaxToken = 64;
constexpr size_t kMaxMid = 32;

// RFC 4566 token characters (an a=mid identification-tag, RFC 5888).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view("!#$%&'*+-.^_`{|}~").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

Status ParseMediaLine(size_t line, std::string_view value, MediaSection* m) {
  const auto f = Fields(value);
  if (f.size() < 4) {
    return Bad(line, "m= must be \"<media> <port> <proto> <formats>\", got " + Quote(value));
  }
  for (size_t i : {size_t{0}, size_t{2}, size_t{3}}) {
    if (f[i].size() > kMaxToken) {
      return Bad(line, "the m= field " + Quote(f[i]) + " is longer than " +
                           std::to_string(kMaxToken) + " characters");
    }
  }
  m->line = line;
  m->media = f[0];
  m->first_format = f[3];
  if (f[1].find('/') != std::string_view::npos) {
    return Bad(line, "port counts (" + Quote(f[1]) + ") are not supported");
  }
  unsigned port = 0;
  if (!ParseNumber(f[1], &port) || port > 65535) {
    return Bad(line, "the port " + Quote(f[1]) + " is not a number in 0..65535");
  }
  m->port = static_cast<uint16_t>(port);
  m->proto = f[2];
  for (size_t i = 3; i < f.size(); ++i) {
    uint8_t pt = 0;
    // Formats of non-RTP media (m=application ... webrtc-datachannel) are not numbers: kept out.
    if (ParsePayloadType(f[i], &pt)) m->formats.push_back(pt);
  }
  return Status::Ok();
}

Status ParseMediaAttribute(size_t line, std::string_view a, MediaSection* m) {
  if (auto d = ParseDirection(a)) {
    m->direction = *d;
    return Status::Ok();
  }
  if (a == "rtcp-mux") {
    m->rtcp_mux = true;
    return Status::Ok();
  }
  if (a.starts_with("rtpmap:")) {
    const auto f = Fields(a.substr(7));
    uint8_t pt = 0;
    if (f.size() != 2 || !ParsePayloadType(f[0], &pt)) {
      return Bad(line, "a=rtpmap must be \"<pt> <encoding>/<clock rate>\", got " + Quote(a));
    }
    Rtpmap r;
    std::string_view enc = f[1];
    const size_t s1 = enc.find('/');
    if (s1 == std::string_view::npos) {
      return Bad(line, "a=rtpmap " + Quote(enc) + " has no clock rate");
    }
    r.name = enc.substr(0, s1);
    std::string_view rest = enc.substr(s1 + 1);
    const size_t s2 = rest.find('/');
    if (s2 != std::string_view::npos) {
      r.channels = rest.substr(s2 + 1);
      rest = rest.substr(0, s2);
    }
    if (!ParseNumber(rest, &r.clock) || r.clock == 0) {
      return Bad(line, "a=rtpmap clock rate " + Quote(rest) + " is not a positive number");
    }
    m->rtpmaps.emplace(pt, r);
    return Status::Ok();
  }
  if (a.starts_with("fmtp:")) {
    std::string_view v = a.substr(5);
    const size_t sp = v.find(' ');
    uint8_t pt = 0;
    if (sp == std::string_view::npos || !ParsePayloadType(v.substr(0, sp), &pt)) {
      return Bad(line, "a=fmtp must be \"<pt> <parameters>\", got " + Quote(a));
    }
    m->fmtps.emplace(pt, v.substr(sp + 1));
    return Status::Ok();
  }
  if (a.starts_with("crypto:")) {
    auto c = tr::ParseCryptoAttribute(a.substr(7));
    if (c) {
      m->cryptos.push_back({line, std::move(*c), {}});
    } else {
      m->cryptos.push_back({line, std::nullopt, c.error().message});
    }
    return Status::Ok();
  }
  if (a.starts_with("mid:")) {
    const std::string_view mid = Trim(a.substr(4));
    if (m->mid) return Bad(line, "a second a=mid in one media section");
    if (!IsToken(mid) || mid.size() > kMaxMid) {
      return Bad(line, "a=mid must be 1.." + std::to_string(kMaxMid) +
                           " token characters (RFC 5888), got " + Quote(mid));
    }
    m->mid = mid;
    return Status::Ok();
  }
  return Status::Ok();  // rtcp-fb, ssrc, ptime, ...: not needed for SDES
}

bool SameKey(const tr::CryptoAttribute& a, const tr::CryptoAttribute& b) {
  return a.key == b.key;
}

// The usable payload type of an enabled RTP/SAVP m=video / m=audio line, or why there is none.
struct Pick {
  std::optional<uint8_t> payload_type;
  std::string reason;
};

Pick PickCodec(const MediaSection& m) {
  const bool video = m.media == "video";
  bool h264_without_mode1 = false;
  for (uint8_t pt : m.formats) {
    // 64..95 collide with RTCP packet types under rtcp-mux (RFC 5761 4).
    if (pt >= 64 && pt <= 95) continue;
    auto it = m.rtpmaps.find(pt);
    if (it == m.rtpmaps.end()) continue;
    const Rtpmap& r = it->second;
    if (video && IEquals(r.name, "H264") && r.clock == 90000) {
      auto fm = m.fmtps.find(pt);
      if (fm != m.fmtps.end() && HasPacketizationMode1(fm->second)) return {pt, {}};
      h264_without_mode1 = true;
    }
    if (!video && IEquals(r.name, "opus") && r.clock == 48000 && r.channels == "2") {
      return {pt, {}};
    }
  }
  if (h264_without_mode1) {
    return {std::nullopt,
            "H.264 is offered without packetization-mode=1 (a=fmtp:<pt> "
            "packetization-mode=1); single NAL mode is not supported"};
  }
  return {std::nullopt, video ? "no H.264 (packetization-mode=1, 90 kHz) payload type"
                              : "no Opus (opus/48000/2) payload type"};
}

// The first usable a=crypto alternative of a line, or why there is none.
const tr::CryptoAttribute* PickCrypto(const MediaSection& m, std::string* reason) {
  for (const CryptoLine& c : m.cryptos) {
    if (c.attribute) return &*c.attribute;
  }
  if (m.cryptos.empty()) {
    *reason = "no a=crypto line: SDES keys are required";
  } else {
    *reason = "no usable a=crypto (line " + std::to_string(m.cryptos.front().line) +
              ": a=crypto: " + m.cryptos.front().error + ")";
  }
  return nullptr;
}

// Why an enabled audio/video line with this profile cannot be used ("" = RTP/SAVP).
std::string ProfileReason(const MediaSection& m) {
  if (m.proto == "RTP/SAVP") return {};
  std::string hint;
  if (m.proto.find("TLS") != std::string_view::npos ||
      m.proto.find("DTLS") != std::string_view::npos) {
    hint = " (DTLS-SRTP offers are WebRTC: they are handled apart, not as SDES)";
  } else if (m.proto == "RTP/AVP") {
    hint = " (plain RTP is refused: media must be SRTP with a=crypto keys)";
  }
  return "uses " + Quote(m.proto) + "; only RTP/SAVP (SDES-SRTP) is accepted" + hint;
}

}  // namespace

std::string_view ToString(Direction direction) {
  switch (direction) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

Direction AnswerDirection(Direction offered) {
  switch (offered) {
    case Direction::kSendOnly:
      return Direction::kRecvOnly;
    case Direction::kRecvOnly:
      return Direction::kSendOnly;
    case Direction::kInactive:
      return Direction::kInactive;
    case Direction::kSendRecv:
      break;
  }
  return Direction::kSendRecv;
}

Result<SdesDescription> ParseSdes(std::string_view sdp) {
  if (sdp.size() > kMaxSdesSdpBytes) {
    return Bad(0, "the SDP is " + std::to_string(sdp.size()) + " bytes; at most " +
                      std::to_string(kMaxSdesSdpBytes) + " are accepted");
  }
  if (sdp.empty()) return Bad(0, "the SDP is empty");

  SdesDescription out;
  std::optional<std::string> session_address;
  size_t session_address_line = 0;
  std::optional<Direction> session_direction;
  bool have_origin = false;
  std::vector<MediaSection> sections;
  std::vector<std::vector<std::string_view>> bundle_groups;

  size_t number = 0;
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t end = sdp.find('\n', pos);
    if (end == std::string_view::npos) end = sdp.size();
    std::string_view line = sdp.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      // Only trailing empty lines are tolerated.
      if (sdp.substr(std::min(pos, sdp.size())).find_first_not_of("\r\n") == std::string_view::npos)
        break;
      return Bad(number, "empty line inside the description");
    }
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7F) {
        return Bad(number, "control character in the line");
      }
    }
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
      if (number == 1) return Bad(0, "not SDP: the first line must be v=0");
      return Bad(number, "not an SDP line (expected <letter>=<value>): " + Quote(line));
    }
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (number == 1) {
      if (type != 'v' || value != "0") return Bad(0, "not SDP: the first line must be v=0");
      continue;
    }
    MediaSection* media = sections.empty() ? nullptr : &sections.back();
    switch (type) {
      case 'v':
        return Bad(number, "a second v= line");
      case 'o': {
        if (media || have_origin) return Bad(number, "o= must appear once, before any m= line");
        const auto f = Fields(value);
        if (f.size() != 6 || !ParseNumber(f[1], &out.session_id) ||
            !ParseNumber(f[2], &out.session_version) || f[3] != "IN") {
          return Bad(number,
                     "o= must be \"<user> <session id> <version> IN IP4 <address>\" with numeric "
                     "id and version, got " +
                         Quote(value));
        }
        have_origin = true;
        break;
      }
      case 'c': {
        auto address = ParseConnection(number, value);
        if (!address) return address.error();
        if (media) {
          if (media->address) return Bad(number, "a second c= line in one media section");
          media->address = std::move(*address);
          media->address_line = number;
        } else {
          if (session_address) return Bad(number, "a second session-level c= line");
          session_address = std::move(*address);
          session_address_line = number;
        }
        break;
      }
      case 'm': {
        if (!have_origin) return Bad(number, "m= before the o= line");
        if (sections.size() >= kMaxSdesMediaLines) {
          return Bad(number, "more than " + std::to_string(kMaxSdesMediaLines) + " m= lines");
        }
        MediaSection m;
        if (auto st = ParseMediaLine(number, value, &m); !st) return st.error();
        sections.push_back(std::move(m));
        break;
      }
      case 'a':
        if (media) {
          if (auto st = ParseMediaAttribute(number, value, media); !st) return st.error();
        } else if (auto d = ParseDirection(value)) {
          session_direction = *d;
        } else if (value.starts_with("group:BUNDLE")) {
          const auto mids = Fields(value.substr(12));
          bundle_groups.emplace_back(mids.begin(), mids.end());
        }
        break;
      default:
        break;  // s=, t=, b=, i=, ...: not needed
    }
  }
  if (!have_origin) return Bad(0, "no o= line");

  // Every m-line is kept, in order; the first usable video and audio lines are used, the others
  // are rejected (answered with port 0) with the reason why.
  struct Used {
    const MediaSection* section = nullptr;
    uint8_t payload_type = 0;
    const tr::CryptoAttribute* crypto = nullptr;
  };
  std::optional<Used> video, audio;
  std::vector<MediaLine> lines;
  lines.reserve(sections.size());
  for (const MediaSection& m : sections) {
    for (const MediaLine& earlier : lines) {
      if (m.mid && earlier.mid == *m.mid) {
        return Bad(m.line, "a=mid:" + std::string(*m.mid) + " names two m-lines");
      }
    }
    MediaLine line;
    line.media = std::string(m.media);
    line.proto = std::string(m.proto);
    if (m.mid) line.mid = std::string(*m.mid);
    const bool av = m.media == "video" || m.media == "audio";
    std::optional<Used>& slot = m.media == "video" ? video : audio;
    // Why the line cannot be used ("" = usable, `used` filled in).
    Used used{&m, 0, nullptr};
    line.reason = [&]() -> std::string {
      if (m.port == 0) return "disabled (port 0)";
      if (!av) return "m=" + line.media + " is not audio or video";
      if (std::string why = ProfileReason(m); !why.empty()) return why;
      Pick pick = PickCodec(m);
      if (!pick.payload_type) return pick.reason;
      used.payload_type = *pick.payload_type;
      std::string why;
      used.crypto = PickCrypto(m, &why);
      if (!used.crypto) return why;
      if (slot) {
        return "a second m=" + line.media +
               " line: only the first usable one is used (no content or slides stream)";
      }
      return {};
    }();
    if (line.reason.empty()) {
      slot = used;
      line.use = m.media == "video" ? LineUse::kVideo : LineUse::kAudio;
    }
    if (line.use == LineUse::kRejected) line.format = std::string(m.first_format);
    lines.push_back(std::move(line));
  }
  if (!video && !audio) {
    std::string why;
    size_t listed = 0;
    for (size_t i = 0; i < sections.size(); ++i) {
      if (listed == 4) {
        why += "; and " + std::to_string(sections.size() - i) + " more";
        break;
      }
      why += (listed++ ? "; " : ": ");
      why += "line " + std::to_string(sections[i].line) + " m=" + lines[i].media + ": " +
             lines[i].reason;
    }
    return Bad(0,
               "no usable media: no enabled RTP/SAVP m-line offers H.264 "
               "(packetization-mode=1) video or Opus (opus/48000/2) audio with a usable a=crypto" +
                   why);
  }

  // The used lines share one transport: one port, one address, one key (BUNDLE, rtcp-mux).
  const Used* first = nullptr;
  for (const std::optional<Used>* u : {&video, &audio}) {
    if (!*u) continue;
    const MediaSection& m = *(*u)->section;
    const std::string kind = "m=" + std::string(m.media);
    if (!m.rtcp_mux) {
      return Bad(m.line, kind + " has no a=rtcp-mux; RTP and RTCP must share one port");
    }
    const std::optional<std::string>& address = m.address ? m.address : session_address;
    if (!address) return Bad(m.line, kind + " has no connection address (c= line)");
    const Direction direction =
        m.direction ? *m.direction
                    : (session_direction ? *session_direction : Direction::kSendRecv);
    (m.media == "video" ? out.video_direction : out.audio_direction) = direction;
    if (!first) {
      first = &**u;
      out.port = m.port;
      out.address = *address;
      out.crypto = *(*u)->crypto;
      continue;
    }
    if (m.port != out.port) {
      return Bad(m.line, "video and audio use different ports (" + std::to_string(out.port) +
                             " and " + std::to_string(m.port) +
                             "); both must share one port (BUNDLE)");
    }
    if (*address != out.address) {
      return Bad(m.address ? m.address_line : session_address_line,
                 "video and audio use different addresses; both must share one 5-tuple");
    }
    // The first usable alternative of the first line sets the key; this line must offer it too.
    const CryptoLine* same = nullptr;
    for (const CryptoLine& c : m.cryptos) {
      if (c.attribute && SameKey(*c.attribute, out.crypto)) {
        same = &c;
        break;
      }
    }
    if (!same) {
      return Bad(m.cryptos.front().line,
                 "the a=crypto key differs between the video and audio lines; one key must be "
                 "used for both");
    }
    if (video->payload_type == audio->payload_type) {
      return Bad(m.line, "video and audio both use payload type " +
                             std::to_string(video->payload_type) +
                             "; lines sharing one transport need distinct payload types");
    }
  }
  if (video) out.video_payload_type = video->payload_type;
  if (audio) out.audio_payload_type = audio->payload_type;

  // BUNDLE: one a=group:BUNDLE names every used line's mid.
  bool bundled = false;
  for (const auto& group : bundle_groups) {
    bool all = true;
    for (const MediaLine& l : lines) {
      if (l.use == LineUse::kRejected) continue;
      if (l.mid.empty() || std::find(group.begin(), group.end(), l.mid) == group.end()) all = false;
    }
    bundled = bundled || all;
  }
  out.bundle = bundled;
  out.lines = std::move(lines);
  return out;
}

std::string FormatSdes(const SdesDescription& d) {
  const std::string crlf = "\r\n";
  std::string crypto = "a=crypto:" + tr::FormatCryptoAttribute(d.crypto) + crlf;
  for (const auto& alternative : d.crypto_alternatives)
    crypto += "a=crypto:" + tr::FormatCryptoAttribute(alternative) + crlf;
  const std::string port = std::to_string(d.port);

  // The lines to write: the description's, or the default layout; a kind's used line only once
  // and only with its payload type (else it is written as rejected); a used kind without a line
  // is appended.
  std::vector<MediaLine> lines = d.lines;
  if (lines.empty()) {
    if (d.video_payload_type) lines.push_back({LineUse::kVideo, "0", "video", "RTP/SAVP", {}, {}});
    if (d.audio_payload_type) lines.push_back({LineUse::kAudio, "1", "audio", "RTP/SAVP", {}, {}});
  }
  bool have_video = false, have_audio = false;
  for (MediaLine& l : lines) {
    bool& have = l.use == LineUse::kVideo ? have_video : have_audio;
    const bool pt = l.use == LineUse::kVideo ? d.video_payload_type.has_value()
                                             : d.audio_payload_type.has_value();
    if (l.use == LineUse::kRejected) continue;
    if (have || !pt) {
      if (l.media.empty()) l.media = l.use == LineUse::kVideo ? "video" : "audio";
      l.use = LineUse::kRejected;
      continue;
    }
    have = true;
  }
  if (d.video_payload_type && !have_video)
    lines.push_back({LineUse::kVideo, {}, "video", "RTP/SAVP", {}, {}});
  if (d.audio_payload_type && !have_audio)
    lines.push_back({LineUse::kAudio, {}, "audio", "RTP/SAVP", {}, {}});

  std::string s;
  s.reserve(1024);
  s += "v=0" + crlf;
  s += "o=- " + std::to_string(d.session_id) + " " + std::to_string(d.session_version) +
       " IN IP4 " + d.address + crlf;
  s += "s=-" + crlf;
  s += "c=IN IP4 " + d.address + crlf;
  s += "t=0 0" + crlf;
  if (d.bundle) {
    std::string group = "a=group:BUNDLE";
    bool any = false, all = true;
    for (const MediaLine& l : lines) {
      if (l.use == LineUse::kRejected) continue;
      any = true;
      all = all && !l.mid.empty();
      group += " " + l.mid;
    }
    if (any && all) s += group + crlf;
  }
  for (const MediaLine& l : lines) {
    if (l.use == LineUse::kRejected) {
      // RFC 3264 6: a rejected stream keeps its media and protocol, port 0, one format.
      s += "m=" + (l.media.empty() ? std::string("application") : l.media) + " 0 " +
           (l.proto.empty() ? std::string("RTP/SAVP") : l.proto) + " " +
           (l.format.empty() ? std::string("0") : l.format) + crlf;
      if (!l.mid.empty()) s += "a=mid:" + l.mid + crlf;
      continue;
    }
    const bool video = l.use == LineUse::kVideo;
    const std::string pt = std::to_string(video ? *d.video_payload_type : *d.audio_payload_type);
    s += std::string(video ? "m=video " : "m=audio ") + port + " RTP/SAVP " + pt + crlf;
    if (!l.mid.empty()) s += "a=mid:" + l.mid + crlf;
    if (video) {
      s += "a=rtpmap:" + pt + " H264/90000" + crlf;
      s += "a=fmtp:" + pt + " profile-level-id=42e01f;packetization-mode=1" + crlf;
      s += "a=rtcp-fb:" + pt + " nack" + crlf;
      s += "a=rtcp-fb:" + pt + " nack pli" + crlf;
      s += "a=rtcp-fb:" + pt + " ccm fir" + crlf;
    } else {
      s += "a=rtpmap:" + pt + " opus/48000/2" + crlf;
    }
    s += "a=rtcp-mux" + crlf;
    s += crypto;
    s += "a=" + std::string(ToString(video ? d.video_direction : d.audio_direction)) + crlf;
  }
  return s;
}

SdesDescription AnswerTo(const SdesDescription& offer) {
  SdesDescription a;
  a.video_payload_type = offer.video_payload_type;
  a.audio_payload_type = offer.audio_payload_type;
  a.video_direction = AnswerDirection(offer.video_direction);
  a.audio_direction = AnswerDirection(offer.audio_direction);
  a.lines = offer.lines;
  a.bundle = offer.bundle;
  a.crypto.tag = offer.crypto.tag;
  return a;
}

namespace {

// Calls `fn(line)` for each line (without CR/LF) until it returns true. Bounded by the input.
template <typename Fn>
bool AnyLine(std::string_view sdp, Fn fn) {
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t end = sdp.find('\n', pos);
    if (end == std::string_view::npos) end = sdp.size();
    std::string_view line = sdp.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (fn(line)) return true;
  }
  return false;
}

}  // namespace

bool IsDtlsOffer(std::string_view sdp) {
  // An a=fingerprint at session level or in an RTP section, or an RTP section over (D)TLS. A
  // (D)TLS profile or fingerprint of another section (BFCP over TLS, RFC 8856) does not make an
  // SDES offer a WebRTC one: that line is rejected with port 0.
  bool rtp_section = true;  // the session level counts
  return AnyLine(sdp, [&rtp_section](std::string_view line) {
    if (IStartsWith(line, "a=fingerprint:")) return rtp_section;
    if (line.starts_with("m=")) {
      const auto f = Fields(line.substr(2));
      rtp_section = f.size() >= 3 && IContains(f[2], "RTP");
      return rtp_section && (IStartsWith(f[2], "UDP/TLS/") || IStartsWith(f[2], "TCP/TLS/") ||
                             IStartsWith(f[2], "UDP/DTLS/") || IStartsWith(f[2], "TCP/DTLS/"));
    }
    return false;
  });
}

std::optional<std::string> DtlsFingerprint(std::string_view sdp) {
  std::optional<std::string> out;
  AnyLine(sdp, [&out](std::string_view line) {
    if (!IStartsWith(line, "a=fingerprint:")) return false;
    out = std::string(Trim(line.substr(14)));
    return true;
  });
  return out;
}

}  // namespace plateau::negotiation::sdp
