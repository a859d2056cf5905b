#include "context.h"

#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "certificate.h"
#include "instance.h"

namespace axle::tls {
namespace {

// The first of our protocols (server preference) that the client offered.
// None in common: the handshake fails with no_application_protocol (RFC 7301).
int select_alpn(SSL *, const unsigned char **out, unsigned char *out_len, const unsigned char *in, unsigned int in_len,
                void *arg) {
  const auto *instance = static_cast<const Instance *>(arg);
  for (const std::string &ours : instance->settings.alpn)
    for (unsigned int i = 0; i < in_len;) {
      const unsigned int n = in[i];
      if (i + 1 + n > in_len) return SSL_TLSEXT_ERR_ALERT_FATAL;  // malformed list
      if (n == ours.size() && std::memcmp(in + i + 1, ours.data(), n) == 0) {
        *out = in + i + 1;
        *out_len = static_cast<unsigned char>(n);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + n;
    }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

// Switches to the certificate of the requested name; unknown names keep the default.
int select_certificate(SSL *ssl, int *, void *arg) {
  const auto *instance = static_cast<const Instance *>(arg);
  const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name || instance->sni.empty()) return SSL_TLSEXT_ERR_OK;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  SSL_CTX *ctx = instance->context_for(lower);
  if (ctx != SSL_get_SSL_CTX(ssl) && !SSL_set_SSL_CTX(ssl, ctx)) return SSL_TLSEXT_ERR_ALERT_FATAL;
  return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *fail(SSL_CTX *ctx, std::string *error, const std::string &what) {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  *error = what + " (" + buf + ")";
  SSL_CTX_free(ctx);
  return nullptr;
}

}  // namespace

SSL_CTX *make_context(Instance *instance, const CertificateFiles &files, std::string *error) {
  const Settings &s = instance->settings;
  const axle_host_api_t *host = instance->host;
  const axle_config_t *cfg = instance->cfg;
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    *error = "out of memory creating an SSL_CTX";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, s.min_version);
  SSL_CTX_set_max_proto_version(ctx, s.max_version);
  if (SSL_CTX_set_cipher_list(ctx, s.ciphers.c_str()) != 1 && s.min_version < TLS1_3_VERSION)
    return fail(ctx, error, position_of(host, cfg, "ciphers") + ": no usable cipher in \"" + s.ciphers + "\"");
  if (SSL_CTX_set_ciphersuites(ctx, s.ciphersuites.c_str()) != 1)
    return fail(ctx, error, position_of(host, cfg, "ciphersuites") + ": bad suite list \"" + s.ciphersuites + "\"");
  ERR_clear_error();
  // No renegotiation (a client-driven CPU sink), server's cipher order, ChaCha first for clients that prefer it.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
                               SSL_OP_NO_COMPRESSION);
  // The engine holds the plaintext of a send until on_sent: OpenSSL may not move it between retries.
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  // Tickets only: no server-side session cache to bound or share between workers.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  static const unsigned char kSessionContext[] = "axle";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_timeout(ctx, static_cast<long>(s.session_timeout_s));
  if (s.session_tickets) {
    SSL_CTX_set_ex_data(ctx, TicketKeys::ex_index(), instance->tickets.get());
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, TicketKeys::callback);
  } else {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, instance);
  SSL_CTX_set_tlsext_servername_callback(ctx, select_certificate);
  SSL_CTX_set_tlsext_servername_arg(ctx, instance);
  if (!load_certificate(ctx, files, error)) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

}  // namespace axle::tls
