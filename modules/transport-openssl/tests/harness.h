// The module under test, driven without a kernel or a socket: a strict fake
// lower io connection (one send in flight, lent bytes read only when the send
// completes), a recorder of the upper (plaintext) events that fails on any
// contract breach, and an in-process OpenSSL client on memory BIOs.
#pragma once

#include <axle/transport.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "fake_host.h"

namespace harness {

// dlopen'ed module plus one instance and one worker context.
class Server {
 public:
  // Options for [tls]: certificate/key of "default" unless set.
  static axle_config_t config();
  // create() result; on failure error() says why and nothing else works.
  explicit Server(axle_config_t cfg);
  ~Server();
  bool ok() const { return instance_ != nullptr; }
  const std::string &error() const { return error_; }
  const axle_module_descriptor_t &desc() const { return *desc_; }
  const axle_transport_vtable_t &vt() const { return *static_cast<const axle_transport_vtable_t *>(desc_->vtable); }
  void *instance() const { return instance_; }
  void *thread_ctx() const { return thread_ctx_; }

 private:
  void *lib_ = nullptr;
  const axle_module_descriptor_t *desc_ = nullptr;
  axle_config_t cfg_;
  axle_worker_t worker_;
  void *instance_ = nullptr, *thread_ctx_ = nullptr;
  std::string error_;
};

struct ClientOptions {
  std::string server_name;             // SNI; empty = none
  std::vector<std::string> alpn;       // offered; empty = no ALPN extension
  SSL_SESSION *session = nullptr;      // resume this one (not owned)
  int max_version = 0;                 // e.g. TLS1_2_VERSION; 0 = library default
  void (*keylog)(const SSL *, const char *) = nullptr;  // the client's secrets
};

// One wrapped connection and its client.
class Link {
 public:
  Link(Server &server, const ClientOptions &options = {});
  ~Link();
  axle_status_t open_status() const { return open_status_; }

  // Moves bytes both ways until nothing moves. split: client→server ciphertext
  // is fed to lower_data in pieces of at most this many bytes (0 = whole).
  void run(size_t split = 0);
  bool client_handshake_done() const;
  void client_write(const std::string &plain);  // SSL_write on the client
  std::string client_pending_ciphertext();      // what the client wrote and the server has not got
  void feed_server(const std::string &ciphertext, size_t split = 0);  // lower_data
  bool deliver_one_send();  // completes the lower send in flight (client gets the bytes); false if none

  // Stream calls, marked so the recorder can tell an event raised inside one.
  axle_status_t send(const std::string &plain);  // kept alive by the Link until on_sent
  axle_status_t sendfile(int fd, uint64_t offset, uint64_t length);
  void pause();
  void resume();
  void close();
  axle_status_t shutdown_write();
  axle_transport_info_t info();
  void lower_eof(int err);

  SSL *client() const { return client_; }
  std::string peer_cn() const;

  // The fake lower connection.
  struct Lower {
    bool in_flight = false, paused = false, closed = false, shut = false;
    std::vector<axle_iov_t> iov;  // the lent iov of the send in flight
    size_t sends = 0, largest_send = 0, completed = 0;
    std::string wire;  // every byte the transport sent, in order
  } lower;
  // The upper events.
  struct Upper {
    std::string data;
    int eofs = 0, eof_err = 0, sents = 0, sent_err = 0, closed = 0;
    size_t completed_at_last_sent = 0;  // lower.completed when on_sent came
  } upper;
  std::vector<std::string> violations;  // contract breaches seen by the fakes
  std::string client_received;          // plaintext the client read
  bool client_saw_close_notify = false;
  bool client_failed = false;
  bool pause_after_data = false;  // the host calls recv_pause from inside each on_data
  void *tconn = nullptr;

 private:
  friend struct Access;
  void client_step();
  Server &server_;
  SSL_CTX *client_ctx_ = nullptr;
  SSL *client_ = nullptr;
  BIO *crbio_ = nullptr, *cwbio_ = nullptr;
  bool in_stream_call_ = false, send_active_ = false, lower_closed_ = false;
  std::string send_buf_;
  axle_status_t open_status_ = AXLE_ERR_INTERNAL;
  axle_transport_conn_options_t opts_{};
  axle_io_events_t events_{};
};

}  // namespace harness
