// Test support: the engine's neutral endpoints (plateau/mcu/transport/address.hpp) for tests that
// also open raw Asio sockets (injectors, a third party a claim points at). Production code
// converts only inside mcu/transport.
#pragma once

#include <boost/asio/ip/udp.hpp>

#include "plateau/mcu/transport/address.hpp"

namespace plateau::testing {

inline boost::asio::ip::udp::endpoint ToUdp(const mcu::transport::Endpoint& e) {
  return {boost::asio::ip::make_address(e.address().ToString()), e.port()};
}

inline mcu::transport::Endpoint FromUdp(const boost::asio::ip::udp::endpoint& e) {
  return {*mcu::transport::IpAddress::Parse(e.address().to_string()), e.port()};
}

// 127.0.0.1, where every network test runs.
inline mcu::transport::IpAddress Loopback() {
  return mcu::transport::IpAddress::V4({127, 0, 0, 1});
}

}  // namespace plateau::testing
