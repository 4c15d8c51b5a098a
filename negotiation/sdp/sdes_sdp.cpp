#include "plateau/negotiation/sdp/sdes_sdp.hpp"

#include <algorithm>
#include <map>

#include "plateau/negotiation/sdp/sdp_text.hpp"

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
  for (const auto& [name, value] : FmtpParameters(params))
    if (IEquals(name, "packetization-mode") && value == "1") return true;
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
  const SdpAttribute attr = SplitAttribute(a);
  if (!attr.has_value) {
    if (auto d = ParseDirection(attr.name)) m->direction = *d;
    if (attr.name == "rtcp-mux") m->rtcp_mux = true;
    return Status::Ok();
  }
  if (attr.name == "rtpmap") {
    const auto f = Fields(attr.value);
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
  if (attr.name == "fmtp") {
    std::string_view v = attr.value;
    const size_t sp = v.find(' ');
    uint8_t pt = 0;
    if (sp == std::string_view::npos || !ParsePayloadType(v.substr(0, sp), &pt)) {
      return Bad(line, "a=fmtp must be \"<pt> <parameters>\", got " + Quote(a));
    }
    m->fmtps.emplace(pt, v.substr(sp + 1));
    return Status::Ok();
  }
  if (attr.name == "crypto") {
    auto c = tr::ParseCryptoAttribute(attr.value);
    if (c) {
      m->cryptos.push_back({line, std::move(*c), {}});
    } else {
      m->cryptos.push_back({line, std::nullopt, c.error().message});
    }
    return Status::Ok();
  }
  if (attr.name == "mid") {
    const std::string_view mid = Trim(attr.value);
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

namespace {

// ParseSdes in steps: the size, the lines (session part and media sections, each attribute read
// into its section), the choice of the used m-lines, then the rules the used lines must meet
// together (one transport, one key), then BUNDLE.

// What the line-by-line pass collects.
struct Parts {
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  bool have_origin = false;
  std::optional<std::string> address;  // session-level c=
  size_t address_line = 0;
  std::optional<Direction> direction;  // session-level direction attribute
  std::vector<std::vector<std::string_view>> bundle_groups;
  std::vector<MediaSection> sections;
};

Status CheckSize(std::string_view sdp) {
  if (sdp.size() > kMaxSdesSdpBytes) {
    return Bad(0, "the SDP is " + std::to_string(sdp.size()) + " bytes; at most " +
                      std::to_string(kMaxSdesSdpBytes) + " are accepted");
  }
  if (sdp.empty()) return Bad(0, "the SDP is empty");
  return Status::Ok();
}

Status CheckCharacters(const SdpLine& line) {
  for (char c : line.text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F)
      return Bad(line.number, "control character in the line");
  }
  return Status::Ok();
}

Status ReadOrigin(const SdpLine& line, Parts& parts) {
  if (!parts.sections.empty() || parts.have_origin)
    return Bad(line.number, "o= must appear once, before any m= line");
  const auto f = Fields(line.value);
  if (f.size() != 6 || !ParseNumber(f[1], &parts.session_id) ||
      !ParseNumber(f[2], &parts.session_version) || f[3] != "IN") {
    return Bad(line.number,
               "o= must be \"<user> <session id> <version> IN IP4 <address>\" with numeric "
               "id and version, got " +
                   Quote(line.value));
  }
  parts.have_origin = true;
  return Status::Ok();
}

Status ReadConnectionLine(const SdpLine& line, Parts& parts) {
  auto address = ParseConnection(line.number, line.value);
  if (!address) return address.error();
  if (!parts.sections.empty()) {
    MediaSection& media = parts.sections.back();
    if (media.address) return Bad(line.number, "a second c= line in one media section");
    media.address = std::move(*address);
    media.address_line = line.number;
  } else {
    if (parts.address) return Bad(line.number, "a second session-level c= line");
    parts.address = std::move(*address);
    parts.address_line = line.number;
  }
  return Status::Ok();
}

Status ReadMediaLine(const SdpLine& line, Parts& parts) {
  if (!parts.have_origin) return Bad(line.number, "m= before the o= line");
  if (parts.sections.size() >= kMaxSdesMediaLines) {
    return Bad(line.number, "more than " + std::to_string(kMaxSdesMediaLines) + " m= lines");
  }
  MediaSection m;
  if (auto st = ParseMediaLine(line.number, line.value, &m); !st) return st.error();
  parts.sections.push_back(std::move(m));
  return Status::Ok();
}

Status ReadAttributeLine(const SdpLine& line, Parts& parts) {
  if (!parts.sections.empty())
    return ParseMediaAttribute(line.number, line.value, &parts.sections.back());
  const SdpAttribute attr = SplitAttribute(line.value);
  if (auto d = ParseDirection(line.value)) {
    parts.direction = *d;
  } else if (attr.name == "group" && attr.value.starts_with("BUNDLE")) {
    const auto mids = Fields(attr.value.substr(6));
    parts.bundle_groups.emplace_back(mids.begin(), mids.end());
  }
  return Status::Ok();
}

// The session part and the media sections, line by line; the first problem in line order.
Result<Parts> ReadParts(std::string_view sdp) {
  Parts parts;
  SdpLineReader reader(sdp);
  while (std::optional<SdpLine> line = reader.Next()) {
    if (line->text.empty()) {
      // Only trailing empty lines are tolerated.
      if (reader.rest().find_first_not_of("\r\n") == std::string_view::npos) break;
      return Bad(line->number, "empty line inside the description");
    }
    if (auto st = CheckCharacters(*line); !st) return st.error();
    if (line->type == 0) {
      if (line->number == 1) return Bad(0, "not SDP: the first line must be v=0");
      return Bad(line->number, "not an SDP line (expected <letter>=<value>): " + Quote(line->text));
    }
    if (line->number == 1) {
      if (line->type != 'v' || line->value != "0")
        return Bad(0, "not SDP: the first line must be v=0");
      continue;
    }
    Status st = Status::Ok();
    switch (line->type) {
      case 'v':
        return Bad(line->number, "a second v= line");
      case 'o':
        st = ReadOrigin(*line, parts);
        break;
      case 'c':
        st = ReadConnectionLine(*line, parts);
        break;
      case 'm':
        st = ReadMediaLine(*line, parts);
        break;
      case 'a':
        st = ReadAttributeLine(*line, parts);
        break;
      default:
        break;  // s=, t=, b=, i=, ...: not needed
    }
    if (!st) return st.error();
  }
  if (!parts.have_origin) return Bad(0, "no o= line");
  return parts;
}

// A used m-line: its section, payload type and key.
struct Used {
  const MediaSection* section = nullptr;
  uint8_t payload_type = 0;
  const tr::CryptoAttribute* crypto = nullptr;
};

// Every m-line, in order, and the first usable video and audio lines.
struct Choice {
  std::vector<MediaLine> lines;
  std::optional<Used> video, audio;
};

// Why the line `m` cannot be used ("" = usable, `used` filled in); `taken`: its kind is used.
std::string RejectReason(const MediaSection& m, bool taken, Used* used) {
  if (m.port == 0) return "disabled (port 0)";
  if (m.media != "video" && m.media != "audio")
    return "m=" + std::string(m.media) + " is not audio or video";
  if (std::string why = ProfileReason(m); !why.empty()) return why;
  Pick pick = PickCodec(m);
  if (!pick.payload_type) return pick.reason;
  used->payload_type = *pick.payload_type;
  std::string why;
  used->crypto = PickCrypto(m, &why);
  if (!used->crypto) return why;
  if (taken) {
    return "a second m=" + std::string(m.media) +
           " line: only the first usable one is used (no content or slides stream)";
  }
  return {};
}

Error NoUsableMedia(const std::vector<MediaSection>& sections,
                    const std::vector<MediaLine>& lines) {
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

// Every m-line is kept, in order; the first usable video and audio lines are used, the others
// are rejected (answered with port 0) with the reason why.
Result<Choice> ChooseLines(const std::vector<MediaSection>& sections) {
  Choice choice;
  choice.lines.reserve(sections.size());
  for (const MediaSection& m : sections) {
    for (const MediaLine& earlier : choice.lines) {
      if (m.mid && earlier.mid == *m.mid) {
        return Bad(m.line, "a=mid:" + std::string(*m.mid) + " names two m-lines");
      }
    }
    MediaLine line;
    line.media = std::string(m.media);
    line.proto = std::string(m.proto);
    if (m.mid) line.mid = std::string(*m.mid);
    std::optional<Used>& slot = m.media == "video" ? choice.video : choice.audio;
    Used used{&m, 0, nullptr};
    line.reason = RejectReason(m, slot.has_value(), &used);
    if (line.reason.empty()) {
      slot = used;
      line.use = m.media == "video" ? LineUse::kVideo : LineUse::kAudio;
    }
    if (line.use == LineUse::kRejected) line.format = std::string(m.first_format);
    choice.lines.push_back(std::move(line));
  }
  if (!choice.video && !choice.audio) return NoUsableMedia(sections, choice.lines);
  return choice;
}

// The used lines share one transport: one port, one address, one key (BUNDLE, rtcp-mux). Fills
// in `out`'s port, address, key, directions and payload types.
Status UseSharedTransport(const Parts& parts, const Choice& choice, SdesDescription* out) {
  const Used* first = nullptr;
  for (const std::optional<Used>* u : {&choice.video, &choice.audio}) {
    if (!*u) continue;
    const MediaSection& m = *(*u)->section;
    const std::string kind = "m=" + std::string(m.media);
    if (!m.rtcp_mux) {
      return Bad(m.line, kind + " has no a=rtcp-mux; RTP and RTCP must share one port");
    }
    const std::optional<std::string>& address = m.address ? m.address : parts.address;
    if (!address) return Bad(m.line, kind + " has no connection address (c= line)");
    const Direction direction =
        m.direction ? *m.direction : (parts.direction ? *parts.direction : Direction::kSendRecv);
    (m.media == "video" ? out->video_direction : out->audio_direction) = direction;
    if (!first) {
      first = &**u;
      out->port = m.port;
      out->address = *address;
      out->crypto = *(*u)->crypto;
      continue;
    }
    if (m.port != out->port) {
      return Bad(m.line, "video and audio use different ports (" + std::to_string(out->port) +
                             " and " + std::to_string(m.port) +
                             "); both must share one port (BUNDLE)");
    }
    if (*address != out->address) {
      return Bad(m.address ? m.address_line : parts.address_line,
                 "video and audio use different addresses; both must share one 5-tuple");
    }
    // The first usable alternative of the first line sets the key; this line must offer it too.
    const bool same_key = std::any_of(m.cryptos.begin(), m.cryptos.end(), [&](const CryptoLine& c) {
      return c.attribute && SameKey(*c.attribute, out->crypto);
    });
    if (!same_key) {
      return Bad(m.cryptos.front().line,
                 "the a=crypto key differs between the video and audio lines; one key must be "
                 "used for both");
    }
    if (choice.video->payload_type == choice.audio->payload_type) {
      return Bad(m.line, "video and audio both use payload type " +
                             std::to_string(choice.video->payload_type) +
                             "; lines sharing one transport need distinct payload types");
    }
  }
  if (choice.video) out->video_payload_type = choice.video->payload_type;
  if (choice.audio) out->audio_payload_type = choice.audio->payload_type;
  return Status::Ok();
}

// BUNDLE: one a=group:BUNDLE names every used line's mid.
bool Bundled(const std::vector<std::vector<std::string_view>>& groups,
             const std::vector<MediaLine>& lines) {
  return std::any_of(groups.begin(), groups.end(), [&lines](const auto& group) {
    return std::all_of(lines.begin(), lines.end(), [&group](const MediaLine& l) {
      return l.use == LineUse::kRejected ||
             (!l.mid.empty() && std::find(group.begin(), group.end(), l.mid) != group.end());
    });
  });
}

}  // namespace

Result<SdesDescription> ParseSdes(std::string_view sdp) {
  if (auto st = CheckSize(sdp); !st) return st.error();
  Result<Parts> parts = ReadParts(sdp);
  if (!parts) return parts.error();
  Result<Choice> choice = ChooseLines(parts->sections);
  if (!choice) return choice.error();
  SdesDescription out;
  out.session_id = parts->session_id;
  out.session_version = parts->session_version;
  if (auto st = UseSharedTransport(*parts, *choice, &out); !st) return st.error();
  out.bundle = Bundled(parts->bundle_groups, choice->lines);
  out.lines = std::move(choice->lines);
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

bool IsDtlsOffer(std::string_view sdp) {
  // An a=fingerprint at session level or in an RTP section, or an RTP section over (D)TLS. A
  // (D)TLS profile or fingerprint of another section (BFCP over TLS, RFC 8856) does not make an
  // SDES offer a WebRTC one: that line is rejected with port 0.
  // Lines are matched as written (an upper-case "A=fingerprint:" counts), not by SdpLine::type.
  bool rtp_section = true;  // the session level counts
  SdpLineReader reader(sdp);
  while (std::optional<SdpLine> l = reader.Next()) {
    const std::string_view line = l->text;
    if (IStartsWith(line, "a=fingerprint:")) {
      if (rtp_section) return true;
    } else if (line.starts_with("m=")) {
      const auto f = Fields(line.substr(2));
      rtp_section = f.size() >= 3 && IContains(f[2], "RTP");
      if (rtp_section && (IStartsWith(f[2], "UDP/TLS/") || IStartsWith(f[2], "TCP/TLS/") ||
                          IStartsWith(f[2], "UDP/DTLS/") || IStartsWith(f[2], "TCP/DTLS/")))
        return true;
    }
  }
  return false;
}

std::optional<std::string> DtlsFingerprint(std::string_view sdp) {
  SdpLineReader reader(sdp);
  while (std::optional<SdpLine> line = reader.Next()) {
    if (IStartsWith(line->text, "a=fingerprint:")) return std::string(Trim(line->text.substr(14)));
  }
  return std::nullopt;
}

}  // namespace plateau::negotiation::sdp
