#include "io_harness.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>

namespace axle::test::io {

namespace {

constexpr auto kWatchdog = std::chrono::seconds(5);

HostConn *conn_of(void *ctx) { return static_cast<HostConn *>(ctx); }

}  // namespace

std::vector<std::string> modules_under_test() {
  const char *env = std::getenv("AXLE_IO_MODULES");
  std::stringstream list(env ? env : AXLE_IO_MODULE_LIST);
  std::vector<std::string> out;
  for (std::string name; std::getline(list, name, ',');) {
    // Explicitly requested: must exist. Default list: skip backends not built.
    if (!name.empty() && (env || ::access(module_path("io", name).c_str(), R_OK) == 0)) out.push_back(name);
  }
  return out;
}

Harness::Harness(const std::string &module, const axle_config_t &cfg, uint32_t tick_ms)
    : module_(module_path("io", module)) {
  REQUIRE(module_.desc().kind == AXLE_KIND_IO);
  io_ = &module_.vtable<axle_io_vtable_t>();
  REQUIRE(io_->struct_size >= sizeof(axle_io_vtable_t));
  instance_ = std::make_unique<Instance>(module_, cfg);

  events_ = {
      .struct_size = sizeof(axle_io_events_t),
      .host_ctx = this,
      .on_accept = ev_accept,
      .on_data = ev_data,
      .on_eof = ev_eof,
      .on_sent = ev_sent,
      .on_closed = ev_closed,
      .on_tick = ev_tick,
      .on_wake = ev_wake,
      .on_timer = ev_timer,
      .on_connected = ev_connected,
  };
  axle_io_loop_options_t options{.struct_size = sizeof(axle_io_loop_options_t), .tick_ms = tick_ms,
                                 .max_connections = 64};
  axle_error_t err;
  REQUIRE_MESSAGE(io_->loop_create(instance_->get(), instance_->thread_ctx(), &events_, &options, &loop_, &err) ==
                      AXLE_OK,
                  err.message);
}

Harness::~Harness() {
  for (auto &c : conns)
    if (c->closed == 0) io_->close(loop_, c->io);
  bool all_closed = run_until([this] {
    for (auto &c : conns)
      if (c->closed == 0) return false;
    return true;
  });
  CHECK_MESSAGE(all_closed, "on_closed missing at teardown");
  for (int fd : listener_fds_) io_->listen_remove(loop_, fd);
  io_->loop_destroy(loop_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

uint16_t Harness::listen(uint32_t listener_id) {
  uint16_t port = 0;
  listen_fd_ = listen_socket(port);
  add_listener(listen_fd_, listener_id);
  return port;
}

void Harness::add_listener(int fd, uint32_t listener_id) {
  axle_error_t err;
  REQUIRE_MESSAGE(io_->listen_add(loop_, fd, listener_id, &err) == AXLE_OK, err.message);
  listener_fds_.push_back(fd);
}

bool Harness::run_until(const std::function<bool()> &pred) {
  if (pred()) return true;
  pred_ = pred;
  watchdog_fired_ = false;
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, kWatchdog, [&] { return finished; })) {
      watchdog_fired_ = true;
      io_->wake(loop_);
    }
  });
  axle_error_t err;
  axle_status_t status = io_->run(loop_, &err);
  {
    std::lock_guard lock(m);
    finished = true;
  }
  cv.notify_one();
  watchdog.join();
  pred_ = nullptr;
  CHECK_MESSAGE(status == AXLE_OK, err.message);
  return pred();
}

bool Harness::run_ticks(int n) {
  int target = ticks + n;
  return run_until([this, target] { return ticks >= target; });
}

HostConn &Harness::accept_one() {
  size_t next = static_cast<size_t>(accepted_taken_++);
  REQUIRE(run_until([&] { return conns.size() > next; }));
  return *conns[next];
}

HostConn &Harness::connect_to(uint16_t port) {
  axle_address_t to{.struct_size = sizeof(axle_address_t), .family = AXLE_ADDR_IPV4, .port = port, .addr = {}};
  uint32_t loopback = htonl(INADDR_LOOPBACK);
  std::memcpy(to.addr, &loopback, 4);
  auto c = std::make_unique<HostConn>();
  axle_error_t err;
  REQUIRE_MESSAGE(io_->connect(loop_, &to, c.get(), &c->io, &err) == AXLE_OK, err.message);
  conns.push_back(std::move(c));
  return *conns.back();
}

void Harness::check_done() {
  if (pred_ && pred_()) io_->stop(loop_);
}

void *Harness::ev_accept(void *h, void *io_conn, int fd, uint32_t listener_id) {
  auto *self = static_cast<Harness *>(h);
  ++self->accepts;
  void *ctx = nullptr;
  if (!self->accept_filter || self->accept_filter(io_conn, fd)) {
    auto c = std::make_unique<HostConn>();
    c->io = io_conn;
    c->fd = fd;
    c->listener_id = listener_id;
    ctx = c.get();
    self->conns.push_back(std::move(c));
  }
  self->check_done();
  return ctx;
}

void Harness::ev_data(void *h, void *ctx, const char *data, size_t len) {
  auto *self = static_cast<Harness *>(h);
  HostConn *c = conn_of(ctx);
  if (c->closed || c->eofs) c->event_after_close = true;
  c->data.append(data, len);
  if (self->on_data_hook) self->on_data_hook(*c, data, len);
  self->check_done();
}

void Harness::ev_eof(void *h, void *ctx, int err) {
  auto *self = static_cast<Harness *>(h);
  HostConn *c = conn_of(ctx);
  if (c->closed || c->eofs) c->event_after_close = true;
  ++c->eofs;
  c->eof_err = err;
  self->check_done();
}

void Harness::ev_sent(void *h, void *ctx, int err) {
  auto *self = static_cast<Harness *>(h);
  HostConn *c = conn_of(ctx);
  if (c->closed) c->event_after_close = true;
  ++c->sents;
  c->sent_errs.push_back(err);
  if (self->on_sent_hook) self->on_sent_hook(*c, err);
  self->check_done();
}

void Harness::ev_closed(void *h, void *ctx) {
  auto *self = static_cast<Harness *>(h);
  if (!ctx) {
    ++self->stray_closed;
    return;
  }
  HostConn *c = conn_of(ctx);
  if (c->closed) c->event_after_close = true;
  ++c->closed;
  self->check_done();
}

void Harness::ev_tick(void *h) {
  auto *self = static_cast<Harness *>(h);
  ++self->ticks;
  if (self->on_tick_hook) self->on_tick_hook();
  self->check_done();
}

void Harness::ev_wake(void *h) {
  auto *self = static_cast<Harness *>(h);
  ++self->wakes;
  if (self->watchdog_fired_) {
    self->io_->stop(self->loop_);
    return;
  }
  self->check_done();
}

void Harness::ev_timer(void *h) {
  auto *self = static_cast<Harness *>(h);
  ++self->timers;
  if (self->on_timer_hook) self->on_timer_hook();
  self->check_done();
}

void Harness::ev_connected(void *h, void *ctx, int err) {
  auto *self = static_cast<Harness *>(h);
  HostConn *c = conn_of(ctx);
  if (c->closed || c->connects) c->event_after_close = true;  // at most once, never after close
  ++c->connects;
  c->connect_err = err;
  self->check_done();
}

int listen_socket(uint16_t &port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 128) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0);
  port = ntohs(addr.sin_port);
  return fd;
}

// ---- client side ----

int connect_client(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  // Completes from the listen backlog; no loop turn needed.
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
  return fd;
}

void write_all(int fd, const std::string &bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    REQUIRE_MESSAGE(n > 0, "client send failed: " << std::strerror(errno));
    off += static_cast<size_t>(n);
  }
}

std::string read_exactly(int fd, size_t want) {
  std::string out;
  out.reserve(want);
  char buf[65536];
  while (out.size() < want) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, want - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool wait_closed(int fd) {
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

std::string pattern(size_t len, uint32_t seed) {
  std::string s(len, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < len; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 16);
  }
  return s;
}

BackgroundReader::BackgroundReader(int fd, size_t want, const axle_io_vtable_t &io, void *loop)
    : thread_([this, fd, want, &io, loop] {
        result_ = read_exactly(fd, want);
        done_ = true;
        io.wake(loop);  // let the loop re-check its predicate
      }) {}

BackgroundReader::~BackgroundReader() {
  if (thread_.joinable()) thread_.join();
}

const std::string &BackgroundReader::result() {
  if (thread_.joinable()) thread_.join();
  return result_;
}

}  // namespace axle::test::io
