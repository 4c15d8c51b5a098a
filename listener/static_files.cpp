#include "plateau/listener/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace plateau::listener {

namespace fs = std::filesystem;

std::string ContentTypeFor(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".map") return "application/json";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

void AddStaticFiles(Router& router, const std::string& url_prefix, const std::string& root) {
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(fs::path(root), ec);
  router.Add("GET", url_prefix + "/{*path}", [base](const HttpRequest& req) {
    const std::string rel = req.params.at("path");
    // Refuse anything that could step outside the root or reveal hidden files.
    for (size_t i = 0, j; i <= rel.size(); i = j + 1) {
      j = rel.find('/', i);
      if (j == std::string::npos) j = rel.size();
      const std::string seg = rel.substr(i, j - i);
      if (!seg.empty() && seg[0] == '.')
        return HttpResponse::Error(404, "not_found", "no file at " + req.path);
    }
    if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos)
      return HttpResponse::Error(404, "not_found", "no file at " + req.path);
    std::error_code e;
    fs::path p = base / rel;
    if (fs::is_directory(p, e)) p /= "index.html";
    const fs::path real = fs::weakly_canonical(p, e);
    const std::string real_s = real.string(), base_s = base.string();
    if (e || real_s.compare(0, base_s.size(), base_s) != 0 || !fs::is_regular_file(real, e))
      return HttpResponse::Error(404, "not_found", "no file at " + req.path);
    std::ifstream in(real, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    HttpResponse r = HttpResponse::Text(200, ss.str(), ContentTypeFor(real_s));
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  });
}

}  // namespace plateau::listener
