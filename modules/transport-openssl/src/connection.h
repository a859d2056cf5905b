// One TLS connection, sans-I/O: ciphertext comes in through lower_data and
// leaves through lower->send; plaintext goes up through upper->on_data and
// comes down through the stream calls (send, sendfile).
//
// Bounds (per connection):
//  - ciphertext waiting to be sent: one lower send in flight plus a queue
//    filled while it flies, each at most kWireHigh + one record (~48 KiB);
//    a larger send or sendfile is encrypted step by step as the lower
//    connection takes it;
//  - sendfile in user space reads the file through a kFileStep (32 KiB) buffer;
//  - received ciphertext is read in place from the lower chunk; only a
//    partial record, or what arrives while the host has paused reading (the
//    lower connection is paused too), is kept: at most about one lower chunk.
#pragma once

#include <axle/transport.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bytes.h"
#include "ktls.h"
#include "sealer.h"
#include "wire_bio.h"

namespace axle::tls {

class Worker;
struct Instance;

// Two records a step: buffers this small stay in cache between the pread, the
// sealing and the kernel's copy of the send (bench --tls file: less CPU than 64 KiB).
inline constexpr size_t kWireHigh = 32 * 1024;
inline constexpr size_t kFileStep = 32 * 1024;
inline constexpr size_t kRecordPlain = 16 * 1024;  // TLS maximum plaintext per record
inline constexpr size_t kRecordOverhead = 32;      // header, explicit nonce or content type, tag: at most 29

class Connection {
 public:
  Connection(Worker &worker, const axle_transport_conn_options_t &opts);
  ~Connection();
  bool init(std::string *error);

  // lower_* hooks
  void lower_data(const char *data, size_t len);
  void lower_eof(int err);
  void lower_sent(int err);
  void lower_closed();  // raises upper on_closed; the caller deletes

  // stream calls (the host's, with the io.h contract)
  axle_status_t send(const axle_iov_t *iov, uint32_t count);
  axle_status_t sendfile(int fd, uint64_t offset, uint64_t length);
  void recv_pause();
  void recv_resume();
  void close();
  axle_status_t shutdown_write();
  axle_status_t conn_address(axle_conn_end_t end, axle_address_t *out);
  axle_status_t conn_option(axle_conn_option_t option, int64_t value);
  axle_status_t info(axle_transport_info_t *out) const;

  void deadline_passed();  // from the worker's sweep
  // OpenSSL's keylog callback: keeps the server's application secret for kTLS.
  static void keylog(const SSL *ssl, const char *line);
  // OpenSSL's message callback while sealing: notes that a KeyUpdate is owed to the peer.
  static void message(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg);

  // The worker's deadline list.
  Connection *prev = nullptr, *next = nullptr;
  uint64_t deadline_ns = 0;
  bool watched = false;

 private:
  enum class Source { kNone, kIov, kFile };
  enum class Shutdown { kNone, kWanted, kQueued, kDone };

  void handshake();
  void established();
  void fail_handshake();
  void deliver();  // SSL_read → upper on_data while not paused
  void raise_eof(int err);
  bool drain_output();  // false when OpenSSL wrote after the kTLS handover: the connection is failing
  static void on_wire(void *self, const char *data, size_t len);  // OpenSSL's records → queued_
  void pump();          // encrypt ahead, submit the queue, shutdown
  void fill();          // encrypt plaintext of the current send into queued_
  size_t plaintext_left() const;  // of the current send, not yet encrypted
  size_t gather(char *stage) const;  // copies up to one record of the iov send
  void advance_iov(size_t n);
  bool submit();        // queued_ → lower send when none in flight
  bool source_done() const;
  void finish_send_if_done();  // lower hooks only: raises upper on_sent
  void kick_if_idle();         // stream calls: asks the lower side for a completion
  void try_kernel_tx();
  void close_lower();
  void queue_close_notify();
  void fatal(int err);  // protocol failure after the handshake: upper on_eof(err)
  static void drain_timer(void *self);

  Worker &worker_;
  Instance &instance_;
  axle_transport_conn_options_t opts_;
  SSL *ssl_ = nullptr;
  WireIo wire_;  // what the BIO reads and where it writes

  bool handshaking_ = true, established_ = false, failed_ = false;
  bool host_closed_ = false, lower_close_called_ = false, close_after_send_ = false;
  bool upper_paused_ = false;
  bool lower_eof_ = false, eof_raised_ = false;
  int lower_eof_err_ = 0;
  axle_timer_t *drain_timer_ = nullptr;

  // The send the host has in flight.
  Source source_ = Source::kNone;
  std::vector<axle_iov_t> iov_;
  size_t iov_index_ = 0, iov_offset_ = 0;
  int file_fd_ = -1;
  uint64_t file_offset_ = 0, file_left_ = 0;
  std::unique_ptr<char[]> file_buf_;
  size_t file_buf_pos_ = 0, file_buf_len_ = 0;
  int send_error_ = 0;
  bool direct_send_ = false;  // kTLS: the host's send went to the lower connection as is
  Shutdown shutdown_ = Shutdown::kNone;

  // Ciphertext: the lower send in flight and the next one.
  Bytes inflight_, queued_;
  bool lower_busy_ = false;

  // kTLS
  bool kernel_tx_ = false, kernel_tx_wanted_ = false, late_write_ = false;
  uint64_t app_base_ = 0;  // records written before the application key (RecordCounter below counts all)
  unsigned char secret_[64]{};
  size_t secret_len_ = 0;
  RecordCounter records_;
  // User-space sealing of TLS 1.3 AES-GCM records (sealer.h) where kTLS is not used.
  Sealer sealer_;
  bool key_update_owed_ = false;  // the peer asked for our KeyUpdate; answered before our next record
};

}  // namespace axle::tls
