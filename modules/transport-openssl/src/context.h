// One SSL_CTX per certificate, all configured alike from the settings:
// protocols, ciphers, ALPN (server preference), SNI, tickets.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace axle::tls {

struct Instance;
struct CertificateFiles;

// A server context for `files`; callbacks reach `instance` (which must outlive it). nullptr with *error.
SSL_CTX *make_context(Instance *instance, const CertificateFiles &files, std::string *error);

}  // namespace axle::tls
