#include "connection.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "instance.h"
#include "worker.h"

namespace axle::tls {

Connection::Connection(Worker &worker, const axle_transport_conn_options_t &opts)
    : worker_(worker), instance_(worker.instance()), opts_(opts) {}

Connection::~Connection() {
  if (drain_timer_) instance_.host->timer_stop(drain_timer_);
  if (handshaking_) worker_.handshake_end();
  worker_.unwatch(this);
  SSL_free(ssl_);
  OPENSSL_cleanse(secret_, sizeof secret_);
}

bool Connection::init(std::string *error) {
  ssl_ = SSL_new(instance_.ctx);
  wire_.write = on_wire;
  wire_.arg = this;
  BIO *bio = ssl_ ? wire_bio_new(&wire_) : nullptr;
  if (!bio) {
    ERR_clear_error();
    *error = "out of memory for a TLS connection";
    return false;
  }
  SSL_set_bio(ssl_, bio, bio);  // one BIO, one reference, both directions
  SSL_set_app_data(ssl_, this);
  SSL_set_accept_state(ssl_);
  handshaking_ = true;
  worker_.handshake_begin();
  deadline_ns = instance_.host->now_ns() + instance_.settings.handshake_timeout_ms * 1000000;
  worker_.watch(this);
  return true;
}

// ---- receiving ----

void Connection::lower_data(const char *data, size_t len) {
  if (lower_close_called_ || host_closed_ || failed_) return;  // closing: what the peer sends no longer matters
  wire_.lend(data, len);
  if (handshaking_)
    handshake();
  else
    deliver();
  if (!lower_close_called_ && !failed_ && !host_closed_)
    wire_.keep_rest();  // a partial record, or records held while paused
  else
    wire_.lend(nullptr, 0);  // closing: nothing more is read
}

void Connection::lower_eof(int err) {
  if (lower_close_called_) return;
  if (close_after_send_ || failed_) return close_lower();  // nobody reads what we still flush
  lower_eof_ = true;
  lower_eof_err_ = err;
  if (handshaking_) return fail_handshake();  // the client left during the handshake
  deliver();
}

void Connection::handshake() {
  ERR_clear_error();
  const uint64_t records_before = records_.records();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    app_base_ = records_before;  // what this last call wrote (session tickets) is under the application key
    return established();
  }
  const int e = SSL_get_error(ssl_, r);
  if (e != SSL_ERROR_WANT_READ) return fail_handshake();
  drain_output();
  if (!submit()) return close_lower();
  if (lower_eof_) fail_handshake();
}

void Connection::established() {
  handshaking_ = false;
  worker_.handshake_end();
  worker_.unwatch(this);
  established_ = true;
  instance_.metrics.add(instance_.metrics.handshakes);
  if (SSL_session_reused(ssl_)) instance_.metrics.add(instance_.metrics.resumed);
  kernel_tx_wanted_ = instance_.kernel_tx && opts_.fd >= 0 && secret_len_ > 0 && kernel_tx_suite(ssl_);
  // Otherwise seal records here: everything OpenSSL wrote so far is counted in records_.
  if (!kernel_tx_wanted_ && instance_.settings.seal_records && secret_len_ > 0 && kernel_tx_suite(ssl_) &&
      sealer_.init(ssl_, secret_, secret_len_, records_.records() - app_base_)) {
    SSL_set_msg_callback_arg(ssl_, this);
    SSL_set_msg_callback(ssl_, message);
  }
  if (!kernel_tx_wanted_) OPENSSL_cleanse(secret_, sizeof secret_), secret_len_ = 0;
  pump();
  if (failed_) return fatal(EIO);
  finish_send_if_done();  // an empty send made during the handshake, with nothing to flush
  try_kernel_tx();
  deliver();
}

void Connection::fail_handshake() {
  ERR_clear_error();
  if (handshaking_) {
    handshaking_ = false;
    worker_.handshake_end();
    worker_.unwatch(this);
  }
  failed_ = true;
  instance_.metrics.add(instance_.metrics.failures);
  drain_output();  // the alert, if OpenSSL wrote one
  if (!lower_busy_ && !queued_.empty() && submit()) {
    close_after_send_ = true;  // closed when the alert is sent, or by the sweep
    deadline_ns = instance_.host->now_ns() + instance_.settings.handshake_timeout_ms * 1000000;
    worker_.watch(this);
    return;
  }
  close_lower();
}

void Connection::deliver() {
  while (established_ && !upper_paused_ && !host_closed_ && !eof_raised_ && !lower_close_called_ && !failed_) {
    char buf[kRecordPlain];
    ERR_clear_error();
    const int n = SSL_read(ssl_, buf, sizeof buf);
    // The peer asked for our KeyUpdate (RFC 8446 4.6.3: before our next
    // record). OpenSSL would send it with its next SSL_write, which never comes
    // once kTLS or the sealer owns the sending key: the sealer answers itself,
    // and kTLS closes (the kernel's key cannot be moved on here).
    if (kernel_tx_ && SSL_get_key_update_type(ssl_) != SSL_KEY_UPDATE_NONE) return fatal(EPROTO);
    if (key_update_owed_) {
      key_update_owed_ = false;
      if (!sealer_.update_key(queued_) || !submit()) return fatal(EPROTO);
    }
    if (n > 0) {
      opts_.upper->on_data(opts_.upper->host_ctx, opts_.conn_ctx, buf, static_cast<size_t>(n));
      continue;
    }
    const int e = SSL_get_error(ssl_, n);
    if (!drain_output()) return;  // e.g. a KeyUpdate answer after kTLS: failed already
    if (!submit()) return fatal(EIO);
    if (e == SSL_ERROR_WANT_READ) {
      if (lower_eof_) raise_eof(lower_eof_err_);  // no close_notify: end of stream all the same
      return;
    }
    if (e == SSL_ERROR_ZERO_RETURN) return raise_eof(0);  // close_notify
    return fatal(EPROTO);
  }
}

void Connection::raise_eof(int err) {
  if (eof_raised_ || host_closed_) return;
  eof_raised_ = true;
  opts_.upper->on_eof(opts_.upper->host_ctx, opts_.conn_ctx, err);
}

void Connection::fatal(int err) {
  ERR_clear_error();
  failed_ = true;  // no close_notify, no more SSL calls
  raise_eof(err);  // the host answers with close()
}

void Connection::recv_pause() {
  upper_paused_ = true;
  opts_.lower->recv_pause(opts_.lower_loop, opts_.lower_conn);
}

void Connection::recv_resume() {
  upper_paused_ = false;
  opts_.lower->recv_resume(opts_.lower_loop, opts_.lower_conn);
  // What was buffered while paused goes up from a timer: never from inside this call.
  const bool buffered = SSL_pending(ssl_) > 0 || wire_.unread() > 0 || (lower_eof_ && !eof_raised_);
  if (established_ && buffered && !drain_timer_ && !lower_close_called_) {
    drain_timer_ = instance_.host->timer_start(worker_.host_worker(), 0, 0, drain_timer, this);
    if (!drain_timer_) {  // the worker's timer bound: the next bytes from the peer deliver it
      static const char kMsg[] = "no timer to deliver data held while paused: it waits for the next bytes";
      instance_.host->log(instance_.cfg, AXLE_LOG_WARN, kMsg, sizeof kMsg - 1);
    }
  }
}

void Connection::drain_timer(void *self) {
  auto *c = static_cast<Connection *>(self);
  c->drain_timer_ = nullptr;
  c->deliver();
}

// ---- sending ----

void Connection::on_wire(void *self, const char *data, size_t len) {
  auto *c = static_cast<Connection *>(self);
  if (c->kernel_tx_ || c->sealer_.active()) {
    // Dropped. While the peer's KeyUpdate request is being read, what OpenSSL
    // writes is its own answer under the sequence it no longer owns: the
    // sealer sends ours instead. Anything else fails the connection (drain_output).
    if (!(c->sealer_.active() && c->key_update_owed_)) c->late_write_ = true;
    return;
  }
  c->records_.feed(reinterpret_cast<const unsigned char *>(data), len);
  c->queued_.append(data, len);
}

bool Connection::drain_output() {
  if (!late_write_) return true;
  // OpenSSL wanted to send a record (a KeyUpdate answer, an alert) after the
  // kernel or the sealer took the record sequence over: it cannot be sent. Close.
  late_write_ = false;
  static const char kMsg[] = "closing a connection: OpenSSL had a record to send after kTLS or the sealer took over";
  instance_.host->log(instance_.cfg, AXLE_LOG_DEBUG, kMsg, sizeof kMsg - 1);
  fatal(EPROTO);
  return false;
}

bool Connection::submit() {
  if (lower_busy_ || queued_.empty() || lower_close_called_) return true;
  inflight_.swap(queued_);
  queued_.clear();
  const axle_iov_t iov{inflight_.data(), inflight_.size()};
  lower_busy_ = true;
  if (opts_.lower->send(opts_.lower_loop, opts_.lower_conn, &iov, 1) == AXLE_OK) return true;
  lower_busy_ = false;
  failed_ = true;
  return false;
}

bool Connection::source_done() const {
  if (send_error_ != 0) return true;
  if (source_ == Source::kIov) return iov_index_ == iov_.size();
  if (source_ == Source::kFile) return file_left_ == 0 && file_buf_pos_ == file_buf_len_;
  return true;
}

size_t Connection::gather(char *stage) const {
  size_t n = 0;
  for (size_t i = iov_index_, off = iov_offset_; i < iov_.size() && n < kRecordPlain; ++i, off = 0) {
    const size_t k = std::min(iov_[i].len - off, kRecordPlain - n);
    std::memcpy(stage + n, static_cast<const char *>(iov_[i].base) + off, k);
    n += k;
  }
  return n;
}

void Connection::advance_iov(size_t n) {
  while (n > 0) {
    const size_t k = std::min(n, iov_[iov_index_].len - iov_offset_);
    iov_offset_ += k;
    n -= k;
    if (iov_offset_ == iov_[iov_index_].len) ++iov_index_, iov_offset_ = 0;
  }
}

size_t Connection::plaintext_left() const {
  if (source_ == Source::kFile)
    return static_cast<size_t>(std::min<uint64_t>(file_left_, kFileStep)) + (file_buf_len_ - file_buf_pos_);
  size_t n = 0;
  for (size_t i = iov_index_, off = iov_offset_; source_ == Source::kIov && i < iov_.size(); ++i, off = 0)
    n += iov_[i].len - off;
  return n;
}

void Connection::fill() {
  // The queue's room for this round, allocated once: appending record by
  // record to an empty buffer would regrow it, copying what it holds at each
  // step. Sized to what is left of the send, so a small response does not
  // take the whole bound.
  const size_t ahead = std::min(plaintext_left(), kWireHigh + kRecordPlain);
  const size_t room = queued_.size() + ahead + (ahead / kRecordPlain + 1) * kRecordOverhead;
  if (ahead > 0 && queued_.capacity() < room) queued_.reserve(room);
  char stage[kRecordPlain];
  while (source_ != Source::kNone && !source_done() && queued_.size() < kWireHigh && !failed_) {
    const char *p;
    size_t n;
    if (source_ == Source::kIov) {
      const axle_iov_t &v = iov_[iov_index_];
      p = static_cast<const char *>(v.base) + iov_offset_;
      n = std::min(v.len - iov_offset_, kRecordPlain);
      if (n < kRecordPlain && iov_index_ + 1 < iov_.size()) {
        // Small pieces (a response head, a chunk header) share a record: one
        // seal and one header instead of one per piece. The copy is cheaper.
        n = gather(stage);
        p = stage;
      }
    } else {
      if (file_buf_pos_ == file_buf_len_) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(file_left_, kFileStep));
        ssize_t r;
        do r = ::pread(file_fd_, file_buf_.get(), want, static_cast<off_t>(file_offset_));
        while (r < 0 && errno == EINTR);
        if (r <= 0) {
          send_error_ = r < 0 ? errno : EIO;  // 0: the file is shorter than the range
          break;
        }
        file_buf_pos_ = 0;
        file_buf_len_ = static_cast<size_t>(r);
        file_offset_ += static_cast<uint64_t>(r);
        file_left_ -= static_cast<uint64_t>(r);
      }
      p = file_buf_.get() + file_buf_pos_;
      n = std::min(file_buf_len_ - file_buf_pos_, kRecordPlain);
    }
    int w;
    if (sealer_.active()) {
      w = sealer_.seal(kContentApplicationData, p, n, queued_) ? static_cast<int>(n) : -1;
    } else {
      ERR_clear_error();
      w = SSL_write(ssl_, p, static_cast<int>(n));  // into our BIO, which takes all: all or an error
    }
    if (w <= 0) {
      ERR_clear_error();
      send_error_ = EPROTO;
      break;
    }
    if (source_ == Source::kIov) {
      advance_iov(static_cast<size_t>(w));
    } else {
      file_buf_pos_ += static_cast<size_t>(w);
    }
    if (!drain_output()) break;
  }
}

void Connection::pump() {
  if (lower_close_called_ || failed_ || !established_ || kernel_tx_) return;
  fill();
  if (shutdown_ == Shutdown::kWanted && source_ == Source::kNone) {
    queue_close_notify();
    shutdown_ = Shutdown::kQueued;
  }
  if (!submit()) return;
  fill();  // encrypt ahead while the lower connection sends
  if (shutdown_ == Shutdown::kQueued && queued_.empty()) {
    shutdown_ = Shutdown::kDone;
    const axle_io_vtable_t *l = opts_.lower;
    if (AXLE_STRUCT_HAS(l, axle_io_vtable_t, shutdown_write) && l->shutdown_write)
      l->shutdown_write(opts_.lower_loop, opts_.lower_conn);  // after the close_notify in flight
  }
}

void Connection::finish_send_if_done() {
  if (source_ == Source::kNone || !source_done() || lower_busy_ || !queued_.empty()) return;
  const int err = send_error_;
  source_ = Source::kNone;
  iov_.clear();
  file_fd_ = -1;
  file_buf_.reset();  // an idle connection holds no file buffer
  send_error_ = 0;
  if (!host_closed_) opts_.upper->on_sent(opts_.upper->host_ctx, opts_.conn_ctx, err);
  if (shutdown_ == Shutdown::kWanted && !host_closed_) pump();
}

void Connection::kick_if_idle() {
  // Nothing (left) to encrypt and nothing in flight: an empty lower send gets
  // the completion on_sent needs, from a lower hook, never from this call.
  if (!established_ || kernel_tx_ || source_ == Source::kNone || !source_done() || lower_busy_ || !queued_.empty())
    return;
  inflight_.clear();
  lower_busy_ = true;
  if (opts_.lower->send(opts_.lower_loop, opts_.lower_conn, nullptr, 0) != AXLE_OK) {
    lower_busy_ = false;
    failed_ = true;
  }
}

void Connection::lower_sent(int err) {
  lower_busy_ = false;
  if (direct_send_) {
    direct_send_ = false;
    if (!host_closed_) opts_.upper->on_sent(opts_.upper->host_ctx, opts_.conn_ctx, err);
    return;
  }
  if (lower_close_called_) return;
  if (err != 0 || close_after_send_) return close_lower();  // a failed send, or the alert/close_notify is out
  if (failed_ && !established_) return close_lower();
  pump();
  if (failed_) {  // the lower connection refused a send: nothing more goes out
    if (source_ != Source::kNone && send_error_ == 0) send_error_ = EIO;
    queued_.clear();
    finish_send_if_done();
    return fatal(EIO);
  }
  finish_send_if_done();
  try_kernel_tx();
  if (!lower_busy_ && queued_.empty()) {
    inflight_.release();  // an idle connection holds no ciphertext buffer
    queued_.release();
  }
}

axle_status_t Connection::send(const axle_iov_t *iov, uint32_t count) {
  if (host_closed_ || source_ != Source::kNone || direct_send_ || shutdown_ != Shutdown::kNone || (count > 0 && !iov))
    return AXLE_ERR_INVALID;
  if (failed_ || lower_close_called_) return AXLE_ERR_IO;
  try_kernel_tx();
  if (kernel_tx_) {
    direct_send_ = true;
    const axle_status_t st = opts_.lower->send(opts_.lower_loop, opts_.lower_conn, iov, count);
    if (st != AXLE_OK) direct_send_ = false;
    return st;
  }
  iov_.clear();
  for (uint32_t i = 0; i < count; ++i)
    if (iov[i].len > 0) iov_.push_back(iov[i]);
  iov_index_ = iov_offset_ = 0;
  send_error_ = 0;
  source_ = Source::kIov;
  pump();
  kick_if_idle();
  if (failed_) {
    source_ = Source::kNone;
    return AXLE_ERR_IO;
  }
  return AXLE_OK;
}

axle_status_t Connection::sendfile(int fd, uint64_t offset, uint64_t length) {
  if (host_closed_ || source_ != Source::kNone || direct_send_ || shutdown_ != Shutdown::kNone || fd < 0)
    return AXLE_ERR_INVALID;
  if (failed_ || lower_close_called_) return AXLE_ERR_IO;
  try_kernel_tx();
  if (kernel_tx_) {  // zero-copy: the kernel encrypts the page cache
    direct_send_ = true;
    const axle_status_t st = opts_.lower->sendfile(opts_.lower_loop, opts_.lower_conn, fd, offset, length);
    if (st != AXLE_OK) direct_send_ = false;
    return st;
  }
  if (!file_buf_) file_buf_.reset(new (std::nothrow) char[kFileStep]);
  if (!file_buf_) return AXLE_ERR_NOMEM;
  file_fd_ = fd;
  file_offset_ = offset;
  file_left_ = length;
  file_buf_pos_ = file_buf_len_ = 0;
  send_error_ = 0;
  source_ = Source::kFile;
  pump();
  kick_if_idle();
  if (failed_) {
    source_ = Source::kNone;
    return AXLE_ERR_IO;
  }
  return AXLE_OK;
}

axle_status_t Connection::shutdown_write() {
  if (host_closed_ || shutdown_ != Shutdown::kNone || !established_) return AXLE_ERR_INVALID;
  if (kernel_tx_) {  // no close_notify: the kernel owns the record sequence
    shutdown_ = Shutdown::kDone;
    const axle_io_vtable_t *l = opts_.lower;
    if (!AXLE_STRUCT_HAS(l, axle_io_vtable_t, shutdown_write) || !l->shutdown_write) return AXLE_ERR_UNSUPPORTED;
    return l->shutdown_write(opts_.lower_loop, opts_.lower_conn);
  }
  shutdown_ = Shutdown::kWanted;
  pump();
  return AXLE_OK;
}

void Connection::close() {
  host_closed_ = true;
  source_ = Source::kNone;  // its on_sent never comes (io.h close)
  if (lower_close_called_) return;
  if (established_ && !failed_ && !kernel_tx_ && !lower_busy_ && shutdown_ != Shutdown::kDone) {
    queue_close_notify();  // then close once it is sent (or the sweep's deadline passes)
    if (!queued_.empty() && submit() && lower_busy_) {
      close_after_send_ = true;
      deadline_ns = instance_.host->now_ns() + instance_.settings.handshake_timeout_ms * 1000000;
      worker_.watch(this);
      return;
    }
  }
  close_lower();
}

void Connection::queue_close_notify() {
  if (sealer_.active()) {
    static const char kCloseNotify[] = {1, 0};  // alert level warning, close_notify
    sealer_.seal(kContentAlert, kCloseNotify, sizeof kCloseNotify, queued_);  // failing: closed without it
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN);  // what OpenSSL would have noted itself
    return;
  }
  ERR_clear_error();
  SSL_shutdown(ssl_);  // close_notify into the queue
  ERR_clear_error();
  drain_output();
}

void Connection::close_lower() {
  if (lower_close_called_) return;
  lower_close_called_ = true;
  if (handshaking_) {
    handshaking_ = false;
    worker_.handshake_end();
  }
  worker_.unwatch(this);
  if (drain_timer_) instance_.host->timer_stop(drain_timer_), drain_timer_ = nullptr;
  opts_.lower->close(opts_.lower_loop, opts_.lower_conn);
}

void Connection::lower_closed() { opts_.upper->on_closed(opts_.upper->host_ctx, opts_.conn_ctx); }

void Connection::deadline_passed() {
  if (handshaking_) {
    instance_.metrics.add(instance_.metrics.timeouts);
    failed_ = true;
  }
  close_lower();
}

// ---- kernel TLS ----

void Connection::message(int write_p, int, int content_type, const void *buf, size_t len, SSL *, void *arg) {
  // OpenSSL writing a KeyUpdate (type 24) is its answer to the peer's request
  // (we never ask it for one), made inside SSL_read before the request itself
  // is reported: our cue. on_wire drops its record; the sealer sends ours.
  const auto *m = static_cast<const unsigned char *>(buf);
  if (write_p && content_type == SSL3_RT_HANDSHAKE && len == 5 && m[0] == SSL3_MT_KEY_UPDATE)
    static_cast<Connection *>(arg)->key_update_owed_ = true;
}

void Connection::keylog(const SSL *ssl, const char *line) {
  static const char kLabel[] = "SERVER_TRAFFIC_SECRET_0 ";
  auto *c = static_cast<Connection *>(SSL_get_ex_data(ssl, 0));
  if (!c || std::strncmp(line, kLabel, sizeof kLabel - 1) != 0) return;
  const char *hex = std::strchr(line + sizeof kLabel - 1, ' ');  // after the client random
  if (!hex) return;
  ++hex;
  size_t n = 0;
  auto nibble = [](char ch) { return ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10; };
  while (hex[0] && hex[1] && n < sizeof c->secret_) {
    c->secret_[n++] = static_cast<unsigned char>(nibble(hex[0]) << 4 | nibble(hex[1]));
    hex += 2;
  }
  c->secret_len_ = n;
}

void Connection::try_kernel_tx() {
  // Only between sends: every byte OpenSSL encrypted is in the socket first.
  if (!kernel_tx_wanted_ || lower_busy_ || !queued_.empty() || source_ != Source::kNone || host_closed_ || failed_)
    return;
  kernel_tx_wanted_ = false;
  std::string error;
  if (kernel_tx_install(opts_.fd, ssl_, secret_, secret_len_, records_.records() - app_base_, &error)) {
    kernel_tx_ = true;
    instance_.metrics.add(instance_.metrics.kernel_tx);
  } else {
    instance_.host->log(instance_.cfg, AXLE_LOG_WARN, error.data(), error.size());
  }
  OPENSSL_cleanse(secret_, sizeof secret_);
  secret_len_ = 0;
}

axle_status_t Connection::info(axle_transport_info_t *out) const {
  if (!out || out->struct_size < offsetof(axle_transport_info_t, protocol)) return AXLE_ERR_INVALID;
  auto str = [](const char *s) { return axle_str_t{s ? s : "", s ? std::strlen(s) : 0}; };
  out->flags = 0;
  if (established_) {
    out->flags |= AXLE_TRANSPORT_ESTABLISHED;
    if (SSL_session_reused(ssl_)) out->flags |= AXLE_TRANSPORT_RESUMED;
  }
  if (kernel_tx_) out->flags |= AXLE_TRANSPORT_KERNEL_TX;
  const unsigned char *alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
  if (AXLE_STRUCT_HAS(out, axle_transport_info_t, protocol))
    out->protocol = established_ ? str(SSL_get_version(ssl_)) : str(nullptr);
  if (AXLE_STRUCT_HAS(out, axle_transport_info_t, cipher))
    out->cipher = established_ ? str(SSL_get_cipher_name(ssl_)) : str(nullptr);
  if (AXLE_STRUCT_HAS(out, axle_transport_info_t, alpn))
    out->alpn = alpn ? axle_str_t{reinterpret_cast<const char *>(alpn), alpn_len} : str(nullptr);
  if (AXLE_STRUCT_HAS(out, axle_transport_info_t, server_name))
    out->server_name = str(SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name));
  return AXLE_OK;
}

axle_status_t Connection::conn_address(axle_conn_end_t end, axle_address_t *out) {
  const axle_io_vtable_t *l = opts_.lower;
  if (!AXLE_STRUCT_HAS(l, axle_io_vtable_t, conn_address) || !l->conn_address) return AXLE_ERR_UNSUPPORTED;
  return l->conn_address(opts_.lower_loop, opts_.lower_conn, end, out);
}

axle_status_t Connection::conn_option(axle_conn_option_t option, int64_t value) {
  const axle_io_vtable_t *l = opts_.lower;
  if (!AXLE_STRUCT_HAS(l, axle_io_vtable_t, conn_option) || !l->conn_option) return AXLE_ERR_UNSUPPORTED;
  return l->conn_option(opts_.lower_loop, opts_.lower_conn, option, value);
}

}  // namespace axle::tls
