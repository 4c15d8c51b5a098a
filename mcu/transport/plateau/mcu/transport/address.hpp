// IP addresses and UDP endpoints as the engine's API names them: plain values (IPv4 or IPv6 bytes,
// a port), with no Asio in sight, so the conference's and the transport's callers (the
// negotiator, the reference terminal, tests, benches) do not take on Boost.Asio's types. The
// transport converts them to and from Asio inside venue_transport.cpp only.
//
// Parse reads outside input (an SDP offer's c= address, a signaling peer's address, a terminal's
// answer), so it is strict and returns an error value: dotted-quad IPv4 ("10.63.0.5"), RFC 4291
// text IPv6 ("::1", "2001:db8::5", "::ffff:10.0.0.1"); no host names, no IPv6 zone ("%eth0"), no
// surrounding spaces. The leaf library plateau_mcu_address holds it (std and the C library's
// inet_pton/inet_ntop; nothing else), so negotiation/ and its fuzzers need not link the transport.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "plateau/common/result.hpp"

namespace plateau::mcu::transport {

class IpAddress {
 public:
  // 0.0.0.0.
  IpAddress() = default;
  static IpAddress V4(const std::array<uint8_t, 4>& bytes);
  static IpAddress V6(const std::array<uint8_t, 16>& bytes);
  // Error "bad_address" for anything that is not the text of one IPv4 or IPv6 address.
  static Result<IpAddress> Parse(std::string_view text);

  bool is_v4() const { return !v6_; }
  bool is_v6() const { return v6_; }
  bool is_unspecified() const;  // 0.0.0.0 or ::
  bool is_multicast() const;    // 224.0.0.0/4 or ff00::/8
  // Network order: 4 bytes for IPv4, 16 for IPv6.
  std::span<const uint8_t> bytes() const { return {bytes_.data(), v6_ ? 16u : 4u}; }
  // Canonical text: "10.63.0.5", "2001:db8::5" (RFC 5952, as inet_ntop writes it).
  std::string ToString() const;

  // An IPv4 address and its IPv4-mapped IPv6 form are different addresses (as in Asio).
  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  bool v6_ = false;
  std::array<uint8_t, 16> bytes_{};  // IPv4 in the first 4, the rest zero
};

// An address and a UDP port.
class Endpoint {
 public:
  Endpoint() = default;
  Endpoint(IpAddress address, uint16_t port) : address_(address), port_(port) {}
  // "10.63.0.5:5004" or "[2001:db8::5]:5004" (the form ToString writes; port 0..65535 in decimal).
  // Error "bad_endpoint".
  static Result<Endpoint> Parse(std::string_view text);

  const IpAddress& address() const { return address_; }
  uint16_t port() const { return port_; }
  std::string ToString() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;

 private:
  IpAddress address_;
  uint16_t port_ = 0;
};

}  // namespace plateau::mcu::transport
