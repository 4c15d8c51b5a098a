// The HTTP side of the one Beast listener: plain request/response values and a router. Beast stays
// inside listener/; handlers see only these types, so scheduler/app and the MCU control layer can
// be wired in without knowing about Beast.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace plateau::listener {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // as sent, e.g. "/api/v1/bookings?venue=minhe"
  std::string path;                            // decoded path without the query
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> params;   // {name} captures from the route pattern
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote;  // peer address "ip:port"

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse Json(int status, const nlohmann::json& body);
  // {"error":{"code","message", ...extra}}
  static HttpResponse Error(int status, const std::string& code, const std::string& message,
                            const nlohmann::json& extra = nlohmann::json::object());
  static HttpResponse Text(int status, std::string body, std::string content_type = "text/plain");
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Routes by method and path pattern ("/api/v1/bookings/{id}"; a last segment "{*rest}" captures
// the remainder of the path, possibly empty). Routes are tried in the order added. A path that
// matches with another method answers 405 with Allow; no match answers 404 in the API's error
// shape.
class Router {
 public:
  void Add(const std::string& method, const std::string& pattern, HttpHandler handler);
  HttpResponse Dispatch(HttpRequest request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

// Percent-decoding and query splitting, exposed for tests and fuzzing. Malformed escapes are kept
// literally rather than rejected: the router answers 404/400 downstream.
std::string PercentDecode(std::string_view s, bool plus_is_space);
std::map<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace plateau::listener
