#include "plateau/terminal/client/server_url.hpp"

#include <cctype>

namespace plateau::terminal::client {
namespace {

Error Bad(std::string message) {
  return Error{"bad_url", std::move(message)};
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool IsTargetChar(char c) {
  // RFC 3986 path/query characters (already percent-encoded by the user if needed).
  const unsigned char u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  return c != '"' && c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' && c != '{' &&
         c != '|' && c != '}' && c != '#';
}

}  // namespace

Result<ServerUrl> ParseServerUrl(std::string_view text) {
  if (text.empty()) return Bad("the server URL is empty (expected e.g. ws://127.0.0.1:8080/ws)");
  if (text.size() > kMaxServerUrlChars)
    return Bad("the server URL is longer than " + std::to_string(kMaxServerUrlChars) +
               " characters");
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos)
    return Bad("the server URL has no scheme (expected ws://, wss://, http:// or https://)");
  const std::string scheme = Lower(text.substr(0, sep));
  ServerUrl url;
  if (scheme == "ws" || scheme == "http") {
    url.tls = false;
  } else if (scheme == "wss" || scheme == "https") {
    url.tls = true;
  } else {
    return Bad("unsupported scheme \"" + std::string(text.substr(0, std::min<size_t>(sep, 16))) +
               "\" (expected ws, wss, http or https)");
  }
  std::string_view rest = text.substr(sep + 3);
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    return Bad("credentials in the server URL are not supported (use --token)");
  if (authority.empty()) return Bad("the server URL has no host");

  std::string_view host;
  std::string_view port_text;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad("unterminated IPv6 literal in the server URL");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad("unexpected characters after the IPv6 literal");
      port_text = after.substr(1);
      if (port_text.empty()) return Bad("empty port in the server URL");
    }
    if (host.empty()) return Bad("empty IPv6 literal in the server URL");
    for (char c : host)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return Bad("invalid IPv6 literal in the server URL");
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Bad("empty port in the server URL");
    }
    if (host.empty()) return Bad("the server URL has no host");
    for (char c : host)
      if (!IsHostChar(c)) return Bad("invalid character in the server URL's host");
  }
  if (host.size() > 253) return Bad("the server URL's host is too long");
  url.host = std::string(host);

  if (port_text.empty()) {
    url.port = url.tls ? 443 : 80;
  } else {
    if (port_text.size() > 5) return Bad("the server URL's port is out of range (1..65535)");
    unsigned value = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return Bad("the server URL's port is not a number");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return Bad("the server URL's port is out of range (1..65535)");
    url.port = static_cast<uint16_t>(value);
  }

  if (target.empty() || target == "/") {
    url.target = "/ws";
  } else {
    for (char c : target)
      if (!IsTargetChar(c)) return Bad("invalid character in the server URL's path");
    url.target = target.front() == '?' ? "/ws" + std::string(target) : std::string(target);
  }
  return url;
}

std::string FormatServerUrl(const ServerUrl& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return std::string(url.tls ? "wss://" : "ws://") + host + ":" + std::to_string(url.port) +
         url.target;
}

}  // namespace plateau::terminal::client
