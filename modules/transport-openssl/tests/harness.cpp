#include "harness.h"

#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "test_certs.h"

namespace harness {
namespace {

Link *link_of(void *p) { return static_cast<Link *>(p); }

// ---- the fake lower io connection: (loop, io_conn) are both the Link ----
struct LowerIo {
  static axle_status_t send(void *, void *c, const axle_iov_t *iov, uint32_t count) {
    Link *l = link_of(c);
    if (l->lower.closed) l->violations.push_back("lower send after close");
    if (l->lower.in_flight) {
      l->violations.push_back("a second lower send while one is in flight");
      return AXLE_ERR_INVALID;
    }
    l->lower.in_flight = true;
    l->lower.iov.assign(iov, iov + count);  // the array is borrowed; the bytes are lent until on_sent
    size_t n = 0;
    for (uint32_t i = 0; i < count; ++i) n += iov[i].len;
    l->lower.sends++;
    l->lower.largest_send = std::max(l->lower.largest_send, n);
    return AXLE_OK;
  }
  static axle_status_t sendfile(void *, void *c, int, uint64_t, uint64_t) {
    link_of(c)->violations.push_back("lower sendfile in user-space TLS");
    return AXLE_ERR_INVALID;
  }
  static void recv_pause(void *, void *c) { link_of(c)->lower.paused = true; }
  static void recv_resume(void *, void *c) { link_of(c)->lower.paused = false; }
  static void close(void *, void *c) {
    Link *l = link_of(c);
    if (l->lower.closed) l->violations.push_back("lower close twice");
    l->lower.closed = true;
    l->lower.in_flight = false;  // cancelled
  }
  static axle_status_t shutdown_write(void *, void *c) {
    link_of(c)->lower.shut = true;
    return AXLE_OK;
  }
  static axle_status_t conn_address(void *, void *, axle_conn_end_t, axle_address_t *out) {
    out->family = AXLE_ADDR_IPV4;
    out->port = 4433;
    const uint8_t a[4] = {127, 0, 0, 1};
    std::memcpy(out->addr, a, 4);
    return AXLE_OK;
  }
  static axle_status_t conn_option(void *, void *, axle_conn_option_t, int64_t) { return AXLE_OK; }
};

const axle_io_vtable_t kLower = [] {
  axle_io_vtable_t v{};  // a connection's slots only: the loop is not the transport's business
  v.struct_size = sizeof v;
  v.send = LowerIo::send;
  v.sendfile = LowerIo::sendfile;
  v.recv_pause = LowerIo::recv_pause;
  v.recv_resume = LowerIo::recv_resume;
  v.close = LowerIo::close;
  v.shutdown_write = LowerIo::shutdown_write;
  v.conn_address = LowerIo::conn_address;
  v.conn_option = LowerIo::conn_option;
  return v;
}();

// ---- the upper (host) events ----
struct UpperEvents {
  static void check(Link *l, const char *what) {
    if (l->upper.closed) l->violations.push_back(std::string(what) + " after on_closed");
  }
  static void on_data(void *, void *c, const char *data, size_t len) {
    Link *l = link_of(c);
    check(l, "on_data");
    if (l->upper.eofs) l->violations.push_back("on_data after on_eof");
    l->upper.data.append(data, len);
    if (l->pause_after_data) l->pause();
  }
  static void on_eof(void *, void *c, int err) {
    Link *l = link_of(c);
    check(l, "on_eof");
    l->upper.eofs++;
    l->upper.eof_err = err;
  }
  static void on_sent(void *, void *c, int err) {
    Link *l = link_of(c);
    check(l, "on_sent");
    l->upper.sents++;
    l->upper.sent_err = err;
    l->upper.completed_at_last_sent = l->lower.completed;
  }
  static void on_closed(void *, void *c) {
    Link *l = link_of(c);
    check(l, "on_closed");
    l->upper.closed++;
  }
};

}  // namespace

struct Access {
  static void guard(Link *l, const char *what) {
    if (l->in_stream_call_) l->violations.push_back(std::string(what) + " raised inside a stream call");
  }
};

namespace {
// Every upper event also checks it is not raised from inside a stream call.
template <auto Fn, class... A>
void guarded(void *h, void *c, A... a) {
  Access::guard(link_of(c), "an upper event");
  Fn(h, c, a...);
}
}  // namespace

// ---- Server ----

axle_config_t Server::config() {
  axle_config_t cfg;
  cfg.base_dir = certs::pki().dir;
  cfg.strings["certificate"] = "default.crt";
  cfg.strings["key"] = "default.key";
  cfg.bools["kernel_tls"] = false;  // the harness has no socket; ktls_test covers the handover
  return cfg;
}

Server::Server(axle_config_t cfg) : cfg_(std::move(cfg)) {
  const std::string path = std::string(AXLE_TEST_MODULE_DIR) + "/axle-transport-openssl.so";
  lib_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib_) throw std::runtime_error(std::string("dlopen: ") + dlerror());
  auto entry = reinterpret_cast<axle_module_entry_fn>(dlsym(lib_, AXLE_ENTRY_SYMBOL));
  desc_ = entry();
  cfg_.keys = desc_->config_keys;
  cfg_.key_count = desc_->config_key_count;
  for (auto &[section, tables] : cfg_.sections)
    for (auto &[name, table] : tables) {
      table.keys = desc_->config_sections[0].keys;
      table.key_count = desc_->config_sections[0].key_count;
      table.path = "tls." + section + "." + name;
      table.base_dir = cfg_.base_dir;
    }
  axle_error_t err;
  if (desc_->create(fake::host(), &cfg_, &instance_, &err) != AXLE_OK) {
    instance_ = nullptr;
    error_ = err.message;
    return;
  }
  if (desc_->thread_init(instance_, &worker_, &thread_ctx_, &err) != AXLE_OK)
    throw std::runtime_error("thread_init: " + err.message);
}

Server::~Server() {
  if (instance_) {
    desc_->thread_fini(instance_, thread_ctx_);
    desc_->destroy(instance_);
  }
  // The module is flagged NO_UNLOAD (OpenSSL's thread-local state): keep it mapped, as the host does.
}

// ---- Link ----

Link::Link(Server &server, const ClientOptions &o) : server_(server) {
  client_ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(client_ctx_, certs::pki().ca.c_str(), nullptr);
  SSL_CTX_set_verify(client_ctx_, SSL_VERIFY_PEER, nullptr);
  if (o.max_version) SSL_CTX_set_max_proto_version(client_ctx_, o.max_version);
  if (o.keylog) SSL_CTX_set_keylog_callback(client_ctx_, o.keylog);
  SSL_CTX_set_session_cache_mode(client_ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  client_ = SSL_new(client_ctx_);
  crbio_ = BIO_new(BIO_s_mem());
  cwbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(client_, crbio_, cwbio_);
  SSL_set_connect_state(client_);
  if (!o.server_name.empty()) SSL_set_tlsext_host_name(client_, o.server_name.c_str());
  if (!o.alpn.empty()) {
    std::string wire;
    for (const std::string &p : o.alpn) wire += static_cast<char>(p.size()) + p;
    SSL_set_alpn_protos(client_, reinterpret_cast<const unsigned char *>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  if (o.session) SSL_set_session(client_, o.session);

  events_.struct_size = sizeof events_;
  events_.host_ctx = this;
  events_.on_data = guarded<UpperEvents::on_data, const char *, size_t>;
  events_.on_eof = guarded<UpperEvents::on_eof, int>;
  events_.on_sent = guarded<UpperEvents::on_sent, int>;
  events_.on_closed = guarded<UpperEvents::on_closed>;
  opts_.struct_size = sizeof opts_;
  opts_.role = AXLE_TRANSPORT_SERVER;
  opts_.fd = -1;
  opts_.lower = &kLower;
  opts_.lower_loop = this;
  opts_.lower_conn = this;
  opts_.upper = &events_;
  opts_.conn_ctx = this;
  axle_error_t err;
  open_status_ = server.vt().conn_open(server.instance(), server.thread_ctx(), &opts_, &tconn, &err);
  if (open_status_ != AXLE_OK) tconn = nullptr;
}

Link::~Link() {
  if (tconn && !lower_closed_) {
    if (!upper.closed && !lower.closed) close();
    if (!lower.closed) LowerIo::close(this, this);
    lower_closed_ = true;
    server_.vt().lower_closed(tconn);
  }
  // A clean end for the client, so OpenSSL keeps its session resumable (as a client that closed politely).
  SSL_set_shutdown(client_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(client_);
  SSL_CTX_free(client_ctx_);
}

bool Link::client_handshake_done() const { return SSL_is_init_finished(client_); }

void Link::client_step() {
  ERR_clear_error();
  if (!SSL_is_init_finished(client_)) {
    const int r = SSL_do_handshake(client_);
    if (r != 1 && SSL_get_error(client_, r) != SSL_ERROR_WANT_READ) client_failed = true;
    if (r != 1) return;
  }
  char buf[16384];
  for (;;) {
    const int n = SSL_read(client_, buf, sizeof buf);
    if (n > 0) {
      client_received.append(buf, static_cast<size_t>(n));
      continue;
    }
    const int e = SSL_get_error(client_, n);
    if (e == SSL_ERROR_ZERO_RETURN) client_saw_close_notify = true;
    else if (e != SSL_ERROR_WANT_READ) client_failed = true;
    break;
  }
  ERR_clear_error();
}

std::string Link::client_pending_ciphertext() {
  char *p = nullptr;
  const long n = BIO_get_mem_data(cwbio_, &p);
  std::string out(p, static_cast<size_t>(std::max(n, 0L)));
  (void)BIO_reset(cwbio_);
  return out;
}

void Link::feed_server(const std::string &bytes, size_t split) {
  if (!tconn || lower.closed) return;
  const size_t step = split ? split : std::max<size_t>(bytes.size(), 1);
  for (size_t i = 0; i < bytes.size() && !lower.closed; i += step)
    server_.vt().lower_data(tconn, bytes.data() + i, std::min(step, bytes.size() - i));
}

bool Link::deliver_one_send() {
  if (!lower.in_flight) return false;
  std::string bytes;
  for (const axle_iov_t &v : lower.iov) bytes.append(static_cast<const char *>(v.base), v.len);
  lower.wire += bytes;
  lower.in_flight = false;
  lower.completed++;
  BIO_write(crbio_, bytes.data(), static_cast<int>(bytes.size()));
  server_.vt().lower_sent(tconn, 0);
  return true;
}

void Link::run(size_t split) {
  if (!tconn) return;
  for (int rounds = 0; rounds < 100000; ++rounds) {  // bounded: a livelock fails the test, never hangs it
    bool moved = false;
    client_step();
    const std::string c2s = client_pending_ciphertext();
    if (!c2s.empty() && !lower.closed && !lower.paused) {
      feed_server(c2s, split);
      moved = true;
    } else if (!c2s.empty() && lower.paused) {
      BIO_write(cwbio_, c2s.data(), static_cast<int>(c2s.size()));  // stays with the client while paused
    }
    if (deliver_one_send()) moved = true;
    if (lower.closed && !lower_closed_) {
      lower_closed_ = true;
      server_.vt().lower_closed(tconn);
      moved = true;
    }
    if (!moved) {
      client_step();
      return;
    }
  }
  violations.push_back("run(): still moving after 100000 rounds");
}

void Link::client_write(const std::string &plain) { SSL_write(client_, plain.data(), static_cast<int>(plain.size())); }

axle_status_t Link::send(const std::string &plain) {
  send_buf_ = plain;
  const axle_iov_t iov[2] = {{send_buf_.data(), send_buf_.size() / 2},
                             {send_buf_.data() + send_buf_.size() / 2, send_buf_.size() - send_buf_.size() / 2}};
  in_stream_call_ = true;
  const axle_status_t st = server_.vt().stream->send(server_.thread_ctx(), tconn, iov, 2);
  in_stream_call_ = false;
  return st;
}

axle_status_t Link::sendfile(int fd, uint64_t offset, uint64_t length) {
  in_stream_call_ = true;
  const axle_status_t st = server_.vt().stream->sendfile(server_.thread_ctx(), tconn, fd, offset, length);
  in_stream_call_ = false;
  return st;
}

void Link::pause() {
  in_stream_call_ = true;
  server_.vt().stream->recv_pause(server_.thread_ctx(), tconn);
  in_stream_call_ = false;
}

void Link::resume() {
  in_stream_call_ = true;
  server_.vt().stream->recv_resume(server_.thread_ctx(), tconn);
  in_stream_call_ = false;
}

void Link::close() {
  in_stream_call_ = true;
  server_.vt().stream->close(server_.thread_ctx(), tconn);
  in_stream_call_ = false;
}

axle_status_t Link::shutdown_write() {
  in_stream_call_ = true;
  const axle_status_t st = server_.vt().stream->shutdown_write(server_.thread_ctx(), tconn);
  in_stream_call_ = false;
  return st;
}

axle_transport_info_t Link::info() {
  axle_transport_info_t out{};
  out.struct_size = sizeof out;
  server_.vt().conn_info(tconn, &out);
  return out;
}

void Link::lower_eof(int err) { server_.vt().lower_eof(tconn, err); }

std::string Link::peer_cn() const {
  X509 *peer = SSL_get1_peer_certificate(client_);
  if (!peer) return "";
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
  X509_free(peer);
  return cn;
}

}  // namespace harness
