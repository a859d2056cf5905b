// One outgoing connection to an upstream server and who currently listens to
// it: the request using it, or the idle pool. The host's events (arg = this)
// go to the owner, so a connection moves between pool and requests without
// reopening.
#pragma once

#include <axle/module.h>

#include <cstddef>
#include <cstdint>

namespace axle::proxy {

class UpstreamConn;

// Receives the events of the connections it owns.
class ConnOwner {
 public:
  virtual void conn_connected(UpstreamConn &c, int err) = 0;
  virtual void conn_data(UpstreamConn &c, const char *data, size_t len) = 0;
  virtual void conn_eof(UpstreamConn &c, int err) = 0;
  virtual void conn_writable(UpstreamConn &c) = 0;

 protected:
  ~ConnOwner() = default;
};

class UpstreamConn {
 public:
  // Opens a connection from `worker`; null when the host refused at once.
  static UpstreamConn *open(const axle_host_api_t *api, axle_worker_t *worker, const axle_address_t &to,
                            size_t server, ConnOwner *owner);
  UpstreamConn(const UpstreamConn &) = delete;
  UpstreamConn &operator=(const UpstreamConn &) = delete;

  // Closes the connection and frees this object: no event follows.
  void close();

  axle_outgoing_t *handle() const { return out_; }
  size_t server() const { return server_; }
  void set_owner(ConnOwner *owner) { owner_ = owner; }
  // Served a response before (came from the pool): a failure before any
  // response byte may just be the server having closed it meanwhile.
  bool reused = false;
  uint64_t idle_since_ms = 0;  // when it went back to the pool

 private:
  UpstreamConn(const axle_host_api_t *api, size_t server, ConnOwner *owner)
      : api_(api), server_(server), owner_(owner) {}
  ~UpstreamConn() = default;

  static void on_connected(void *arg, int err);
  static void on_data(void *arg, const char *data, size_t len);
  static void on_eof(void *arg, int err);
  static void on_writable(void *arg);
  static const axle_outgoing_events_t events;

  const axle_host_api_t *api_;
  axle_outgoing_t *out_ = nullptr;
  size_t server_;
  ConnOwner *owner_;
};

}  // namespace axle::proxy
