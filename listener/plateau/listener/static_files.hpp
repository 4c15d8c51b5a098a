// Static files (the web console, the browser terminal page) served from a directory on disk.
#pragma once

#include <string>

#include "plateau/listener/http.hpp"

namespace plateau::listener {

// Registers GET `url_prefix`/{*path} serving files under `root`. Paths are confined to `root`
// (no "..", no symlinks out, no dot-files); a directory serves its index.html; unknown files 404.
void AddStaticFiles(Router& router, const std::string& url_prefix, const std::string& root);

// Content type by file extension (html, js, css, json, svg, png, ico, woff2, map; else
// application/octet-stream).
std::string ContentTypeFor(const std::string& path);

}  // namespace plateau::listener
