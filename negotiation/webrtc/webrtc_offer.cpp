#include "plateau/negotiation/webrtc/webrtc_offer.hpp"

#include <gst/sdp/sdp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

namespace plateau::negotiation::webrtc {
namespace {

struct SdpMessageFree {
  void operator()(GstSDPMessage* m) const {
    if (m) gst_sdp_message_free(m);
  }
};
using SdpMessagePtr = std::unique_ptr<GstSDPMessage, SdpMessageFree>;

Error BadSdp(std::string message) {
  return Error{"bad_sdp", std::move(message)};
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "102 H264/90000" -> pt 102, rest "H264/90000".
bool SplitPayloadType(std::string_view value, int* pt, std::string_view* rest) {
  const size_t space = value.find(' ');
  if (space == std::string_view::npos || space == 0 || space > 3) return false;
  int v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + space, v);
  if (ec != std::errc() || p != value.data() + space || v < 0 || v > 127) return false;
  *pt = v;
  *rest = Trim(value.substr(space + 1));
  return true;
}

// The value of `key` in an fmtp parameter list ("a=1;b=2"), lower-cased; "" if absent.
std::string FmtpParam(std::string_view params, std::string_view key) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view item = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (Lower(Trim(item.substr(0, eq))) == key) return Lower(Trim(item.substr(eq + 1)));
  }
  return "";
}

// The attribute's value at media level, else at session level; nullptr when absent or empty
// ("a=fingerprint" without a value is as good as no fingerprint).
const char* MediaAttr(const GstSDPMedia* media, const GstSDPMessage* msg, const char* key) {
  const char* v = gst_sdp_media_get_attribute_val(media, key);
  if (!v || !*v) v = gst_sdp_message_get_attribute_val(msg, key);
  return v && *v ? v : nullptr;
}

bool HasAttr(const GstSDPMedia* media, const char* key) {
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
    const GstSDPAttribute* a = gst_sdp_media_get_attribute(media, i);
    if (a && a->key && std::string_view(a->key) == key) return true;
  }
  return false;
}

// Rank of an H.264 profile-level-id for us: 0 constrained baseline, 1 baseline, 2 other, 3 bad.
int ProfileRank(const std::string& plid) {
  if (plid.empty()) return 1;  // RFC 6184 default: baseline
  if (plid.size() != 6 || !std::all_of(plid.begin(), plid.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
      }))
    return 3;
  const int idc = std::stoi(plid.substr(0, 2), nullptr, 16);
  const int iop = std::stoi(plid.substr(2, 2), nullptr, 16);
  if ((idc == 0x42 || idc == 0x4d || idc == 0x58) && (iop & 0x40)) return 0;
  if (idc == 0x42) return 1;
  return 2;
}

struct Candidate {
  int pt;
  int rank;
  std::string plid;
};

// Best H.264 packetization-mode=1 payload type of a video m-line, if any.
std::optional<Candidate> BestH264(const GstSDPMedia* media) {
  std::optional<Candidate> best;
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
    const GstSDPAttribute* a = gst_sdp_media_get_attribute(media, i);
    if (!a || !a->key || !a->value || std::string_view(a->key) != "rtpmap") continue;
    int pt = 0;
    std::string_view rest;
    if (!SplitPayloadType(a->value, &pt, &rest)) continue;
    if (Lower(rest) != "h264/90000") continue;
    std::string params;
    for (guint j = 0; j < gst_sdp_media_attributes_len(media); ++j) {
      const GstSDPAttribute* f = gst_sdp_media_get_attribute(media, j);
      if (!f || !f->key || !f->value || std::string_view(f->key) != "fmtp") continue;
      int fpt = 0;
      std::string_view frest;
      if (SplitPayloadType(f->value, &fpt, &frest) && fpt == pt) {
        params = std::string(frest);
        break;
      }
    }
    if (FmtpParam(params, "packetization-mode") != "1") continue;
    const std::string plid = FmtpParam(params, "profile-level-id");
    const int rank = ProfileRank(plid);
    if (rank > 2) continue;
    if (!best || rank < best->rank) best = Candidate{pt, rank, plid.empty() ? "42001f" : plid};
  }
  return best;
}

std::optional<int> OpusPayloadType(const GstSDPMedia* media) {
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
    const GstSDPAttribute* a = gst_sdp_media_get_attribute(media, i);
    if (!a || !a->key || !a->value || std::string_view(a->key) != "rtpmap") continue;
    int pt = 0;
    std::string_view rest;
    if (SplitPayloadType(a->value, &pt, &rest) && Lower(rest) == "opus/48000/2") return pt;
  }
  return std::nullopt;
}

// Every a=group:BUNDLE at session level, as lists of mids.
std::vector<std::vector<std::string>> BundleGroups(const GstSDPMessage* msg) {
  std::vector<std::vector<std::string>> groups;
  for (guint i = 0; i < gst_sdp_message_attributes_len(msg); ++i) {
    const GstSDPAttribute* a = gst_sdp_message_get_attribute(msg, i);
    if (!a || !a->key || !a->value || std::string_view(a->key) != "group") continue;
    std::string_view v = a->value;
    if (v.substr(0, 7) != "BUNDLE ") continue;
    v.remove_prefix(7);
    std::vector<std::string> mids;
    while (!v.empty()) {
      const size_t sp = v.find(' ');
      std::string_view tok = v.substr(0, sp);
      if (!tok.empty()) mids.emplace_back(tok);
      v = sp == std::string_view::npos ? std::string_view() : v.substr(sp + 1);
    }
    groups.push_back(std::move(mids));
  }
  return groups;
}

}  // namespace

Result<OfferSummary> AnalyzeOffer(std::string_view sdp) {
  if (sdp.empty()) return BadSdp("the offer is empty");
  if (sdp.size() > kMaxOfferBytes)
    return BadSdp("the offer is larger than " + std::to_string(kMaxOfferBytes) + " bytes");
  if (sdp.find('\0') != std::string_view::npos) return BadSdp("the offer contains a NUL byte");
  if (sdp.substr(0, 4) != "v=0\r" && sdp.substr(0, 4) != "v=0\n")
    return BadSdp("the offer is not SDP (it must start with v=0)");
  GstSDPMessage* raw = nullptr;
  if (gst_sdp_message_new(&raw) != GST_SDP_OK) return BadSdp("cannot allocate an SDP message");
  SdpMessagePtr msg(raw);
  const std::string text(sdp);
  if (gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(text.data()),
                                   static_cast<guint>(text.size()), msg.get()) != GST_SDP_OK)
    return BadSdp("the offer is not valid SDP");
  const guint n = gst_sdp_message_medias_len(msg.get());
  if (n == 0) return BadSdp("the offer has no m-lines");
  if (n > kMaxOfferMedia)
    return BadSdp("the offer has " + std::to_string(n) + " m-lines; at most " +
                  std::to_string(kMaxOfferMedia) + " are accepted");

  OfferSummary out;
  std::optional<Candidate> video;
  std::optional<int> audio;
  for (guint i = 0; i < n; ++i) {
    const GstSDPMedia* media = gst_sdp_message_get_media(msg.get(), i);
    const char* mid = gst_sdp_media_get_attribute_val(media, "mid");
    out.mids.emplace_back(mid ? mid : "");
    const char* kind = gst_sdp_media_get_media(media);
    const char* proto = gst_sdp_media_get_proto(media);
    // Port 0 is a rejected m-line, except with a=bundle-only (RFC 8843 section 6): what
    // max-bundle offerers (webrtcbin, browsers with that policy) write for every m-line of the
    // BUNDLE group but the first; it uses the first one's transport.
    const bool bundle_only = HasAttr(media, "bundle-only");
    if (!kind || !proto || (gst_sdp_media_get_port(media) == 0 && !bundle_only)) continue;
    const std::string k = kind;
    if (k != "video" && k != "audio") continue;
    if (video && audio) continue;
    if (k == "video" && video) continue;
    if (k == "audio" && audio) continue;
    if (std::string_view(proto) != "UDP/TLS/RTP/SAVPF")
      return BadSdp("m-line " + std::to_string(i) + " (" + k + ") uses " + proto +
                    "; a browser offer must use UDP/TLS/RTP/SAVPF (DTLS-SRTP)");
    if (!mid || !*mid) return BadSdp("m-line " + std::to_string(i) + " has no a=mid");
    // A bundle-only line uses the transport of the BUNDLE group's first line, checked below
    // (RFC 8843 lets it leave out the transport attributes).
    if (!bundle_only) {
      if (!MediaAttr(media, msg.get(), "fingerprint"))
        return BadSdp("m-line " + std::to_string(i) + " has no a=fingerprint (DTLS is required)");
      if (!MediaAttr(media, msg.get(), "ice-ufrag") || !MediaAttr(media, msg.get(), "ice-pwd"))
        return BadSdp("m-line " + std::to_string(i) + " has no a=ice-ufrag/a=ice-pwd");
      if (!HasAttr(media, "rtcp-mux"))
        return BadSdp("m-line " + std::to_string(i) +
                      " has no a=rtcp-mux (RTP and RTCP must share one port)");
    }
    if (k == "video") {
      if (auto c = BestH264(media)) {
        video = c;
        out.video = OfferedCodec{static_cast<int>(i), mid, static_cast<uint8_t>(c->pt), c->plid};
      }
    } else if (auto pt = OpusPayloadType(media)) {
      audio = pt;
      out.audio = OfferedCodec{static_cast<int>(i), mid, static_cast<uint8_t>(*pt), ""};
    }
  }
  if (!video)
    return BadSdp(
        "the offer has no video m-line with H.264 packetization-mode=1 (constrained "
        "baseline); enable H.264 in the browser");
  if (!audio) return BadSdp("the offer has no audio m-line with opus/48000/2");

  bool bundled = false;
  for (const auto& group : BundleGroups(msg.get())) {
    const bool v = std::find(group.begin(), group.end(), out.video.mid) != group.end();
    const bool a = std::find(group.begin(), group.end(), out.audio.mid) != group.end();
    if (v && a) {
      bundled = true;
      // The bundled transport is the group's first m-line that is not bundle-only (the
      // offerer-tagged one, RFC 8843): its ufrag and fingerprint are the ones that count.
      const GstSDPMedia* tagged = nullptr;
      for (const std::string& id : group) {
        for (guint i = 0; i < n && !tagged; ++i) {
          const GstSDPMedia* media = gst_sdp_message_get_media(msg.get(), i);
          const char* mid = gst_sdp_media_get_attribute_val(media, "mid");
          if (mid && id == mid && gst_sdp_media_get_port(media) != 0 &&
              !HasAttr(media, "bundle-only"))
            tagged = media;
        }
        if (tagged) break;
      }
      if (!tagged)
        return BadSdp(
            "every m-line of the BUNDLE group is bundle-only or disabled; the first must carry "
            "the transport (RFC 8843)");
      const char* ufrag = MediaAttr(tagged, msg.get(), "ice-ufrag");
      const char* fingerprint = MediaAttr(tagged, msg.get(), "fingerprint");
      if (!ufrag || !fingerprint || !MediaAttr(tagged, msg.get(), "ice-pwd") ||
          !HasAttr(tagged, "rtcp-mux"))
        return BadSdp(
            "the BUNDLE group's first m-line has no a=fingerprint, a=ice-ufrag/a=ice-pwd or "
            "a=rtcp-mux");
      out.ice_ufrag = ufrag;
      out.fingerprint = fingerprint;
      break;
    }
  }
  if (!bundled)
    return BadSdp("the video and audio m-lines must be in one a=group:BUNDLE (max-bundle)");
  return out;
}

}  // namespace plateau::negotiation::webrtc
