// A minimal host for io modules: one loop on the calling thread, recording
// every event, plus blocking client sockets on 127.0.0.1.
#pragma once

#include <axle/io.h>
#include <test_host.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace axle::test::io {

// Modules under test: $AXLE_IO_MODULES (comma-separated) or every backend of
// the CMake list (AXLE_IO_MODULE_LIST) whose .so was built.
std::vector<std::string> modules_under_test();

// The host's per-connection context, as the module sees it (conn_ctx).
struct HostConn {
  void *io = nullptr;  // the module's handle
  int fd = -1;
  uint32_t listener_id = 0;
  std::string data;
  int eofs = 0;
  int eof_err = -1;
  int sents = 0;
  std::vector<int> sent_errs;
  int closed = 0;
  int connects = 0;      // on_connected calls (outgoing connections)
  int connect_err = -1;  // its err
  bool event_after_close = false;  // contract breach: anything after on_closed
};

class Harness {
 public:
  explicit Harness(const std::string &module, const axle_config_t &cfg = {}, uint32_t tick_ms = 10);
  ~Harness();  // closes every open connection, waits for on_closed, destroys the loop
  Harness(const Harness &) = delete;
  Harness &operator=(const Harness &) = delete;

  const axle_io_vtable_t &io() const { return *io_; }
  void *loop() const { return loop_; }

  // Listens on 127.0.0.1:0 (non-blocking, like a host would) and adds it to
  // the loop. Returns the port; the socket is owned by the harness.
  uint16_t listen(uint32_t listener_id = 1);
  int listen_fd() const { return listen_fd_; }
  // Adds a listening socket someone else owns (shared by several loops).
  void add_listener(int fd, uint32_t listener_id);

  // Runs the loop until pred() holds (checked after every event) or 5 s pass.
  bool run_until(const std::function<bool()> &pred);
  // Runs the loop for n more ticks (to show something does NOT happen).
  bool run_ticks(int n);

  // The next accepted connection not yet returned (after the caller connected a client).
  HostConn &accept_one();
  // Starts an outgoing connection (io 1.2 connect) to 127.0.0.1:port; it is
  // in `conns` like an accepted one. REQUIREs that connect() accepted the call.
  HostConn &connect_to(uint16_t port);

  // Event hooks the tests may set; defaults record only.
  std::function<bool(void *io_conn, int fd)> accept_filter;  // false = refuse
  std::function<void(HostConn &, const char *, size_t)> on_data_hook;
  std::function<void(HostConn &, int)> on_sent_hook;
  std::function<void()> on_tick_hook;
  std::function<void()> on_timer_hook;

  std::vector<std::unique_ptr<HostConn>> conns;
  int accepts = 0;  // on_accept calls, refused ones included
  int ticks = 0;
  int timers = 0;  // on_timer calls
  std::atomic<int> wakes{0};
  int stray_closed = 0;  // on_closed for a refused connection

 private:
  static void *ev_accept(void *h, void *io_conn, int fd, uint32_t listener_id);
  static void ev_data(void *h, void *ctx, const char *data, size_t len);
  static void ev_eof(void *h, void *ctx, int err);
  static void ev_sent(void *h, void *ctx, int err);
  static void ev_closed(void *h, void *ctx);
  static void ev_tick(void *h);
  static void ev_wake(void *h);
  static void ev_timer(void *h);
  static void ev_connected(void *h, void *ctx, int err);
  void check_done();

  LoadedModule module_;
  std::unique_ptr<Instance> instance_;
  const axle_io_vtable_t *io_ = nullptr;
  axle_io_events_t events_{};
  void *loop_ = nullptr;
  int listen_fd_ = -1;
  std::vector<int> listener_fds_;
  std::function<bool()> pred_;
  std::atomic<bool> watchdog_fired_{false};
  int accepted_taken_ = 0;
};

// A non-blocking listening socket on 127.0.0.1:0, owned by the caller.
int listen_socket(uint16_t &port);

// ---- client side (plain blocking sockets) ----

int connect_client(uint16_t port);
void write_all(int fd, const std::string &bytes);
// Reads until `want` bytes or EOF (or 10 s of silence); returns what it got.
std::string read_exactly(int fd, size_t want);
// True when the peer closed (read returns 0 or ECONNRESET) within 5 s.
bool wait_closed(int fd);
// Deterministic bytes for payload checks.
std::string pattern(size_t len, uint32_t seed);

// Reads `want` bytes on its own thread (so the loop thread can keep sending),
// then wakes the loop.
class BackgroundReader {
 public:
  BackgroundReader(int fd, size_t want, const axle_io_vtable_t &io, void *loop);
  ~BackgroundReader();
  bool done() const { return done_.load(); }
  const std::string &result();  // joins

 private:
  std::string result_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace axle::test::io
