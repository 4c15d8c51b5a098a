#include "plateau/common/base64.hpp"

#include <sodium.h>

namespace plateau::base64 {
namespace {

int SodiumVariant(Variant variant) {
  return variant == Variant::kStandard ? sodium_base64_VARIANT_ORIGINAL
                                       : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

}  // namespace

std::string Encode(std::span<const uint8_t> bytes, Variant variant) {
  const int v = SodiumVariant(variant);
  std::string out(sodium_base64_encoded_len(bytes.size(), v), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), v);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::vector<uint8_t>> Decode(std::string_view text, Variant variant) {
  std::vector<uint8_t> out(text.size() / 4 * 3 + 3);
  size_t len = 0;
  const char* end = nullptr;
  // libsodium stops at the first byte outside the alphabet and reports where: strict means it
  // stopped at the end.
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        SodiumVariant(variant)) != 0) {
    return std::nullopt;
  }
  if (end != text.data() + text.size()) return std::nullopt;
  out.resize(len);
  return out;
}

}  // namespace plateau::base64
