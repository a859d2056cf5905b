// Loads a PEM chain and its key into an SSL_CTX, refusing what would fail
// later at handshake time: unreadable files, non-PEM data, a key that does
// not match, a leaf that is expired or not yet valid.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "settings.h"

namespace axle::tls {

// false with *error = "<position>: <file>: <why>".
bool load_certificate(SSL_CTX *ctx, const CertificateFiles &files, std::string *error);

}  // namespace axle::tls
