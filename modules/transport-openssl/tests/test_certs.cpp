#include "test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace certs {
namespace {

EVP_PKEY *new_key() {
  EVP_PKEY *k = EVP_EC_gen("P-256");
  if (!k) throw std::runtime_error("EVP_EC_gen failed");
  return k;
}

X509 *make_cert(EVP_PKEY *key, const std::string &cn, X509 *issuer, EVP_PKEY *issuer_key, long from_s, long to_s,
                bool ca) {
  X509 *x = X509_new();
  static long serial = 1;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), from_s);
  X509_gmtime_adj(X509_getm_notAfter(x), to_s);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string &value) {
    X509_EXTENSION *e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  };
  add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (!ca) add(NID_subject_alt_name, "DNS:" + cn);
  X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
  return x;
}

void write_cert(const std::string &path, X509 *x, X509 *also = nullptr) {
  FILE *f = std::fopen(path.c_str(), "w");
  PEM_write_X509(f, x);
  if (also) PEM_write_X509(f, also);
  std::fclose(f);
}

void write_key(const std::string &path, EVP_PKEY *k) {
  FILE *f = std::fopen(path.c_str(), "w");
  PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

}  // namespace

Pki::Pki() {
  char tmpl[] = "/tmp/axle-tls-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir = tmpl;
  EVP_PKEY *ca_key = new_key();
  X509 *ca_cert = make_cert(ca_key, "axle test CA", nullptr, nullptr, -3600, 86400, true);
  ca = path("ca.crt");
  write_cert(ca, ca_cert);
  const long day = 86400;
  struct Leaf {
    const char *file, *cn;
    long from, to;
  } leaves[] = {{"default", "default.test", -3600, day},
                {"a", "a.example.test", -3600, day},
                {"b", "*.b.example.test", -3600, day},
                {"expired", "expired.test", -2 * day, -day},
                {"future", "future.test", day, 2 * day}};
  for (const Leaf &l : leaves) {
    EVP_PKEY *k = new_key();
    X509 *x = make_cert(k, l.cn, ca_cert, ca_key, l.from, l.to, false);
    write_cert(path(std::string(l.file) + ".crt"), x);
    write_key(path(std::string(l.file) + ".key"), k);
    if (std::string(l.file) == "a") write_cert(path("a-chain.crt"), x, ca_cert);
    X509_free(x);
    EVP_PKEY_free(k);
  }
  EVP_PKEY *other = new_key();
  write_key(path("other.key"), other);
  EVP_PKEY_free(other);
  FILE *f = std::fopen(path("garbage.pem").c_str(), "w");
  std::fputs("this is not a certificate\n", f);
  std::fclose(f);
  X509_free(ca_cert);
  EVP_PKEY_free(ca_key);
}

Pki::~Pki() {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

const Pki &pki() {
  static const Pki p;
  return p;
}

}  // namespace certs
