#include "certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace axle::tls {
namespace {

struct Free {
  void operator()(BIO *b) const { BIO_free(b); }
  void operator()(X509 *x) const { X509_free(x); }
  void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

// Reads the whole file up front so "cannot read" names errno, not an OpenSSL code.
Ptr<BIO> open_file(const std::string &path, const std::string &position, std::string *error) {
  errno = 0;
  Ptr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    const int e = errno ? errno : ENOENT;
    *error = position + ": cannot read " + path + ": " + std::strerror(e);
    ERR_clear_error();
  }
  return bio;
}

std::string time_text(const ASN1_TIME *t) {
  Ptr<BIO> mem(BIO_new(BIO_s_mem()));
  if (!mem || ASN1_TIME_print(mem.get(), t) != 1) return "?";
  char *data = nullptr;
  const long n = BIO_get_mem_data(mem.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

bool check_validity(X509 *leaf, const CertificateFiles &files, std::string *error) {
  if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
    *error = files.certificate_position + ": " + files.certificate + ": certificate is not valid before " +
             time_text(X509_get0_notBefore(leaf));
    return false;
  }
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
    *error = files.certificate_position + ": " + files.certificate + ": certificate expired on " +
             time_text(X509_get0_notAfter(leaf));
    return false;
  }
  return true;
}

}  // namespace

bool load_certificate(SSL_CTX *ctx, const CertificateFiles &files, std::string *error) {
  Ptr<BIO> cert_bio = open_file(files.certificate, files.certificate_position, error);
  if (!cert_bio) return false;
  Ptr<X509> leaf(PEM_read_bio_X509_AUX(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) {
    ERR_clear_error();
    *error = files.certificate_position + ": " + files.certificate + ": not a PEM certificate";
    return false;
  }
  if (!check_validity(leaf.get(), files, error)) return false;
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    ERR_clear_error();
    *error = files.certificate_position + ": " + files.certificate + ": certificate refused by OpenSSL";
    return false;
  }
  SSL_CTX_clear_chain_certs(ctx);
  while (X509 *extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr))
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {  // takes ownership on success only
      X509_free(extra);
      ERR_clear_error();
      *error = files.certificate_position + ": " + files.certificate + ": bad certificate in the chain";
      return false;
    }
  ERR_clear_error();  // the end of the file reads as "no start line"

  Ptr<BIO> key_bio = open_file(files.key, files.key_position, error);
  if (!key_bio) return false;
  Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    *error = files.key_position + ": " + files.key + ": not a PEM private key (or it is encrypted)";
    return false;
  }
  if (X509_check_private_key(leaf.get(), key.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    *error = files.key_position + ": " + files.key + ": key does not match certificate " + files.certificate;
    return false;
  }
  return true;
}

}  // namespace axle::tls
