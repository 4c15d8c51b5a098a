#include "plateau/listener/http.hpp"

#include <sstream>

namespace plateau::listener {

HttpResponse HttpResponse::Json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse HttpResponse::Error(int status, const std::string& code, const std::string& message,
                                 const nlohmann::json& extra) {
  nlohmann::json err = {{"code", code}, {"message", message}};
  if (extra.is_object())
    for (auto it = extra.begin(); it != extra.end(); ++it) err[it.key()] = it.value();
  return Json(status, {{"error", err}});
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

namespace {
std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = i;
    while (j < path.size() && path[j] != '/') ++j;
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out += static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2]));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i <= query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(i, amp - i);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string key = PercentDecode(pair.substr(0, eq), true);
      std::string value =
          eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
      out.emplace(std::move(key), std::move(value));
    }
    i = amp + 1;
  }
  return out;
}

void Router::Add(const std::string& method, const std::string& pattern, HttpHandler handler) {
  routes_.push_back(Route{method, Split(pattern), std::move(handler)});
}

HttpResponse Router::Dispatch(HttpRequest request) const {
  const std::vector<std::string> segs = Split(request.path);
  std::vector<std::string> allowed;
  for (const Route& r : routes_) {
    const bool tail = !r.segments.empty() && r.segments.back().rfind("{*", 0) == 0;
    const size_t fixed = tail ? r.segments.size() - 1 : r.segments.size();
    if (tail ? segs.size() < fixed : segs.size() != fixed) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    for (size_t i = 0; i < fixed && match; ++i) {
      const std::string& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}')
        params[p.substr(1, p.size() - 2)] = PercentDecode(segs[i], false);
      else
        match = p == segs[i];
    }
    if (match && tail) {
      std::string rest;
      for (size_t i = fixed; i < segs.size(); ++i) rest += (rest.empty() ? "" : "/") + segs[i];
      const std::string& name = r.segments.back();
      params[name.substr(2, name.size() - 3)] = rest;
    }
    if (!match) continue;
    if (r.method != request.method && !(r.method == "GET" && request.method == "HEAD")) {
      allowed.push_back(r.method);
      continue;
    }
    request.params = std::move(params);
    return r.handler(request);
  }
  if (!allowed.empty()) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    HttpResponse r = HttpResponse::Error(405, "method_not_allowed",
                                         request.method + " is not allowed on " + request.path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  return HttpResponse::Error(404, "not_found", "no resource at " + request.path);
}

}  // namespace plateau::listener
