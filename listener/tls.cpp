#include "plateau/listener/tls.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "plateau/common/log.hpp"
#include "plateau/common/random.hpp"

namespace plateau::listener {

namespace fs = std::filesystem;

namespace {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;

Error TlsError(const std::string& what) {
  return Error{"tls_files", what};
}

X509Ptr ReadCertificate(const std::string& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

bool AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  std::string h(buf);
  // Only plain DNS labels go into the SAN.
  for (char c : h)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return "";
  return h;
}

// Writes through a fresh temporary file and renames it over `path`. A secret is created 0600 by
// open(2) itself: never on disk, even for a moment, with a mode another user could open it under.
// O_EXCL|O_NOFOLLOW: a leftover or planted `.tmp` (or a symlink) is removed, never written through.
Status WriteFile(const fs::path& path, const std::string& text, bool secret) {
  const fs::path tmp = path.string() + ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        secret ? 0600 : 0644);
  if (fd < 0) return TlsError("cannot create " + tmp.string() + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (written != text.size() || !synced || !closed) {
    fs::remove(tmp, ec);
    return TlsError("cannot write " + tmp.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) return TlsError("cannot rename " + tmp.string() + ": " + ec.message());
  return Status::Ok();
}

std::string PemOf(int (*write)(BIO*, const void*), const void* object) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get(), object) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

int WriteCert(BIO* bio, const void* cert) {
  return PEM_write_bio_X509(bio, const_cast<X509*>(static_cast<const X509*>(cert)));
}
int WriteKey(BIO* bio, const void* key) {
  return PEM_write_bio_PrivateKey(bio, const_cast<EVP_PKEY*>(static_cast<const EVP_PKEY*>(key)),
                                  nullptr, nullptr, 0, nullptr, nullptr);
}

Result<TlsFiles> Generate(const fs::path& dir) {
  PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return TlsError("cannot generate an EC P-256 key");
  X509Ptr cert(X509_new());
  if (!cert) return TlsError("cannot allocate a certificate");
  unsigned char serial[16];
  random::Bytes(serial);
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, Deleter<BN_free>> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  const std::string host = HostName();
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (!host.empty() && host != "localhost") san += ",DNS:" + host;
  X509_NAME* name = X509_get_subject_name(cert.get());
  const bool ok =
      X509_set_version(cert.get(), 2) == 1 && bn &&
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) != nullptr &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 825L * 24 * 3600) != nullptr &&
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("Plateau"), -1, -1,
                                 0) == 1 &&
      X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_ASC,
          reinterpret_cast<const unsigned char*>(host.empty() ? "localhost" : host.c_str()), -1, -1,
          0) == 1 &&
      X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key.get()) == 1 &&
      // A leaf, not a CA: a client told to trust it (curl --cacert, the terminal's --ca) trusts
      // this one server, never certificates it might sign.
      AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
      AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature") &&
      AddExtension(cert.get(), NID_ext_key_usage, "serverAuth") &&
      AddExtension(cert.get(), NID_subject_key_identifier, "hash") &&
      AddExtension(cert.get(), NID_subject_alt_name, san) &&
      X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return TlsError("cannot build the self-signed certificate");
  const std::string cert_pem = PemOf(WriteCert, cert.get());
  const std::string key_pem = PemOf(WriteKey, key.get());
  if (cert_pem.empty() || key_pem.empty()) return TlsError("cannot encode the certificate");
  TlsFiles files{(dir / "cert.pem").string(), (dir / "key.pem").string(), true};
  // Key first: a cert.pem without its key.pem is never left behind as "complete".
  if (auto st = WriteFile(files.key, key_pem, true); !st) return st.error();
  if (auto st = WriteFile(files.cert, cert_pem, false); !st) return st.error();
  return files;
}

}  // namespace

Result<TlsMode> ParseTlsMode(const std::string& text) {
  if (text == "auto") return TlsMode::kAuto;
  if (text == "on") return TlsMode::kOn;
  if (text == "off") return TlsMode::kOff;
  return Error{"bad_tls_mode", "--tls must be auto, on or off (got \"" + text + "\")"};
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host, ec);
  if (ec) return false;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6()).is_loopback();
  return addr.is_loopback();
}

Result<std::optional<TlsFiles>> ResolveTls(TlsMode mode, const std::string& listen_host,
                                           const std::string& cert, const std::string& key,
                                           const std::string& data_dir) {
  const bool loopback = IsLoopbackHost(listen_host);
  if (mode == TlsMode::kOff && !loopback)
    return Error{"plain_not_loopback",
                 "plain http/ws is only allowed on a loopback address; " + listen_host +
                     " is not one (use --tls auto or on, or listen on 127.0.0.1)"};
  if (mode == TlsMode::kOff || (mode == TlsMode::kAuto && loopback))
    return std::optional<TlsFiles>{};
  if (cert.empty() != key.empty())
    return Error{"bad_tls_config", "[server] tls_cert and tls_key must be set together"};
  if (!cert.empty()) {
    for (const auto& f : {cert, key})
      if (!fs::is_regular_file(f)) return TlsError("TLS file " + f + " does not exist");
    return std::optional<TlsFiles>{TlsFiles{cert, key, false}};
  }
  auto files = EnsureSelfSignedCertificate((fs::path(data_dir) / "tls").string());
  if (!files) return files.error();
  return std::optional<TlsFiles>{*files};
}

Result<TlsFiles> EnsureSelfSignedCertificate(const std::string& dir_text) {
  const fs::path dir(dir_text);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return TlsError("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);  // holds the key
  if (ec) return TlsError("cannot make " + dir.string() + " private: " + ec.message());
  TlsFiles files{(dir / "cert.pem").string(), (dir / "key.pem").string(), true};
  if (fs::is_regular_file(files.cert) && fs::is_regular_file(files.key)) {
    X509Ptr cert = ReadCertificate(files.cert);
    if (cert && X509_cmp_current_time(X509_get0_notAfter(cert.get())) > 0) {
      log::Info("tls.self_signed_reused", {{"cert", files.cert}});
      return files;
    }
    log::Warn("tls.self_signed_replaced",
              {{"cert", files.cert}, {"reason", cert ? "expired" : "unreadable"}});
  }
  auto made = Generate(dir);
  if (made) log::Info("tls.self_signed_generated", {{"cert", made->cert}});
  return made;
}

Result<std::string> CertificateFingerprint(const std::string& cert_path) {
  X509Ptr cert = ReadCertificate(cert_path);
  if (!cert) return TlsError("cannot read a PEM certificate from " + cert_path);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &n) != 1) return TlsError("cannot digest");
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    if (i) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace plateau::listener
