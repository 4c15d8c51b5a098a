#include "plateau/mcu/transport/crypto_attribute.hpp"

#include <charconv>

#include "plateau/common/base64.hpp"

namespace plateau::mcu::transport {
namespace {

constexpr size_t kMaxAttributeSize = 1024;

Error Fail(const char* code, std::string message) {
  return Error{code, std::move(message)};
}

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (!AllDigits(s)) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool Printable(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E) return false;
  }
  return true;
}

Result<uint64_t> ParseLifetime(std::string_view s) {
  if (s.size() > 2 && s[0] == '2' && s[1] == '^') {
    unsigned n = 0;
    if (!ParseNumber(s.substr(2), &n) || n < 1 || n > 63) {
      return Fail("crypto_lifetime",
                  "lifetime 2^n needs n in 1..63, got \"" + std::string(s) + "\"");
    }
    return uint64_t{1} << n;
  }
  uint64_t v = 0;
  if (!ParseNumber(s, &v) || v == 0) {
    return Fail("crypto_lifetime",
                "lifetime must be 2^n or a positive number, got \"" + std::string(s) + "\"");
  }
  return v;
}

Status CheckSessionParam(std::string_view p) {
  if (!Printable(p)) return Fail("crypto_param", "session parameter has non-printable characters");
  if (p[0] == '-') return Status::Ok();  // optional extension: ignorable
  if (p.starts_with("WSH=")) {
    unsigned v = 0;
    if (!ParseNumber(p.substr(4), &v) || v < 64) {
      return Fail("crypto_param", "WSH= needs a window size of at least 64");
    }
    return Status::Ok();
  }
  if (p.starts_with("FEC_ORDER=")) {
    const auto v = p.substr(10);
    if (v == "FEC_SRTP" || v == "SRTP_FEC") return Status::Ok();
    return Fail("crypto_param", "FEC_ORDER= must be FEC_SRTP or SRTP_FEC");
  }
  if (p == "KDR=0") return Status::Ok();
  if (p == "UNENCRYPTED_SRTP" || p == "UNENCRYPTED_SRTCP" || p == "UNAUTHENTICATED_SRTP") {
    return Fail("crypto_param",
                std::string(p) + " is refused: media must be encrypted and authenticated");
  }
  if (p.starts_with("KDR="))
    return Fail("crypto_param", "a key derivation rate other than 0 is not supported");
  if (p.starts_with("FEC_KEY=")) return Fail("crypto_param", "FEC_KEY= is not supported");
  return Fail("crypto_param", "unknown mandatory session parameter \"" + std::string(p) + "\"");
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> bytes) {
  return base64::Encode(bytes, base64::Variant::kStandard);
}

std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  return base64::Decode(text, base64::Variant::kStandard);
}

Result<CryptoAttribute> ParseCryptoAttribute(std::string_view value) {
  if (value.size() > kMaxAttributeSize) {
    return Fail("crypto_syntax", "a=crypto value is longer than 1024 characters");
  }
  if (value.starts_with("a=crypto:")) value.remove_prefix(9);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
  const auto fields = SplitWhitespace(value);
  if (fields.size() < 3) {
    return Fail("crypto_syntax", "a=crypto needs \"<tag> <crypto-suite> inline:<key>\"");
  }
  CryptoAttribute attr;
  if (fields[0].size() > 9 || !ParseNumber(fields[0], &attr.tag) || attr.tag == 0) {
    return Fail("crypto_syntax", "a=crypto tag must be a number 1..999999999, got \"" +
                                     std::string(fields[0]) + "\"");
  }
  if (fields[1] == "AES_CM_128_HMAC_SHA1_80") {
    attr.key.profile = SrtpProfile::kAesCm128HmacSha1_80;
  } else if (fields[1] == "AES_CM_128_HMAC_SHA1_32") {
    attr.key.profile = SrtpProfile::kAesCm128HmacSha1_32;
  } else if (fields[1] == "AEAD_AES_128_GCM") {
    attr.key.profile = SrtpProfile::kAeadAes128Gcm;
  } else {
    return Fail(
        "crypto_suite",
        "unsupported crypto-suite \"" + std::string(fields[1].substr(0, 64)) +
            "\" (use AEAD_AES_128_GCM, AES_CM_128_HMAC_SHA1_80 or AES_CM_128_HMAC_SHA1_32)");
  }
  std::string_view key_params = fields[2];
  if (key_params.find(';') != std::string_view::npos) {
    return Fail("crypto_key", "several keys in one a=crypto line are not supported");
  }
  if (!key_params.starts_with("inline:")) {
    return Fail("crypto_key", "the key method must be \"inline:\"");
  }
  key_params.remove_prefix(7);
  // key||salt ["|" lifetime] ["|" MKI ":" length]
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t bar = key_params.find('|', start);
    parts.push_back(key_params.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  if (parts.size() > 3) return Fail("crypto_key", "too many '|' fields after inline:");
  const auto key = Base64Decode(parts[0]);
  if (!key) return Fail("crypto_key", "the inline: key is not valid base64");
  const size_t want = KeyingMaterialLength(attr.key.profile);
  if (key->size() != want) {
    return Fail("crypto_key", "the inline: key of " + std::string(ToString(attr.key.profile)) +
                                  " must be " + std::to_string(want) + " bytes (16 key + " +
                                  std::to_string(want - 16) + " salt), got " +
                                  std::to_string(key->size()));
  }
  std::copy(key->begin(), key->end(), attr.key.material.begin());
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].find(':') != std::string_view::npos) {
      return Fail("crypto_mki", "an MKI is not supported (send the key without \"|MKI:length\")");
    }
    if (i == 2) return Fail("crypto_lifetime", "two lifetimes given");
    auto lifetime = ParseLifetime(parts[i]);
    if (!lifetime) return lifetime.error();
    attr.lifetime = *lifetime;
  }
  for (size_t i = 3; i < fields.size(); ++i) {
    if (Status s = CheckSessionParam(fields[i]); !s) return s.error();
    attr.session_params.emplace_back(fields[i]);
  }
  return attr;
}

std::string FormatCryptoAttribute(const CryptoAttribute& attribute) {
  std::string out = std::to_string(attribute.tag);
  out += ' ';
  out += ToString(attribute.key.profile);
  out += " inline:";
  out += Base64Encode(attribute.key.bytes());
  if (attribute.lifetime) {
    const uint64_t l = *attribute.lifetime;
    if ((l & (l - 1)) == 0 && l > 1) {
      out += "|2^" + std::to_string(__builtin_ctzll(l));
    } else {
      out += "|" + std::to_string(l);
    }
  }
  for (const auto& p : attribute.session_params) {
    out += ' ';
    out += p;
  }
  return out;
}

}  // namespace plateau::mcu::transport
