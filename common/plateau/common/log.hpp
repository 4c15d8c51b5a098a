// The one structured logger. Every line is a JSON object:
//   {"ts":"2026-11-25T22:00:00.123Z","level":"info","event":"http.listen","addr":"127.0.0.1:8080"}
// Library code logs through these functions only (never std::cerr), so operators can grep or ship
// the stream as it is.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace plateau::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Lines below `level` are dropped. Default: info. Safe to call at any time.
void SetLevel(Level level);
bool ParseLevel(std::string_view text, Level* out);

void Write(Level level, std::string_view event, const nlohmann::json& fields = nlohmann::json::object());

inline void Debug(std::string_view event, const nlohmann::json& fields = nlohmann::json::object()) {
  Write(Level::kDebug, event, fields);
}
inline void Info(std::string_view event, const nlohmann::json& fields = nlohmann::json::object()) {
  Write(Level::kInfo, event, fields);
}
inline void Warn(std::string_view event, const nlohmann::json& fields = nlohmann::json::object()) {
  Write(Level::kWarn, event, fields);
}
inline void Error(std::string_view event, const nlohmann::json& fields = nlohmann::json::object()) {
  Write(Level::kError, event, fields);
}

}  // namespace plateau::log
