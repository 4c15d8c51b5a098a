// TLS for the one listener: which mode to serve in, and the certificate to serve with (configured
// PEM files, or a self-signed certificate generated into the data directory on first start and
// reused after). OpenSSL's TLS lives only in listener/.
//
// Policy: plain http/ws only on a loopback address; anywhere else TLS (https/wss on the same port).
#pragma once

#include <optional>
#include <string>

#include "plateau/common/result.hpp"

namespace plateau::listener {

enum class TlsMode {
  kAuto,  // TLS unless the listen address is loopback (127.0.0.0/8, ::1, localhost)
  kOn,    // always TLS (tests exercise wss on loopback this way)
  kOff,   // plain; refused on a non-loopback address
};

// "auto" | "on" | "off".
Result<TlsMode> ParseTlsMode(const std::string& text);

// True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost".
bool IsLoopbackHost(const std::string& host);

struct TlsFiles {
  std::string cert;  // PEM certificate chain
  std::string key;   // PEM private key
  bool self_signed = false;
};

// Where to find the certificate: `cert`/`key` from the config when set (both or neither), else the
// self-signed pair in `data_dir`/tls (created when missing). nullopt = serve plain. Errors:
// "plain_not_loopback" (mode off on a public address), "bad_tls_config" (only one of cert/key),
// "tls_files" (cannot create or read the files).
Result<std::optional<TlsFiles>> ResolveTls(TlsMode mode, const std::string& listen_host,
                                           const std::string& cert, const std::string& key,
                                           const std::string& data_dir);

// `dir`/cert.pem and `dir`/key.pem: reused when both exist and the certificate has not expired,
// else generated (ECDSA P-256, SHA-256, valid 825 days, SAN localhost, 127.0.0.1, ::1 and the host
// name; a leaf: CA:FALSE, digitalSignature, serverAuth). `dir` is made 0700 and the key file is
// created 0600 (never chmod-ed after the fact).
Result<TlsFiles> EnsureSelfSignedCertificate(const std::string& dir);

// SHA-256 fingerprint of a PEM certificate file, "AB:CD:..." (for logs and tests).
Result<std::string> CertificateFingerprint(const std::string& cert_path);

}  // namespace plateau::listener
