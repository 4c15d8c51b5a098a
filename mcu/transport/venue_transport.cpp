#include "plateau/mcu/transport/venue_transport.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <mutex>
#include <random>

#include "plateau/common/log.hpp"
#include "plateau/common/metrics.hpp"
#include "plateau/common/random.hpp"
#include "plateau/common/thread_annotations.hpp"
#include "plateau/mcu/rtp/classifier.hpp"
#include "plateau/mcu/rtp/receive_statistics.hpp"
#include "plateau/mcu/rtp/rtcp.hpp"

namespace plateau::mcu::transport {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

// A datagram larger than this cannot be valid SRTP/SRTCP here; the buffer is one byte larger so
// that an oversized datagram is seen as such rather than silently truncated to a valid size.
constexpr size_t kMaxDatagram = rtp::kMaxRtpPacketSize + kSrtpMaxOverhead;
constexpr size_t kReceiveBuffer = kMaxDatagram + 1;
// Datagrams read per wake-up before yielding back to the io_context.
constexpr int kReadBurst = 64;
// NACK sequence numbers answered per incoming NACK packet.
constexpr size_t kMaxResendPerNack = 512;
// Automatic keyframe requests (after NACK gives up) at most this often per stream.
constexpr int64_t kAutoKeyframeIntervalMs = 500;

// The API's neutral endpoints (address.hpp) and Asio's, converted here and nowhere else. Byte for
// byte: an IPv6 zone id (link-local "%eth0") has no place in the neutral type and is dropped.
udp::endpoint ToUdp(const Endpoint& endpoint) {
  const auto b = endpoint.address().bytes();
  asio::ip::address address;
  if (endpoint.address().is_v4()) {
    asio::ip::address_v4::bytes_type v4;
    std::copy(b.begin(), b.end(), v4.begin());
    address = asio::ip::address_v4(v4);
  } else {
    asio::ip::address_v6::bytes_type v6;
    std::copy(b.begin(), b.end(), v6.begin());
    address = asio::ip::address_v6(v6);
  }
  return {address, endpoint.port()};
}

Endpoint FromUdp(const udp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v4()) return {IpAddress::V4(address.to_v4().to_bytes()), endpoint.port()};
  return {IpAddress::V6(address.to_v6().to_bytes()), endpoint.port()};
}

// Totals over every transport counting in one registry (`plateau serve`'s /metrics); per-venue
// figures are in VenueTransport::GetStats(). Each transport looks its counters up once, when it
// first counts (so the series appear with the first packet, as they always have): transports
// given the same registry share them.
struct TransportMetrics {
  metrics::Counter* packets_in;
  metrics::Counter* packets_out;
  metrics::Counter* dropped_malformed;
  metrics::Counter* dropped_auth;
  metrics::Counter* dropped_replay;
  metrics::Counter* dropped_unknown;
  metrics::Counter* dropped_other;
  metrics::Counter* nacks_sent;
  metrics::Counter* retransmitted;
  metrics::Counter* plis_sent;

  explicit TransportMetrics(metrics::Registry& r) {
    const std::string drop = "plateau_mcu_transport_dropped_total";
    const std::string drop_help = "Inbound datagrams dropped by the media transport, by reason";
    packets_in = r.GetCounter("plateau_mcu_transport_rtp_packets_total",
                              "RTP packets accepted (in) or sent (out)", {{"direction", "in"}});
    packets_out = r.GetCounter("plateau_mcu_transport_rtp_packets_total",
                               "RTP packets accepted (in) or sent (out)", {{"direction", "out"}});
    dropped_malformed = r.GetCounter(drop, drop_help, {{"reason", "malformed"}});
    dropped_auth = r.GetCounter(drop, drop_help, {{"reason", "auth"}});
    dropped_replay = r.GetCounter(drop, drop_help, {{"reason", "replay"}});
    dropped_unknown = r.GetCounter(drop, drop_help, {{"reason", "unknown"}});
    dropped_other = r.GetCounter(drop, drop_help, {{"reason", "other"}});
    nacks_sent = r.GetCounter("plateau_mcu_transport_nacks_sent_total", "RTCP NACK packets sent");
    retransmitted = r.GetCounter("plateau_mcu_transport_retransmitted_total",
                                 "RTP packets resent in answer to NACKs");
    plis_sent =
        r.GetCounter("plateau_mcu_transport_plis_sent_total", "Keyframe requests (PLI/FIR) sent");
  }
};

}  // namespace

std::vector<PayloadTypeInfo> DefaultPayloadTypes() {
  return {{96, MediaKind::kVideo, 90000}, {111, MediaKind::kAudio, 48000}};
}

struct VenueTransport::Impl : std::enable_shared_from_this<Impl> {
  struct Inbound {
    MediaKind kind = MediaKind::kAudio;
    uint8_t payload_type = 0;
    std::unique_ptr<rtp::NackGenerator> nack;  // video only
    uint64_t nack_seqs_sent = 0;
    int64_t last_auto_keyframe_ms = -kAutoKeyframeIntervalMs;
  };
  struct Outbound {
    MediaKind kind = MediaKind::kAudio;
    uint32_t clock_rate = 90000;
    uint64_t packets = 0;
    uint64_t octets = 0;  // payload bytes, for the SR
    uint32_t last_timestamp = 0;
    int64_t last_send_us = 0;
    bool sent_since_report = false;
    std::unique_ptr<rtp::RetransmissionHistory> history;  // video only
    rtp::ReportBlock remote_block;
    bool have_remote_block = false;
    uint64_t retransmitted = 0;
    std::optional<uint8_t> last_fir_seq;  // FIR sequence numbers are de-duplicated (RFC 5104)
  };
  // What to call once the lock is released.
  struct Actions {
    std::vector<uint32_t> keyframe_requests;
    std::optional<uint64_t> remb;
    std::vector<uint32_t> byes;
  };

  Impl(asio::io_context& io_context, VenueTransportConfig cfg, VenueTransportCallbacks cbs,
       metrics::Registry& metrics_registry, const plateau::Clock& clk)
      : clock(clk),
        registry(metrics_registry),
        mono_anchor_us(NowUs()),
        wall_anchor_us(clk.UnixMs() * 1000),
        io(io_context),
        socket(io_context),
        rtcp_timer(io_context),
        nack_timer(io_context),
        config(std::move(cfg)),
        callbacks(std::move(cbs)),
        receive_stats(config.max_inbound_streams) {}

  // Monotonic microseconds (arrivals, NACK and RTCP timing, statistics).
  int64_t NowUs() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               clock.Monotonic().time_since_epoch())
        .count();
  }
  // Wall time for RTCP (SR NTP timestamps, LSR/DLSR): the clock's Unix time when the transport
  // opened, advanced by its monotonic time since. The clock's wall reading has millisecond steps,
  // too coarse for round trips on a LAN (1/65536 s units), and an SR's NTP time should advance
  // with its RTP time, not jump when the wall clock is stepped.
  rtp::NtpTime NowNtp() const {
    return rtp::NtpTime::FromUnixMicros(wall_anchor_us + (NowUs() - mono_anchor_us));
  }

  Status Open() {
    if (config.payload_types.empty()) return Error{"bad_config", "no payload types configured"};
    for (const auto& pt : config.payload_types) {
      if (pt.payload_type > 127 || (pt.payload_type >= 64 && pt.payload_type <= 95)) {
        return Error{"bad_config", "payload type " + std::to_string(pt.payload_type) +
                                       " is outside 0..63, 96..127 (RFC 5761 rtcp-mux)"};
      }
      if (pt.clock_rate == 0) {
        return Error{"bad_config",
                     "payload type " + std::to_string(pt.payload_type) + " has clock rate 0"};
      }
      if (!payload_types.emplace(pt.payload_type, pt).second) {
        return Error{"bad_config",
                     "payload type " + std::to_string(pt.payload_type) + " configured twice"};
      }
    }
    if (config.rtcp_interval < std::chrono::milliseconds(50) ||
        config.rtcp_interval > std::chrono::seconds(60)) {
      return Error{"bad_config", "rtcp_interval must be 50 ms..60 s"};
    }
    if (config.cname.empty()) config.cname = "plateau-" + config.name;
    if (config.rtcp_ssrc == 0) config.rtcp_ssrc = random::NonZeroU32();
    SrtpSession::Options in_options;
    in_options.replay_window = config.replay_window;
    auto in = SrtpSession::Create(SrtpSession::Direction::kInbound, config.receive_key, in_options);
    if (!in) return in.error();
    auto out = SrtpSession::Create(SrtpSession::Direction::kOutbound, config.send_key);
    if (!out) return out.error();
    srtp_in = std::move(*in);
    srtp_out = std::move(*out);

    boost::system::error_code ec;
    const auto address = asio::ip::make_address(config.bind_address, ec);
    if (ec) {
      return Error{"bad_address",
                   "bind address \"" + config.bind_address + "\" is not an IP address"};
    }
    const udp::endpoint local(address, config.bind_port);
    socket.open(local.protocol(), ec);
    if (!ec) socket.bind(local, ec);
    if (ec) {
      return Error{"bind", "cannot bind UDP " + config.bind_address + ":" +
                               std::to_string(config.bind_port) + ": " + ec.message()};
    }
    socket.non_blocking(true, ec);
    socket.set_option(asio::socket_base::receive_buffer_size(1 << 20), ec);
    socket.set_option(asio::socket_base::send_buffer_size(1 << 20), ec);
    local_ep = socket.local_endpoint(ec);
    {
      // No other thread runs yet; the lock is for the analysis (and costs nothing).
      MutexLock lock(mu);
      if (config.remote) remote = ToUdp(*config.remote);
      if (remote && config.claim_trusted_address &&
          config.remote->address() != *config.claim_trusted_address) {
        // Nothing goes to an unproven address: the first authenticated packet latches the remote.
        log::Warn(
            "mcu.transport.remote_unverified",
            {{"venue", config.name},
             {"claimed", remote->address().to_string() + ":" + std::to_string(remote->port())},
             {"signaling", config.claim_trusted_address->ToString()}});
        remote.reset();
      }
    }
    log::Info("mcu.transport.open",
              {{"venue", config.name},
               {"local", local_ep.address().to_string() + ":" + std::to_string(local_ep.port())}});
    return Status::Ok();
  }

  void Start() {
    DoReceive();
    ScheduleRtcp();
  }

  // ---- receiving --------------------------------------------------------------------------------

  void DoReceive() {
    socket.async_receive_from(asio::buffer(rx), rx_from,
                              [self = shared_from_this()](const boost::system::error_code& ec,
                                                          size_t n) { self->OnReceive(ec, n); });
  }

  void OnReceive(const boost::system::error_code& ec, size_t n) {
    if (closed) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // ICMP port unreachable and similar surface here on Linux: keep receiving.
      DoReceive();
      return;
    }
    HandleDatagram(n);
    for (int i = 0; i < kReadBurst && !closed; ++i) {
      boost::system::error_code rec;
      const size_t m = socket.receive_from(asio::buffer(rx), rx_from, 0, rec);
      if (rec) break;
      HandleDatagram(m);
    }
    if (!closed) DoReceive();
  }

  void HandleDatagram(size_t n) PLATEAU_EXCLUDES(mu) {
    const int64_t now_us = NowUs();
    std::span<uint8_t> data(rx.data(), n);
    std::optional<rtp::RtpPacket> deliver;
    RtpArrival arrival;
    Actions actions;
    {
      MutexLock lock(mu);
      ++datagrams_in;
      if (n > kMaxDatagram || n == 0) {
        Drop(&stats.dropped_malformed, totals().dropped_malformed);
        return;
      }
      if (!config.latch && remote && rx_from != *remote) {
        Drop(&stats.dropped_foreign_source, totals().dropped_other);
        return;
      }
      switch (rtp::Classify(data)) {
        case rtp::PacketKind::kRtp:
          deliver = HandleRtp(data, now_us, &arrival);
          break;
        case rtp::PacketKind::kRtcp:
          HandleRtcp(data, now_us, &actions);
          break;
        default:
          Drop(&stats.dropped_unknown, totals().dropped_unknown);
          return;
      }
    }
    if (deliver && callbacks.on_rtp) callbacks.on_rtp(*deliver, arrival);
    RunActions(actions);
  }

  // Calls out without the lock: a callback may call back into the transport.
  void RunActions(const Actions& actions) PLATEAU_EXCLUDES(mu) {
    if (closed) return;
    for (uint32_t ssrc : actions.keyframe_requests) {
      if (callbacks.on_keyframe_request) callbacks.on_keyframe_request(ssrc);
    }
    if (actions.remb && callbacks.on_remb) callbacks.on_remb(*actions.remb);
    for (uint32_t ssrc : actions.byes) {
      if (callbacks.on_bye) callbacks.on_bye(ssrc);
    }
  }

  // Under the lock: the counters are in `stats`.
  void Drop(uint64_t* counter, metrics::Counter* metric) PLATEAU_REQUIRES(mu) {
    ++*counter;
    metric->Inc();
  }

  bool CountSrtpFailure(SrtpStatus s) PLATEAU_REQUIRES(mu) {
    const auto& m = totals();
    switch (s) {
      case SrtpStatus::kOk:
        return false;
      case SrtpStatus::kAuthFailed:
        Drop(&stats.dropped_auth, m.dropped_auth);
        break;
      case SrtpStatus::kReplayed:
        Drop(&stats.dropped_replay, m.dropped_replay);
        break;
      case SrtpStatus::kMalformed:
      case SrtpStatus::kError:
        Drop(&stats.dropped_malformed, m.dropped_malformed);
        break;
    }
    return true;
  }

  // An authenticated packet arrived from `rx_from`: learn or follow the remote.
  void Latch() PLATEAU_REQUIRES(mu) {
    if (remote && *remote == rx_from) return;
    if (remote && !config.latch) return;
    log::Info("mcu.transport.latch",
              {{"venue", config.name},
               {"remote", rx_from.address().to_string() + ":" + std::to_string(rx_from.port())}});
    remote = rx_from;
  }

  // Under the lock. Returns the packet to deliver.
  std::optional<rtp::RtpPacket> HandleRtp(std::span<uint8_t> data, int64_t now_us,
                                          RtpArrival* arrival) PLATEAU_REQUIRES(mu) {
    size_t plain_size = 0;
    if (CountSrtpFailure(srtp_in->UnprotectRtp(data, &plain_size))) return std::nullopt;
    auto packet = rtp::RtpPacket::Parse(data.first(plain_size));
    if (!packet) {
      Drop(&stats.dropped_malformed, totals().dropped_malformed);
      return std::nullopt;
    }
    Latch();
    const auto pt = payload_types.find(packet->payload_type());
    if (pt == payload_types.end()) {
      Drop(&stats.dropped_unknown_pt, totals().dropped_other);
      return std::nullopt;
    }
    rtp::StreamStatistics* stream =
        receive_stats.GetOrCreate(packet->ssrc(), pt->second.clock_rate);
    if (!stream) {
      Drop(&stats.dropped_stream_limit, totals().dropped_other);
      return std::nullopt;
    }
    Inbound& in = inbound[packet->ssrc()];
    if (!in.nack && pt->second.kind == MediaKind::kVideo && config.nack) {
      in.nack = std::make_unique<rtp::NackGenerator>(config.nack_config);
      if (stats.rtt_ms > 0) in.nack->SetRtt(static_cast<int64_t>(stats.rtt_ms));
    }
    in.kind = pt->second.kind;
    in.payload_type = packet->payload_type();
    stream->OnPacket(packet->sequence_number(), packet->timestamp(), now_us,
                     packet->payload().size());
    arrival->arrival_us = now_us;
    arrival->kind = in.kind;
    if (in.nack) {
      arrival->recovered = in.nack->OnPacket(packet->sequence_number(), now_us / 1000);
      if (arrival->recovered) ++stats.recovered;
      ArmNackTimer();
    }
    ++stats.packets_in;
    stats.bytes_in += data.size();
    totals().packets_in->Inc();
    return packet;
  }

  // Under the lock. What to call back is left in `actions`, for after it is released.
  void HandleRtcp(std::span<uint8_t> data, int64_t now_us, Actions* actions) PLATEAU_REQUIRES(mu) {
    size_t plain_size = 0;
    if (CountSrtpFailure(srtp_in->UnprotectRtcp(data, &plain_size))) return;
    const auto packets = rtp::ParseRtcpCompound(data.first(plain_size));
    if (!packets) {
      Drop(&stats.dropped_malformed, totals().dropped_malformed);
      return;
    }
    Latch();
    ++stats.rtcp_in;
    const uint32_t arrival_ntp = NowNtp().Compact();
    for (const auto& p : *packets) {
      if (const auto* sr = std::get_if<rtp::SenderReport>(&p)) {
        if (auto* s = receive_stats.Find(sr->ssrc)) s->OnSenderReport(sr->ntp, now_us);
        OnReportBlocks(sr->report_blocks, arrival_ntp);
      } else if (const auto* rr = std::get_if<rtp::ReceiverReport>(&p)) {
        OnReportBlocks(rr->report_blocks, arrival_ntp);
      } else if (const auto* nack = std::get_if<rtp::Nack>(&p)) {
        OnNack(*nack);
      } else if (const auto* pli = std::get_if<rtp::Pli>(&p)) {
        ++stats.plis_received;
        actions->keyframe_requests.push_back(pli->media_ssrc);
      } else if (const auto* fir = std::get_if<rtp::Fir>(&p)) {
        ++stats.firs_received;
        for (const auto& e : fir->entries) {
          auto it = outbound.find(e.ssrc);
          if (it == outbound.end()) continue;
          if (it->second.last_fir_seq && *it->second.last_fir_seq == e.sequence_number) continue;
          it->second.last_fir_seq = e.sequence_number;
          actions->keyframe_requests.push_back(e.ssrc);
        }
      } else if (const auto* remb = std::get_if<rtp::Remb>(&p)) {
        ++stats.rembs_received;
        actions->remb = remb->bitrate_bps;
      } else if (const auto* bye = std::get_if<rtp::Bye>(&p)) {
        actions->byes.insert(actions->byes.end(), bye->ssrcs.begin(), bye->ssrcs.end());
      }
    }
  }

  void OnReportBlocks(const std::vector<rtp::ReportBlock>& blocks, uint32_t arrival_ntp)
      PLATEAU_REQUIRES(mu) {
    for (const auto& b : blocks) {
      auto it = outbound.find(b.ssrc);
      if (it == outbound.end()) continue;
      it->second.remote_block = b;
      it->second.have_remote_block = true;
      if (const auto rtt = rtp::RoundTripMs(b, arrival_ntp)) {
        stats.rtt_ms = *rtt;
        for (auto& [ssrc, in] : inbound) {
          if (in.nack) in.nack->SetRtt(static_cast<int64_t>(*rtt));
        }
      }
    }
  }

  void OnNack(const rtp::Nack& nack) PLATEAU_REQUIRES(mu) {
    ++stats.nacks_received;
    stats.nack_seqs_received += nack.sequence_numbers.size();
    auto it = outbound.find(nack.media_ssrc);
    if (it == outbound.end() || !it->second.history) {
      stats.retransmit_missed += nack.sequence_numbers.size();
      return;
    }
    const int64_t now_ms = NowUs() / 1000;
    size_t handled = 0;
    for (uint16_t seq : nack.sequence_numbers) {
      if (++handled > kMaxResendPerNack) {
        ++stats.retransmit_missed;
        continue;
      }
      const auto stored = it->second.history->Find(seq, now_ms);
      if (!stored) {
        ++stats.retransmit_missed;
        continue;
      }
      std::vector<uint8_t> copy(stored->begin(), stored->end());
      if (ProtectAndSendRtp(std::move(copy))) {
        ++stats.retransmitted;
        ++it->second.retransmitted;
        totals().retransmitted->Inc();
      }
    }
  }

  // ---- sending ----------------------------------------------------------------------------------

  // Under the lock.
  bool SendDatagram(const std::vector<uint8_t>& bytes) PLATEAU_REQUIRES(mu) {
    if (!remote) return false;
    boost::system::error_code ec;
    socket.send_to(asio::buffer(bytes), *remote, 0, ec);
    if (ec) {
      ++stats.send_errors;
      return false;
    }
    return true;
  }

  // Under the lock (the SRTP context and `stats`), as are the two below.
  bool ProtectAndSendRtp(std::vector<uint8_t> packet) PLATEAU_REQUIRES(mu) {
    if (srtp_out->ProtectRtp(&packet) != SrtpStatus::kOk) {
      ++stats.send_errors;
      return false;
    }
    if (!SendDatagram(packet)) return false;
    ++stats.packets_out;
    stats.bytes_out += packet.size();
    totals().packets_out->Inc();
    return true;
  }

  bool ProtectAndSendRtcp(std::vector<uint8_t> packet) PLATEAU_REQUIRES(mu) {
    if (packet.empty() || !remote) return false;
    if (srtp_out->ProtectRtcp(&packet) != SrtpStatus::kOk) {
      ++stats.send_errors;
      return false;
    }
    if (!SendDatagram(packet)) return false;
    ++stats.rtcp_out;
    return true;
  }

  void SendRtpNow(std::vector<uint8_t> packet) PLATEAU_EXCLUDES(mu) {
    MutexLock lock(mu);
    if (closed) return;
    const auto parsed = rtp::RtpPacket::Parse(packet);
    const auto pt = parsed ? payload_types.find(parsed->payload_type()) : payload_types.end();
    if (pt == payload_types.end()) {
      ++stats.send_dropped_invalid;
      return;
    }
    auto it = outbound.find(parsed->ssrc());
    if (it == outbound.end()) {
      if (outbound.size() >= config.max_outbound_streams) {
        ++stats.send_dropped_invalid;
        return;
      }
      it = outbound.emplace(parsed->ssrc(), Outbound{}).first;
      it->second.kind = pt->second.kind;
      it->second.clock_rate = pt->second.clock_rate;
      if (pt->second.kind == MediaKind::kVideo) {
        it->second.history = std::make_unique<rtp::RetransmissionHistory>(
            config.history_packets, config.history_max_age_ms);
      }
    }
    Outbound& out = it->second;
    const int64_t now_us = NowUs();
    if (out.history) out.history->Store(parsed->sequence_number(), packet, now_us / 1000);
    if (!remote) {
      ++stats.send_dropped_no_remote;
      return;
    }
    const size_t payload_size = parsed->payload().size();
    const uint32_t timestamp = parsed->timestamp();
    if (!ProtectAndSendRtp(std::move(packet))) return;
    ++out.packets;
    out.octets += payload_size;
    out.last_timestamp = timestamp;
    out.last_send_us = now_us;
    out.sent_since_report = true;
  }

  void SendKeyframeRequest(uint32_t media_ssrc) PLATEAU_REQUIRES(mu) {
    if (config.keyframe_method == KeyframeRequestMethod::kFir) {
      rtp::Fir fir;
      fir.sender_ssrc = config.rtcp_ssrc;
      fir.entries.push_back({media_ssrc, fir_sequence++});
      if (ProtectAndSendRtcp(rtp::BuildRtcp(fir))) ++stats.firs_sent;
    } else {
      if (ProtectAndSendRtcp(rtp::BuildRtcp(rtp::Pli{config.rtcp_ssrc, media_ssrc}))) {
        ++stats.plis_sent;
      }
    }
    totals().plis_sent->Inc();
  }

  void RequestKeyframeNow(uint32_t media_ssrc) PLATEAU_EXCLUDES(mu) {
    MutexLock lock(mu);
    if (closed) return;
    if (media_ssrc != 0) {
      SendKeyframeRequest(media_ssrc);
      return;
    }
    for (const auto& [ssrc, in] : inbound) {
      if (in.kind == MediaKind::kVideo) SendKeyframeRequest(ssrc);
    }
  }

  // ---- timers -----------------------------------------------------------------------------------

  // Under the lock (the NACK generators and the armed deadline).
  void ArmNackTimer() PLATEAU_REQUIRES(mu) {
    std::optional<int64_t> due;
    for (const auto& [ssrc, in] : inbound) {
      if (!in.nack) continue;
      const auto d = in.nack->NextDueMs();
      if (d && (!due || *d < *due)) due = d;
    }
    if (!due) return;
    if (nack_timer_due_ms && *nack_timer_due_ms <= *due) return;  // an earlier wake-up is armed
    nack_timer_due_ms = due;
    const int64_t now_ms = NowUs() / 1000;
    nack_timer.expires_after(std::chrono::milliseconds(std::max<int64_t>(*due - now_ms, 1)));
    nack_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      self->OnNackTimer();
    });
  }

  void OnNackTimer() PLATEAU_EXCLUDES(mu) {
    MutexLock lock(mu);
    if (closed) return;
    nack_timer_due_ms.reset();
    const int64_t now_ms = NowUs() / 1000;
    for (auto& [ssrc, in] : inbound) {
      if (!in.nack) continue;
      const auto seqs = in.nack->GetNackList(now_ms);
      if (!seqs.empty()) {
        rtp::Nack nack;
        nack.sender_ssrc = config.rtcp_ssrc;
        nack.media_ssrc = ssrc;
        nack.sequence_numbers = seqs;
        if (ProtectAndSendRtcp(rtp::BuildRtcp(nack))) {
          ++stats.nacks_sent;
          stats.nack_seqs_sent += seqs.size();
          in.nack_seqs_sent += seqs.size();
          totals().nacks_sent->Inc();
        }
      }
      if (in.nack->TakeKeyframeRequest() &&
          now_ms - in.last_auto_keyframe_ms >= kAutoKeyframeIntervalMs) {
        in.last_auto_keyframe_ms = now_ms;
        SendKeyframeRequest(ssrc);
      }
    }
    ArmNackTimer();
  }

  void ScheduleRtcp() {
    // RFC 3550 6.3.5: randomise to 0.5..1.5 of the interval so reports do not synchronise.
    std::uniform_real_distribution<double> factor(0.5, 1.5);
    const auto delay = std::chrono::duration_cast<asio::steady_timer::duration>(
        std::chrono::duration<double, std::milli>(config.rtcp_interval.count() * factor(rng)));
    rtcp_timer.expires_after(delay);
    rtcp_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      self->OnRtcpTimer();
    });
  }

  void OnRtcpTimer() PLATEAU_EXCLUDES(mu) {
    {
      MutexLock lock(mu);
      if (closed) return;
      SendReport();
    }
    ScheduleRtcp();
  }

  // Under the lock: one compound, SR (if we sent media since the last report) or RR, report
  // blocks on every inbound stream, then SDES CNAME.
  void SendReport() PLATEAU_REQUIRES(mu) {
    if (!remote) return;
    const int64_t now_us = NowUs();
    std::vector<rtp::RtcpPacket> packets;
    auto blocks = receive_stats.MakeReportBlocks(now_us);
    const rtp::NtpTime ntp = NowNtp();
    uint32_t chunk_ssrc = config.rtcp_ssrc;
    bool first = true;
    for (auto& [ssrc, out] : outbound) {
      if (!out.sent_since_report) continue;
      out.sent_since_report = false;
      rtp::SenderReport sr;
      sr.ssrc = ssrc;
      sr.ntp = ntp;
      // The RTP time that corresponds to `ntp`: the last timestamp sent, advanced by the time
      // since it was sent.
      sr.rtp_timestamp = out.last_timestamp +
                         static_cast<uint32_t>((now_us - out.last_send_us) *
                                               static_cast<int64_t>(out.clock_rate) / 1000000);
      sr.packet_count = static_cast<uint32_t>(out.packets);
      sr.octet_count = static_cast<uint32_t>(out.octets);
      if (first) {
        sr.report_blocks = std::move(blocks);
        blocks.clear();
        chunk_ssrc = ssrc;
        first = false;
      }
      packets.emplace_back(std::move(sr));
    }
    if (first) packets.emplace_back(rtp::ReceiverReport{config.rtcp_ssrc, std::move(blocks)});
    packets.emplace_back(rtp::Sdes{{rtp::SdesChunk{chunk_ssrc, config.cname}}});
    ProtectAndSendRtcp(rtp::BuildRtcpCompound(packets));
  }

  // ---- lifecycle and stats ----------------------------------------------------------------------

  void CloseNow() PLATEAU_EXCLUDES(mu) {
    auto dropped = std::make_shared<VenueTransportCallbacks>();
    {
      MutexLock lock(mu);
      if (closed) return;
      closed = true;
      boost::system::error_code ec;
      rtcp_timer.cancel();
      nack_timer.cancel();
      socket.close(ec);
      *dropped = std::move(callbacks);
      callbacks = {};
    }
    // Close() may be called from inside one of these callbacks: destroy them later, on the io
    // thread, not under the caller's feet (or with the io_context if it no longer runs).
    asio::post(io, [dropped] {});
    log::Info("mcu.transport.close", {{"venue", config.name}});
  }

  VenueTransportStats Snapshot() const PLATEAU_EXCLUDES(mu) {
    MutexLock lock(mu);
    VenueTransportStats s = stats;
    for (const auto& [ssrc, st] : receive_stats.streams()) {
      InboundStreamStats is;
      is.ssrc = ssrc;
      if (auto it = inbound.find(ssrc); it != inbound.end()) {
        is.kind = it->second.kind;
        is.payload_type = it->second.payload_type;
        is.nack_seqs_sent = it->second.nack_seqs_sent;
        if (it->second.nack) {
          is.recovered = it->second.nack->recovered();
          is.given_up = it->second.nack->given_up();
        }
      }
      is.packets = st.packets_received();
      is.bytes = st.bytes_received();
      is.lost = st.cumulative_lost();
      is.fraction_lost = st.last_fraction_lost() / 256.0;
      is.jitter_ms = st.jitter_ms();
      is.extended_highest_seq = st.extended_highest_seq();
      s.lost += is.lost;
      s.fraction_lost = std::max(s.fraction_lost, is.fraction_lost);
      s.jitter_ms = std::max(s.jitter_ms, is.jitter_ms);
      s.inbound.push_back(is);
    }
    for (const auto& [ssrc, out] : outbound) {
      OutboundStreamStats os;
      os.ssrc = ssrc;
      os.kind = out.kind;
      os.packets = out.packets;
      os.bytes = out.octets;
      os.retransmitted = out.retransmitted;
      if (out.have_remote_block) {
        os.remote_lost = out.remote_block.cumulative_lost;
        os.remote_fraction_lost = out.remote_block.fraction_lost / 256.0;
        os.remote_jitter_ms = out.remote_block.jitter * 1000.0 / out.clock_rate;
      }
      s.remote_lost += os.remote_lost;
      s.outbound.push_back(os);
    }
    return s;
  }

  // The io thread's (the socket, the receive buffer, the timers, the callbacks), or set by Open()
  // before the transport is shared and read-only after (config, payload types, local address).
  const plateau::Clock& clock;  // every time the transport reads; timers wait on Asio's clock
  metrics::Registry& registry;  // the creator's
  // The counters in `registry`, looked up on first use (any thread; the counters are atomics).
  std::once_flag totals_once;
  std::optional<TransportMetrics> totals_;
  const TransportMetrics& totals() {
    std::call_once(totals_once, [this] { totals_.emplace(registry); });
    return *totals_;
  }
  const int64_t mono_anchor_us;  // NowNtp's anchor: clock.Monotonic() and
  const int64_t wall_anchor_us;  // clock.UnixMs() when the transport opened
  asio::io_context& io;
  udp::socket socket;
  asio::steady_timer rtcp_timer;
  asio::steady_timer nack_timer;
  VenueTransportConfig config;
  VenueTransportCallbacks callbacks;  // called without the lock, on the io thread
  std::map<uint8_t, PayloadTypeInfo> payload_types;
  std::array<uint8_t, kReceiveBuffer> rx{};
  udp::endpoint rx_from;
  udp::endpoint local_ep;
  // The RFC 3550 RTCP interval jitter (ScheduleRtcp); stateless, so no lock.
  random::Generator rng;

  // Taken on the io thread per datagram/timer/send, and by the any-thread getters; leaf (no
  // callback runs with it held).
  mutable Mutex mu;
  std::atomic<bool> closed{false};  // also read without mu, on the io thread, to stop early
  // Set by Open(); the SRTP contexts (rollover counters, replay windows) change with every packet.
  std::unique_ptr<SrtpSession> srtp_in PLATEAU_PT_GUARDED_BY(mu);
  std::unique_ptr<SrtpSession> srtp_out PLATEAU_PT_GUARDED_BY(mu);
  std::optional<udp::endpoint> remote PLATEAU_GUARDED_BY(mu);  // SetRemote, latching, sends
  rtp::ReceiveStatistics receive_stats PLATEAU_GUARDED_BY(mu);
  std::map<uint32_t, Inbound> inbound PLATEAU_GUARDED_BY(mu);
  std::map<uint32_t, Outbound> outbound PLATEAU_GUARDED_BY(mu);
  VenueTransportStats stats PLATEAU_GUARDED_BY(mu);
  uint64_t datagrams_in PLATEAU_GUARDED_BY(mu) = 0;
  std::optional<int64_t> nack_timer_due_ms PLATEAU_GUARDED_BY(mu);
  uint8_t fir_sequence PLATEAU_GUARDED_BY(mu) = 0;
};

Result<std::shared_ptr<VenueTransport>> VenueTransport::Create(asio::io_context& io,
                                                               VenueTransportConfig config,
                                                               VenueTransportCallbacks callbacks,
                                                               metrics::Registry& metrics,
                                                               const plateau::Clock& clock) {
  auto impl = std::make_shared<Impl>(io, std::move(config), std::move(callbacks), metrics, clock);
  if (Status s = impl->Open(); !s) return s.error();
  impl->Start();
  return std::shared_ptr<VenueTransport>(new VenueTransport(std::move(impl)));
}

VenueTransport::VenueTransport(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

VenueTransport::~VenueTransport() {
  Close();
}

Endpoint VenueTransport::local_endpoint() const {
  return FromUdp(impl_->local_ep);
}

std::optional<Endpoint> VenueTransport::remote_endpoint() const {
  MutexLock lock(impl_->mu);
  if (!impl_->remote) return std::nullopt;
  return FromUdp(*impl_->remote);
}

void VenueTransport::SetRemote(const Endpoint& remote) {
  MutexLock lock(impl_->mu);
  impl_->remote = ToUdp(remote);
}

void VenueTransport::SendRtp(std::span<const uint8_t> packet) {
  SendRtp(std::vector<uint8_t>(packet.begin(), packet.end()));
}

void VenueTransport::SendRtp(std::vector<uint8_t> packet) {
  asio::dispatch(impl_->io, [impl = impl_, p = std::move(packet)]() mutable {
    impl->SendRtpNow(std::move(p));
  });
}

void VenueTransport::RequestKeyframe(uint32_t media_ssrc) {
  asio::dispatch(impl_->io, [impl = impl_, media_ssrc] { impl->RequestKeyframeNow(media_ssrc); });
}

VenueTransportStats VenueTransport::GetStats() const {
  return impl_->Snapshot();
}

void VenueTransport::Close() {
  if (impl_->io.get_executor().running_in_this_thread() || impl_->io.stopped()) {
    impl_->CloseNow();
  } else {
    asio::post(impl_->io, [impl = impl_] { impl->CloseNow(); });
  }
}

const std::string& VenueTransport::name() const {
  return impl_->config.name;
}

}  // namespace plateau::mcu::transport
