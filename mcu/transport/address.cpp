#include "plateau/mcu/transport/address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace plateau::mcu::transport {

namespace {

// The longest address text inet_pton can accept ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255").
constexpr size_t kMaxAddressText = INET6_ADDRSTRLEN - 1;

// Outside text inside an error message: bounded, and only printable ASCII.
std::string Quoted(std::string_view text) {
  constexpr size_t kShown = 64;
  std::string out = "\"";
  for (char c : text.substr(0, kShown)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  out += text.size() > kShown ? "...\"" : "\"";
  return out;
}

}  // namespace

IpAddress IpAddress::V4(const std::array<uint8_t, 4>& bytes) {
  IpAddress a;
  std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
  return a;
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.v6_ = true;
  a.bytes_ = bytes;
  return a;
}

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  auto bad = [&] { return Error{"bad_address", Quoted(text) + " is not an IPv4 or IPv6 address"}; };
  // inet_pton reads a C string: an embedded NUL would cut the text short and accept a prefix.
  if (text.empty() || text.size() > kMaxAddressText || text.find('\0') != std::string_view::npos) {
    return bad();
  }
  const std::string z(text);  // NUL-terminated
  IpAddress a;
  // A colon is never in IPv4 text; IPv6 text always has one.
  a.v6_ = text.find(':') != std::string_view::npos;
  if (inet_pton(a.v6_ ? AF_INET6 : AF_INET, z.c_str(), a.bytes_.data()) != 1) return bad();
  return a;
}

bool IpAddress::is_unspecified() const {
  const auto b = bytes();
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

bool IpAddress::is_multicast() const {
  return v6_ ? bytes_[0] == 0xff : (bytes_[0] & 0xf0) == 0xe0;
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  // Cannot fail: the family is valid and the buffer holds the longest form.
  inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), text, sizeof text);
  return text;
}

Result<Endpoint> Endpoint::Parse(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error{"bad_endpoint", Quoted(text) + " is not an address:port (" + why + ")"};
  };
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("an IPv6 address is written [address]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad("an IPv6 address is written [address]:port");
    }
  }
  auto address = IpAddress::Parse(host);
  if (!address) return bad("bad address");
  if (text.front() == '[' && !address->is_v6()) return bad("brackets hold an IPv6 address");
  // 1 to 5 decimal digits, nothing else (from_chars alone would accept a leading '-').
  unsigned value = 0;
  const char* end = port.data() + port.size();
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::from_chars(port.data(), end, value).ptr != end || value > 65535) {
    return bad("the port is a number from 0 to 65535");
  }
  return Endpoint(*address, static_cast<uint16_t>(value));
}

std::string Endpoint::ToString() const {
  const std::string host = address_.ToString();
  return (address_.is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port_);
}

}  // namespace plateau::mcu::transport
