#include "plateau/mcu/rtp/rtcp.hpp"

#include <algorithm>

namespace plateau::mcu::rtp {
namespace {

constexpr size_t kHeaderSize = 4;
constexpr size_t kReportBlockSize = 24;
constexpr uint8_t kFmtNack = 1;
constexpr uint8_t kFmtPli = 1;
constexpr uint8_t kFmtFir = 4;
constexpr uint8_t kFmtAfb = 15;
constexpr uint8_t kSdesCname = 1;
// Seconds between 1900-01-01 (NTP epoch) and 1970-01-01 (Unix epoch).
constexpr int64_t kNtpUnixOffset = 2208988800LL;

uint16_t Read16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t Read24(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 16 | static_cast<uint32_t>(p[1]) << 8 | p[2];
}
uint32_t Read32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v >> 8));
    U8(static_cast<uint8_t>(v));
  }
  void U24(uint32_t v) {
    U8(static_cast<uint8_t>(v >> 16));
    U8(static_cast<uint8_t>(v >> 8));
    U8(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  void Bytes(std::string_view s) { out_->insert(out_->end(), s.begin(), s.end()); }
  void PadTo4() {
    while (out_->size() % 4 != 0) U8(0);
  }
  size_t size() const { return out_->size(); }
  // Starts a packet; returns its offset for Finish().
  size_t Begin(uint8_t count, uint8_t packet_type) {
    const size_t at = out_->size();
    U8(static_cast<uint8_t>(0x80 | (count & 0x1F)));
    U8(packet_type);
    U16(0);
    return at;
  }
  void Finish(size_t at) {
    PadTo4();
    const size_t words = (out_->size() - at) / 4 - 1;
    (*out_)[at + 2] = static_cast<uint8_t>(words >> 8);
    (*out_)[at + 3] = static_cast<uint8_t>(words);
  }

 private:
  std::vector<uint8_t>* out_;
};

ReportBlock ReadReportBlock(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = Read32(p);
  b.fraction_lost = p[4];
  uint32_t lost = Read24(p + 5);
  // Sign-extend the 24-bit two's complement value.
  b.cumulative_lost =
      (lost & 0x800000) ? static_cast<int32_t>(lost | 0xFF000000u) : static_cast<int32_t>(lost);
  b.extended_highest_seq = Read32(p + 8);
  b.jitter = Read32(p + 12);
  b.last_sr = Read32(p + 16);
  b.delay_since_last_sr = Read32(p + 20);
  return b;
}

void WriteReportBlock(Writer& w, const ReportBlock& b) {
  w.U32(b.ssrc);
  w.U8(b.fraction_lost);
  const int32_t lost = std::clamp<int32_t>(b.cumulative_lost, -0x800000, 0x7FFFFF);
  w.U24(static_cast<uint32_t>(lost) & 0xFFFFFF);
  w.U32(b.extended_highest_seq);
  w.U32(b.jitter);
  w.U32(b.last_sr);
  w.U32(b.delay_since_last_sr);
}

bool ParseReportBlocks(std::span<const uint8_t> body, size_t count, std::vector<ReportBlock>* out) {
  if (count * kReportBlockSize > body.size()) return false;
  out->reserve(count);
  for (size_t i = 0; i < count; ++i) out->push_back(ReadReportBlock(&body[i * kReportBlockSize]));
  return true;
}

bool ParseSdes(std::span<const uint8_t> body, size_t count, Sdes* out) {
  size_t o = 0;
  for (size_t c = 0; c < count; ++c) {
    if (body.size() - o < 4) return false;
    SdesChunk chunk;
    chunk.ssrc = Read32(&body[o]);
    o += 4;
    // Items until a null item; then padding to the next 32-bit boundary of the chunk list.
    while (true) {
      if (o >= body.size()) return false;
      const uint8_t type = body[o];
      if (type == 0) {
        ++o;
        break;
      }
      if (body.size() - o < 2) return false;
      const size_t len = body[o + 1];
      if (len > body.size() - o - 2) return false;
      if (type == kSdesCname) {
        chunk.cname.assign(reinterpret_cast<const char*>(&body[o + 2]), len);
      }
      o += 2 + len;
    }
    while (o % 4 != 0) {
      if (o >= body.size()) return false;
      if (body[o] != 0) return false;
      ++o;
    }
    out->chunks.push_back(std::move(chunk));
  }
  return true;
}

bool ParseBye(std::span<const uint8_t> body, size_t count, Bye* out) {
  if (count * 4 > body.size()) return false;
  for (size_t i = 0; i < count; ++i) out->ssrcs.push_back(Read32(&body[i * 4]));
  size_t o = count * 4;
  if (o < body.size()) {
    const size_t len = body[o];
    if (len > body.size() - o - 1) return false;
    out->reason.assign(reinterpret_cast<const char*>(&body[o + 1]), len);
  }
  return true;
}

bool ParseNack(std::span<const uint8_t> body, Nack* out) {
  if (body.size() < 8) return false;
  out->sender_ssrc = Read32(&body[0]);
  out->media_ssrc = Read32(&body[4]);
  const auto fci = body.subspan(8);
  if (fci.empty() || fci.size() % 4 != 0) return false;
  for (size_t i = 0; i < fci.size(); i += 4) {
    const uint16_t pid = Read16(&fci[i]);
    const uint16_t blp = Read16(&fci[i + 2]);
    out->sequence_numbers.push_back(pid);
    for (int bit = 0; bit < 16; ++bit) {
      if (blp & (1u << bit)) out->sequence_numbers.push_back(static_cast<uint16_t>(pid + bit + 1));
    }
  }
  return true;
}

bool ParseFir(std::span<const uint8_t> body, Fir* out) {
  if (body.size() < 8) return false;
  out->sender_ssrc = Read32(&body[0]);
  const auto fci = body.subspan(8);
  if (fci.empty() || fci.size() % 8 != 0) return false;
  for (size_t i = 0; i < fci.size(); i += 8) {
    out->entries.push_back({Read32(&fci[i]), fci[i + 4]});
  }
  return true;
}

// Returns 1 = REMB parsed, 0 = not a REMB (some other AFB), -1 = malformed REMB.
int ParseRemb(std::span<const uint8_t> body, Remb* out) {
  if (body.size() < 12 || body[8] != 'R' || body[9] != 'E' || body[10] != 'M' || body[11] != 'B') {
    return body.size() < 8 ? -1 : 0;
  }
  if (body.size() < 16) return -1;
  out->sender_ssrc = Read32(&body[0]);
  const size_t n = body[12];
  const uint8_t exp = body[13] >> 2;
  const uint64_t mantissa = (static_cast<uint64_t>(body[13] & 0x03) << 16) | Read16(&body[14]);
  if (16 + n * 4 > body.size()) return -1;
  // 18-bit mantissa shifted by up to 63 would overflow; saturate instead.
  if (exp > 46) {
    out->bitrate_bps = mantissa == 0 ? 0 : UINT64_MAX;
  } else {
    out->bitrate_bps = mantissa << exp;
  }
  for (size_t i = 0; i < n; ++i) out->ssrcs.push_back(Read32(&body[16 + i * 4]));
  return 1;
}

}  // namespace

NtpTime NtpTime::FromUnixMicros(int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --secs;
  }
  NtpTime t;
  t.seconds = static_cast<uint32_t>(secs + kNtpUnixOffset);
  t.fraction = static_cast<uint32_t>((static_cast<uint64_t>(rem) << 32) / 1000000);
  return t;
}

std::optional<std::vector<RtcpPacket>> ParseRtcpCompound(std::span<const uint8_t> data) {
  if (data.size() < kHeaderSize || data.size() > kMaxRtcpCompoundSize) return std::nullopt;
  std::vector<RtcpPacket> out;
  size_t offset = 0;
  while (offset < data.size()) {
    const auto rest = data.subspan(offset);
    if (rest.size() < kHeaderSize) return std::nullopt;
    if ((rest[0] >> 6) != 2) return std::nullopt;
    const bool padding = (rest[0] & 0x20) != 0;
    const uint8_t count = rest[0] & 0x1F;
    const uint8_t type = rest[1];
    const size_t size = (static_cast<size_t>(Read16(&rest[2])) + 1) * 4;
    if (size > rest.size()) return std::nullopt;
    size_t body_size = size - kHeaderSize;
    if (padding) {
      const size_t pad = rest[size - 1];
      if (pad == 0 || pad > body_size) return std::nullopt;
      body_size -= pad;
    }
    const auto body = rest.subspan(kHeaderSize, body_size);
    switch (type) {
      case kRtcpSr: {
        if (body.size() < 24) return std::nullopt;
        SenderReport sr;
        sr.ssrc = Read32(&body[0]);
        sr.ntp.seconds = Read32(&body[4]);
        sr.ntp.fraction = Read32(&body[8]);
        sr.rtp_timestamp = Read32(&body[12]);
        sr.packet_count = Read32(&body[16]);
        sr.octet_count = Read32(&body[20]);
        if (!ParseReportBlocks(body.subspan(24), count, &sr.report_blocks)) return std::nullopt;
        out.emplace_back(std::move(sr));
        break;
      }
      case kRtcpRr: {
        if (body.size() < 4) return std::nullopt;
        ReceiverReport rr;
        rr.ssrc = Read32(&body[0]);
        if (!ParseReportBlocks(body.subspan(4), count, &rr.report_blocks)) return std::nullopt;
        out.emplace_back(std::move(rr));
        break;
      }
      case kRtcpSdes: {
        Sdes sdes;
        if (!ParseSdes(body, count, &sdes)) return std::nullopt;
        out.emplace_back(std::move(sdes));
        break;
      }
      case kRtcpBye: {
        Bye bye;
        if (!ParseBye(body, count, &bye)) return std::nullopt;
        out.emplace_back(std::move(bye));
        break;
      }
      case kRtcpRtpfb: {
        if (count == kFmtNack) {
          Nack nack;
          if (!ParseNack(body, &nack)) return std::nullopt;
          out.emplace_back(std::move(nack));
        } else {
          if (body.size() < 8) return std::nullopt;
          out.emplace_back(UnknownRtcp{type, count});
        }
        break;
      }
      case kRtcpPsfb: {
        if (body.size() < 8) return std::nullopt;
        if (count == kFmtPli) {
          out.emplace_back(Pli{Read32(&body[0]), Read32(&body[4])});
        } else if (count == kFmtFir) {
          Fir fir;
          if (!ParseFir(body, &fir)) return std::nullopt;
          out.emplace_back(std::move(fir));
        } else if (count == kFmtAfb) {
          Remb remb;
          const int r = ParseRemb(body, &remb);
          if (r < 0) return std::nullopt;
          if (r > 0) {
            out.emplace_back(std::move(remb));
          } else {
            out.emplace_back(UnknownRtcp{type, count});
          }
        } else {
          out.emplace_back(UnknownRtcp{type, count});
        }
        break;
      }
      default:
        out.emplace_back(UnknownRtcp{type, count});
        break;
    }
    offset += size;
  }
  return out;
}

namespace {

void BuildOne(Writer& w, const SenderReport& sr) {
  const size_t n = std::min(sr.report_blocks.size(), kMaxReportBlocks);
  const size_t at = w.Begin(static_cast<uint8_t>(n), kRtcpSr);
  w.U32(sr.ssrc);
  w.U32(sr.ntp.seconds);
  w.U32(sr.ntp.fraction);
  w.U32(sr.rtp_timestamp);
  w.U32(sr.packet_count);
  w.U32(sr.octet_count);
  for (size_t i = 0; i < n; ++i) WriteReportBlock(w, sr.report_blocks[i]);
  w.Finish(at);
}

void BuildOne(Writer& w, const ReceiverReport& rr) {
  const size_t n = std::min(rr.report_blocks.size(), kMaxReportBlocks);
  const size_t at = w.Begin(static_cast<uint8_t>(n), kRtcpRr);
  w.U32(rr.ssrc);
  for (size_t i = 0; i < n; ++i) WriteReportBlock(w, rr.report_blocks[i]);
  w.Finish(at);
}

void BuildOne(Writer& w, const Sdes& sdes) {
  const size_t n = std::min<size_t>(sdes.chunks.size(), 31);
  const size_t at = w.Begin(static_cast<uint8_t>(n), kRtcpSdes);
  for (size_t i = 0; i < n; ++i) {
    const auto& c = sdes.chunks[i];
    w.U32(c.ssrc);
    const std::string_view cname = std::string_view(c.cname).substr(0, 255);
    w.U8(kSdesCname);
    w.U8(static_cast<uint8_t>(cname.size()));
    w.Bytes(cname);
    w.U8(0);  // end of items, then pad the chunk to 32 bits
    w.PadTo4();
  }
  w.Finish(at);
}

void BuildOne(Writer& w, const Bye& bye) {
  const size_t n = std::min<size_t>(bye.ssrcs.size(), 31);
  const size_t at = w.Begin(static_cast<uint8_t>(n), kRtcpBye);
  for (size_t i = 0; i < n; ++i) w.U32(bye.ssrcs[i]);
  if (!bye.reason.empty()) {
    const std::string_view reason = std::string_view(bye.reason).substr(0, 255);
    w.U8(static_cast<uint8_t>(reason.size()));
    w.Bytes(reason);
  }
  w.Finish(at);
}

void BuildOne(Writer& w, const Nack& nack) {
  if (nack.sequence_numbers.empty()) return;
  const size_t at = w.Begin(kFmtNack, kRtcpRtpfb);
  w.U32(nack.sender_ssrc);
  w.U32(nack.media_ssrc);
  // Greedy PID/BLP packing; at most ~360 FCI entries so the packet stays under 1500 bytes.
  size_t entries = 0;
  size_t i = 0;
  while (i < nack.sequence_numbers.size() && entries < 360) {
    const uint16_t pid = nack.sequence_numbers[i++];
    uint16_t blp = 0;
    while (i < nack.sequence_numbers.size()) {
      const uint16_t d = static_cast<uint16_t>(nack.sequence_numbers[i] - pid);
      if (d < 1 || d > 16) break;
      blp = static_cast<uint16_t>(blp | (1u << (d - 1)));
      ++i;
    }
    w.U16(pid);
    w.U16(blp);
    ++entries;
  }
  w.Finish(at);
}

void BuildOne(Writer& w, const Pli& pli) {
  const size_t at = w.Begin(kFmtPli, kRtcpPsfb);
  w.U32(pli.sender_ssrc);
  w.U32(pli.media_ssrc);
  w.Finish(at);
}

void BuildOne(Writer& w, const Fir& fir) {
  if (fir.entries.empty()) return;
  const size_t at = w.Begin(kFmtFir, kRtcpPsfb);
  w.U32(fir.sender_ssrc);
  w.U32(0);  // media source SSRC is unused in FIR (RFC 5104 section 4.3.1.2)
  for (size_t i = 0; i < std::min<size_t>(fir.entries.size(), 180); ++i) {
    w.U32(fir.entries[i].ssrc);
    w.U8(fir.entries[i].sequence_number);
    w.U24(0);
  }
  w.Finish(at);
}

void BuildOne(Writer& w, const Remb& remb) {
  const size_t at = w.Begin(kFmtAfb, kRtcpPsfb);
  w.U32(remb.sender_ssrc);
  w.U32(0);
  w.Bytes("REMB");
  const size_t n = std::min<size_t>(remb.ssrcs.size(), 255);
  w.U8(static_cast<uint8_t>(n));
  uint64_t mantissa = remb.bitrate_bps;
  uint8_t exp = 0;
  while (mantissa >= (1u << 18) && exp < 63) {
    mantissa >>= 1;
    ++exp;
  }
  w.U8(static_cast<uint8_t>(exp << 2 | ((mantissa >> 16) & 0x03)));
  w.U16(static_cast<uint16_t>(mantissa));
  for (size_t i = 0; i < n; ++i) w.U32(remb.ssrcs[i]);
  w.Finish(at);
}

void BuildOne(Writer&, const UnknownRtcp&) {}  // nothing we could write meaningfully

}  // namespace

std::vector<uint8_t> BuildRtcpCompound(std::span<const RtcpPacket> packets) {
  std::vector<uint8_t> out;
  Writer w(&out);
  for (const auto& p : packets) {
    std::visit([&](const auto& v) { BuildOne(w, v); }, p);
  }
  return out;
}

std::optional<double> RoundTripMs(const ReportBlock& block, uint32_t arrival_compact_ntp) {
  if (block.last_sr == 0) return std::nullopt;
  const uint32_t rtt = arrival_compact_ntp - block.last_sr - block.delay_since_last_sr;
  if (rtt >= 0x80000000u) return std::nullopt;  // negative: clocks or the peer are off
  return static_cast<double>(rtt) * 1000.0 / 65536.0;
}

}  // namespace plateau::mcu::rtp
