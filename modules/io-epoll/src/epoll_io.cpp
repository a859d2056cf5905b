// io module "epoll": one epoll instance per worker loop.
//
// Connections are registered once, edge-triggered, for EPOLLIN | EPOLLOUT |
// EPOLLRDHUP and never modified again: readiness is remembered in per-connection
// flags, so pausing reads or waiting for writability costs no epoll_ctl call.
// Listeners are level-triggered with EPOLLEXCLUSIVE (several loops share one
// listening socket). The 1.2 loop timer is folded into the epoll_wait timeout;
// outgoing connections are connecting sockets registered like accepted ones.
// See README.md for the reasoning.
#include <axle/io.h>

#include "socket_slots.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// axle_iov_t is documented as struct iovec's twin; send() relies on it to copy
// the host's array as is.
static_assert(sizeof(axle_iov_t) == sizeof(struct iovec));
static_assert(offsetof(axle_iov_t, base) == offsetof(struct iovec, iov_base));
static_assert(offsetof(axle_iov_t, len) == offsetof(struct iovec, iov_len));

// End of the last ABI 1.0 field of the structs the host fills: smaller is
// refused, larger (a newer host) is fine and its extra fields are not read.
constexpr size_t kEvents10Size = offsetof(axle_io_events_t, on_wake) + sizeof(axle_io_events_t::on_wake);
constexpr size_t kOptions10Size =
    offsetof(axle_io_loop_options_t, max_connections) + sizeof(axle_io_loop_options_t::max_connections);

constexpr int64_t kDefaultReadBuffer = 65536;
constexpr int64_t kMinReadBuffer = 4096;
constexpr int64_t kMaxReadBuffer = 16 * 1024 * 1024;
constexpr int64_t kDefaultMaxEvents = 256;
constexpr int64_t kMaxMaxEvents = 65536;

// Work bounds per connection per loop turn, so one busy peer cannot starve the
// others; leftover work is picked up next turn from the ready list.
constexpr int kReadsPerTurn = 16;
constexpr int kWritesPerTurn = 16;
constexpr int kAcceptsPerTurn = 64;
// How long a listener rests after accept failed for lack of resources (EMFILE...):
// level-triggered, it would otherwise spin the loop at 100% CPU.
constexpr int64_t kAcceptBackoffMs = 100;
// sendfile(2) moves at most this much per call anyway (MAX_RW_COUNT).
constexpr uint64_t kMaxSendfileChunk = 0x7ffff000;

struct Instance {
  const axle_host_api_t *host = nullptr;
  const axle_config_t *cfg = nullptr;
  size_t read_buffer = kDefaultReadBuffer;
  int max_events = kDefaultMaxEvents;

  void log(axle_log_level_t level, const std::string &msg) const {
    if (host && host->log) host->log(cfg, level, msg.data(), msg.size());
  }
  void fail(axle_error_t *err, const std::string &msg) const {
    if (err && host && host->error_set) host->error_set(err, msg.data(), msg.size());
  }
};

std::string errno_message(const char *what, int e) { return std::string(what) + ": " + std::strerror(e); }

int64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// A timer_arm delay beyond this is clamped (no overflow of the deadline): a year.
constexpr uint64_t kMaxTimerDelayMs = 365ull * 24 * 3600 * 1000;

// What an epoll_event's data.ptr points at.
enum class SourceKind : uint8_t { kConn, kListener, kWake, kTick };
struct Source {
  explicit Source(SourceKind k) : kind(k) {}
  SourceKind kind;
};

// Node of an intrusive circular list; a node links to itself when unlinked.
struct Link {
  Link *prev = this;
  Link *next = this;
  bool linked() const { return next != this; }
  void unlink() {
    prev->next = next;
    next->prev = prev;
    prev = next = this;
  }
  void push_back(Link *node) {  // called on a list head
    node->prev = prev;
    node->next = this;
    prev->next = node;
    prev = node;
  }
  void take_all(Link &from) {  // called on an empty list head; leaves `from` empty
    if (!from.linked()) return;
    next = from.next;
    prev = from.prev;
    next->prev = this;
    prev->next = this;
    from.prev = from.next = &from;
  }
};

enum class SendKind : uint8_t { kNone, kIov, kFile };

// A send from send()/sendfile() until its on_sent is delivered: iov[iov_next..]
// or the file range while writing (kind != kNone), then only the result. It
// lives apart from the Conn so that an idle connection holds no send state.
struct PendingSend {
  SendKind kind = SendKind::kNone;
  bool shut_after_send = false;  // shutdown_write() while writing: shut down when it ends
  int err = 0;                   // the result, once kind is back to kNone
  int file_fd = -1;
  off_t file_offset = 0;
  uint64_t file_left = 0;
  uint32_t iov_next = 0;
  uint32_t iov_count = 0;
  uint32_t iov_capacity = 0;
  struct iovec iov[];  // iov_capacity entries follow (GNU flexible array member)
};

// Blocks of up to this many iovecs are kept on a per-loop free list (an HTTP
// response is head + body, a pipelined batch a few more); larger ones are
// allocated to size and freed when the send ends.
constexpr uint32_t kCachedIovs = 8;
constexpr size_t kMaxCachedSends = 64;

// One accepted connection: the core an idle connection costs (48 bytes).
// Owned by its loop; recycled through a free list once on_closed has been
// delivered (or the host refused it).
// Standard layout, `src` first: an epoll event's Source* converts back to its Conn.
struct Conn {
  Source src{SourceKind::kConn};
  bool closing : 1 = false;         // close() called: only on_closed may follow
  bool paused : 1 = false;          // recv_pause()
  bool eof : 1 = false;             // on_eof delivered
  bool readable : 1 = false;        // edge seen and not yet drained
  bool writable : 1 = true;         // a fresh socket has send buffer space
  bool peer_hup : 1 = false;        // EPOLLRDHUP/HUP seen: read on to find the EOF
  bool wr_shut : 1 = false;         // shutdown_write() called: no more sends
  bool in_completions : 1 = false;  // queued for on_sent or on_closed
  bool connecting : 1 = false;      // connect(): on_connected not delivered yet
  uint8_t connect_err = 0;          // connect() failed at once: the errno its deferred on_connected reports
  int fd = -1;
  void *ctx = nullptr;  // the host's conn_ctx
  Link link;            // on the loop's ready list
  // Next in the completion queue; next in the free list once released.
  Conn *next = nullptr;
  PendingSend *send = nullptr;  // from send()/sendfile() until on_sent is delivered

  bool sending() const { return send && send->kind != SendKind::kNone; }
  static Conn *of(Source *s) { return reinterpret_cast<Conn *>(s); }
  static Conn *of(Link *l) { return reinterpret_cast<Conn *>(reinterpret_cast<char *>(l) - offsetof(Conn, link)); }
};
static_assert(std::is_standard_layout_v<Conn>);
static_assert(sizeof(Conn) <= 48, "an idle connection's core must stay small (README: bytes per connection)");

struct Listener : Source {
  Listener(int f, uint32_t i) : Source(SourceKind::kListener), fd(f), id(i) {}
  int fd;
  uint32_t id;
  bool armed = false;  // registered in epoll (false while backing off)
  bool removed = false;
};

struct Loop {
  Instance *inst = nullptr;
  axle_io_events_t ev{};
  int epfd = -1;
  int wakefd = -1;
  int tickfd = -1;
  Source wake_source{SourceKind::kWake};
  Source tick_source{SourceKind::kTick};

  std::vector<epoll_event> events;
  std::unique_ptr<char[]> read_buf;
  size_t read_buf_size = 0;

  std::vector<std::unique_ptr<Listener>> listeners;
  // Removed listeners may still appear in the current epoll batch: freed at the next turn.
  std::vector<std::unique_ptr<Listener>> retired;
  int64_t backoff_until_ms = -1;  // -1: no listener is backing off

  std::deque<Conn> conns;  // stable addresses; never shrinks
  Conn *free_conns = nullptr;
  PendingSend *free_sends = nullptr;  // unused kCachedIovs-sized blocks, at most kMaxCachedSends
  size_t free_send_count = 0;
  Link ready;  // connections with read/write work left over from a bounded turn
  Conn *completions_head = nullptr;
  Conn *completions_tail = nullptr;

  int64_t timer_deadline_ns = -1;  // timer_arm(): when on_timer is due; -1 = not armed

  bool running = false;
  bool stop_requested = false;

  ~Loop() {
    for (Conn &c : conns) {
      if (c.fd >= 0) ::close(c.fd);
      ::operator delete(c.send);
    }
    while (free_sends) {
      PendingSend *p = free_sends;
      free_sends = next_free_send(p);
      ::operator delete(p);
    }
    for (int fd : {epfd, wakefd, tickfd})
      if (fd >= 0) ::close(fd);
  }

  // ---- connection bookkeeping ----

  Conn *acquire_conn(int fd) {
    Conn *c = free_conns;
    if (c) {
      free_conns = c->next;
      c->next = nullptr;
    } else {
      c = &conns.emplace_back();
    }
    c->fd = fd;
    return c;
  }

  void release_conn(Conn *c) {
    c->link.unlink();
    put_send(c);
    c->closing = c->paused = c->eof = c->readable = c->peer_hup = c->wr_shut = c->in_completions = false;
    c->connecting = false;
    c->connect_err = 0;
    c->writable = true;
    c->fd = -1;
    c->ctx = nullptr;
    c->next = free_conns;
    free_conns = c;
  }

  void make_ready(Conn *c) {
    if (!c->link.linked()) ready.push_back(&c->link);
  }

  void queue_completion(Conn *c) {
    if (c->in_completions) return;
    c->in_completions = true;
    c->next = nullptr;
    if (completions_tail)
      completions_tail->next = c;
    else
      completions_head = c;
    completions_tail = c;
  }

  // ---- send blocks ----

  // A cached block's first word links the free list (the block is not in use).
  static PendingSend *&next_free_send(PendingSend *p) { return *reinterpret_cast<PendingSend **>(p); }

  // A block for `iovs` iovecs, or nullptr when memory is short.
  PendingSend *get_send(uint32_t iovs) {
    uint32_t cap = std::max(iovs, kCachedIovs);
    void *mem;
    if (cap == kCachedIovs && free_sends) {
      mem = free_sends;
      free_sends = next_free_send(free_sends);
      --free_send_count;
    } else {
      mem = ::operator new(sizeof(PendingSend) + cap * sizeof(struct iovec), std::nothrow);
      if (!mem) return nullptr;
    }
    return new (mem) PendingSend{.iov_capacity = cap};
  }

  // Gives the connection's send block back (kept for reuse if small, up to a bound).
  void put_send(Conn *c) {
    PendingSend *p = c->send;
    if (!p) return;
    c->send = nullptr;
    if (p->iov_capacity == kCachedIovs && free_send_count < kMaxCachedSends) {
      next_free_send(p) = free_sends;
      free_sends = p;
      ++free_send_count;
    } else {
      ::operator delete(p);
    }
  }

  // ---- sending (never calls the host: completions are only queued) ----

  void finish_send(Conn *c, int err) {
    PendingSend *p = c->send;
    if (p->shut_after_send) {
      // The last submitted byte is in the socket buffer: the FIN goes out after it.
      p->shut_after_send = false;
      ::shutdown(c->fd, SHUT_WR);
    }
    p->kind = SendKind::kNone;
    p->err = err;
    queue_completion(c);
  }

  // Advances the pending iovecs past `written` bytes; true when all are written.
  static bool consume_iov(PendingSend *p, size_t written) {
    while (written > 0) {
      struct iovec &v = p->iov[p->iov_next];
      if (written >= v.iov_len) {
        written -= v.iov_len;
        ++p->iov_next;
      } else {
        v.iov_base = static_cast<char *>(v.iov_base) + written;
        v.iov_len -= written;
        written = 0;
      }
    }
    return p->iov_next == p->iov_count;
  }

  void do_write(Conn *c) {
    PendingSend *p = c->send;
    for (int round = 0; round < kWritesPerTurn; ++round) {
      ssize_t n;
      if (p->kind == SendKind::kIov) {
        msghdr msg{};
        msg.msg_iov = &p->iov[p->iov_next];
        msg.msg_iovlen = std::min<size_t>(p->iov_count - p->iov_next, IOV_MAX);
        // sendmsg rather than writev: MSG_NOSIGNAL turns a dead peer into EPIPE, not SIGPIPE.
        n = ::sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (n >= 0) {
          if (consume_iov(p, static_cast<size_t>(n))) return finish_send(c, 0);
          continue;
        }
      } else if (p->kind == SendKind::kFile) {
        n = ::sendfile(c->fd, p->file_fd, &p->file_offset, std::min(p->file_left, kMaxSendfileChunk));
        if (n > 0) {
          p->file_left -= static_cast<uint64_t>(n);
          if (p->file_left == 0) return finish_send(c, 0);
          continue;
        }
        // The file ended before the range did (truncated under us): the response
        // cannot be completed, so report an I/O error rather than hang.
        if (n == 0) return finish_send(c, EIO);
      } else {
        return;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->writable = false;  // the EPOLLOUT edge resumes us
        return;
      }
      return finish_send(c, errno);
    }
    make_ready(c);
  }

  // ---- receiving (runs from dispatch only: may call the host) ----

  void deliver_eof(Conn *c, int err) {
    c->eof = true;
    c->readable = false;
    ev.on_eof(ev.host_ctx, c->ctx, err);
  }

  void do_read(Conn *c) {
    char *buf = read_buf.get();
    for (int round = 0; round < kReadsPerTurn; ++round) {
      ssize_t n = ::read(c->fd, buf, read_buf_size);
      if (n > 0) {
        // A short read drained the socket (TCP hands over all it has), so skip
        // the read that would only return EAGAIN, unless the peer hung up and
        // we must read on to see the EOF.
        if (static_cast<size_t>(n) < read_buf_size && !c->peer_hup) c->readable = false;
        ev.on_data(ev.host_ctx, c->ctx, buf, static_cast<size_t>(n));
        if (c->closing || c->paused || !c->readable) return;
        continue;
      }
      if (n == 0) return deliver_eof(c, 0);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->readable = false;
        return;
      }
      return deliver_eof(c, errno);
    }
    make_ready(c);
  }

  // Cancels the pending send, closes the fd and queues on_closed (or, with no
  // ctx, a silent recycle: the host refused the connection).
  void close(Conn *c) {
    if (c->closing) return;
    c->closing = true;
    c->link.unlink();
    // The pending send is dropped, not completed: the host's memory is free once on_closed arrives.
    put_send(c);
    if (c->fd >= 0) {
      // Explicit: a duplicated descriptor would otherwise keep the registration alive.
      ::epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
      ::close(c->fd);
      c->fd = -1;
    }
    queue_completion(c);
  }

  // ---- dispatch ----

  // Reports the end of connect(): err = 0 connected, else the connection is
  // dead (no read, the host closes it). Dispatch only.
  void finish_connect(Conn *c, int err) {
    c->connecting = false;
    if (err != 0) {
      c->eof = true;
      c->readable = false;
    }
    ev.on_connected(ev.host_ctx, c->ctx, err);
  }

  void on_conn_event(Conn *c, uint32_t events_mask) {
    if (c->closing) return;  // closed earlier in this batch
    if (c->connecting) {
      // A connecting socket turns writable once the handshake ended either way.
      if (!(events_mask & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
      if (so_error == 0 && (events_mask & (EPOLLERR | EPOLLHUP)) && !(events_mask & EPOLLOUT)) so_error = ECONNRESET;
      finish_connect(c, so_error);
      if (c->closing || c->eof) return;
    }
    if (events_mask & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = true;
    if (events_mask & (EPOLLRDHUP | EPOLLHUP)) c->peer_hup = true;
    if (events_mask & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c->writable = true;

    if (c->sending() && c->writable) do_write(c);
    if (!c->readable || c->eof) return;
    if (!c->paused) return do_read(c);
    // Paused: the bytes wait, but a reset connection is reported now so the
    // host does not sit on a dead peer until it resumes.
    if (events_mask & EPOLLERR) {
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error != 0) deliver_eof(c, so_error);
    }
  }

  void back_off(Listener *l, int e) {
    inst->log(AXLE_LOG_WARN, errno_message("accept failed", e) + "; listener paused for 100 ms");
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, l->fd, nullptr);
    l->armed = false;
    int64_t until = monotonic_ms() + kAcceptBackoffMs;
    if (backoff_until_ms < 0 || until < backoff_until_ms) backoff_until_ms = until;
  }

  bool arm_listener(Listener *l, int *err_out) {
    epoll_event e{};
    e.events = EPOLLIN | EPOLLEXCLUSIVE;
    e.data.ptr = static_cast<Source *>(l);
    int rc = ::epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &e);
    if (rc != 0 && errno == EINVAL) {  // kernel before 4.5: no EPOLLEXCLUSIVE
      e.events = EPOLLIN;
      rc = ::epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &e);
    }
    if (rc != 0) {
      if (err_out) *err_out = errno;
      return false;
    }
    l->armed = true;
    return true;
  }

  void rearm_backed_off_listeners() {
    if (backoff_until_ms < 0 || monotonic_ms() < backoff_until_ms) return;
    backoff_until_ms = -1;
    for (auto &l : listeners) {
      if (l->armed) continue;
      int e = 0;
      if (!arm_listener(l.get(), &e)) {
        inst->log(AXLE_LOG_ERROR, errno_message("re-arming listener failed", e));
        backoff_until_ms = monotonic_ms() + kAcceptBackoffMs;
      }
    }
  }

  void register_conn(Conn *c) {
    epoll_event e{};
    e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    e.data.ptr = &c->src;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) != 0) deliver_eof(c, errno);
  }

  void on_listener_event(Listener *l) {
    // After stop() a new connection would outlive run(): leave it in the
    // backlog (level-triggered, it is reported again if the loop runs again).
    for (int round = 0; round < kAcceptsPerTurn && !l->removed && l->armed && !stop_requested; ++round) {
      int fd = ::accept4(l->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        int e = errno;
        // EAGAIN: another loop sharing the listener took it (or the queue is empty).
        if (e == EAGAIN || e == EWOULDBLOCK) return;
        // The connection died in the queue or was refused by a filter: try the next.
        if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM) continue;
        return back_off(l, e);
      }
      Conn *c;
      try {
        c = acquire_conn(fd);
      } catch (const std::bad_alloc &) {
        ::close(fd);
        return back_off(l, ENOMEM);
      }
      void *ctx = ev.on_accept(ev.host_ctx, c, fd, l->id);
      c->ctx = ctx;
      if (!ctx)
        close(c);  // refused; a send made inside on_accept may be queued, so no direct recycle
      else if (!c->closing)
        register_conn(c);
    }
  }

  void dispatch(const epoll_event &e) {
    auto *src = static_cast<Source *>(e.data.ptr);
    switch (src->kind) {
      case SourceKind::kConn:
        return on_conn_event(Conn::of(src), e.events);
      case SourceKind::kListener:
        return on_listener_event(static_cast<Listener *>(src));
      case SourceKind::kWake: {
        uint64_t count;
        if (::read(wakefd, &count, sizeof count) == sizeof count && ev.on_wake) ev.on_wake(ev.host_ctx);
        return;
      }
      case SourceKind::kTick: {
        uint64_t expirations;  // missed ticks collapse into one
        if (::read(tickfd, &expirations, sizeof expirations) == sizeof expirations && ev.on_tick)
          ev.on_tick(ev.host_ctx);
        return;
      }
    }
  }

  void process_ready() {
    Link batch;
    batch.take_all(ready);
    while (batch.linked()) {
      Conn *c = Conn::of(batch.next);
      c->link.unlink();
      if (c->sending() && c->writable) do_write(c);
      if (!c->closing && c->readable && !c->eof && !c->paused) do_read(c);
    }
  }

  void deliver_completions() {
    Conn *c = completions_head;
    completions_head = completions_tail = nullptr;  // new ones wait for the next turn
    while (c) {
      Conn *next = c->next;
      c->next = nullptr;
      c->in_completions = false;
      if (c->closing) {
        void *ctx = c->ctx;
        release_conn(c);
        if (ctx) ev.on_closed(ev.host_ctx, ctx);  // no ctx: refused inside on_accept
      } else if (c->connecting) {
        finish_connect(c, c->connect_err);  // connect() failed at once
      } else if (c->send && !c->sending()) {
        int err = c->send->err;
        put_send(c);  // before the callback, which may send again
        ev.on_sent(ev.host_ctx, c->ctx, err);
      }
      c = next;
    }
  }

  int wait_timeout_ms() const {
    if (stop_requested || ready.linked() || completions_head) return 0;
    int64_t timeout = -1;
    if (backoff_until_ms >= 0) timeout = std::max<int64_t>(0, backoff_until_ms - monotonic_ms());
    if (timer_deadline_ns >= 0) {
      // Rounded up: epoll_wait must not return before the deadline and spin.
      int64_t left_ms = std::max<int64_t>(0, (timer_deadline_ns - monotonic_ns() + 999999) / 1000000);
      if (timeout < 0 || left_ms < timeout) timeout = left_ms;
    }
    return static_cast<int>(std::min<int64_t>(timeout, INT_MAX));
  }

  void fire_timer_if_due() {
    if (timer_deadline_ns < 0 || monotonic_ns() < timer_deadline_ns) return;
    timer_deadline_ns = -1;  // before the call: on_timer may arm again
    ev.on_timer(ev.host_ctx);
  }

  axle_status_t run(axle_error_t *err) {
    for (;;) {
      retired.clear();
      rearm_backed_off_listeners();
      int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), wait_timeout_ms());
      if (n < 0) {
        if (errno != EINTR) {
          inst->fail(err, errno_message("epoll_wait", errno));
          return AXLE_ERR_IO;
        }
        n = 0;
      }
      for (int i = 0; i < n; ++i) dispatch(events[i]);
      fire_timer_if_due();
      process_ready();
      deliver_completions();
      if (stop_requested) return AXLE_OK;
    }
  }
};

// ---- vtable ----

Conn *as_conn(void *io_conn) { return static_cast<Conn *>(io_conn); }

axle_status_t loop_create(void *instance, void * /*thread_ctx*/, const axle_io_events_t *events,
                          const axle_io_loop_options_t *options, void **loop_out, axle_error_t *err) {
  auto *inst = static_cast<Instance *>(instance);
  try {
    if (!events || !loop_out) {
      inst->fail(err, "loop_create: events and loop_out are required");
      return AXLE_ERR_INVALID;
    }
    auto loop = std::make_unique<Loop>();
    loop->inst = inst;
    if (events->struct_size < kEvents10Size || (options && options->struct_size < kOptions10Size)) {
      inst->fail(err, "loop_create: events or options smaller than their ABI 1.0 layout");
      return AXLE_ERR_INVALID;
    }
    // Copy the 1.0 part whatever size a newer host compiled, then the 1.2
    // events an older host's struct may lack (left NULL: timer_arm and
    // connect are then refused).
    std::memcpy(&loop->ev, events, kEvents10Size);
    if (AXLE_STRUCT_HAS(events, axle_io_events_t, on_timer)) loop->ev.on_timer = events->on_timer;
    if (AXLE_STRUCT_HAS(events, axle_io_events_t, on_connected)) loop->ev.on_connected = events->on_connected;
    if (!loop->ev.on_accept || !loop->ev.on_data || !loop->ev.on_eof || !loop->ev.on_sent || !loop->ev.on_closed) {
      inst->fail(err, "loop_create: on_accept, on_data, on_eof, on_sent and on_closed are required");
      return AXLE_ERR_INVALID;
    }
    uint32_t tick_ms = options ? options->tick_ms : 0;

    loop->events.resize(static_cast<size_t>(inst->max_events));
    loop->read_buf_size = inst->read_buffer;
    loop->read_buf.reset(new char[loop->read_buf_size]);

    loop->epfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
      inst->fail(err, errno_message("epoll_create1", errno));
      return AXLE_ERR_IO;
    }
    loop->wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wakefd < 0) {
      inst->fail(err, errno_message("eventfd", errno));
      return AXLE_ERR_IO;
    }
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.ptr = &loop->wake_source;
    if (::epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &e) != 0) {
      inst->fail(err, errno_message("epoll_ctl(eventfd)", errno));
      return AXLE_ERR_IO;
    }
    if (tick_ms > 0) {
      loop->tickfd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (loop->tickfd < 0) {
        inst->fail(err, errno_message("timerfd_create", errno));
        return AXLE_ERR_IO;
      }
      itimerspec spec{};
      spec.it_interval.tv_sec = tick_ms / 1000;
      spec.it_interval.tv_nsec = static_cast<long>(tick_ms % 1000) * 1000000L;
      spec.it_value = spec.it_interval;
      e.data.ptr = &loop->tick_source;
      if (::timerfd_settime(loop->tickfd, 0, &spec, nullptr) != 0 ||
          ::epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->tickfd, &e) != 0) {
        inst->fail(err, errno_message("tick timer", errno));
        return AXLE_ERR_IO;
      }
    }
    *loop_out = loop.release();
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    inst->fail(err, "loop_create: out of memory");
    return AXLE_ERR_NOMEM;
  } catch (...) {
    inst->fail(err, "loop_create: unexpected exception");
    return AXLE_ERR_INTERNAL;
  }
}

void loop_destroy(void *loop) { delete static_cast<Loop *>(loop); }

axle_status_t listen_add(void *loop_ptr, int fd, uint32_t listener_id, axle_error_t *err) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  try {
    for (auto &l : loop->listeners) {
      if (l->fd == fd) {
        loop->inst->fail(err, "listen_add: fd " + std::to_string(fd) + " is already added to this loop");
        return AXLE_ERR_INVALID;
      }
    }
    // accept4 must not block when another loop sharing the socket won the race.
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || (!(flags & O_NONBLOCK) && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)) {
      loop->inst->fail(err, errno_message("listen_add: fcntl on the listening socket", errno));
      return AXLE_ERR_IO;
    }
    auto l = std::make_unique<Listener>(fd, listener_id);
    int e = 0;
    if (!loop->arm_listener(l.get(), &e)) {
      loop->inst->fail(err, errno_message("listen_add: epoll_ctl", e));
      return AXLE_ERR_IO;
    }
    loop->listeners.push_back(std::move(l));
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    ::epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, nullptr);
    loop->inst->fail(err, "listen_add: out of memory");
    return AXLE_ERR_NOMEM;
  }
}

void listen_remove(void *loop_ptr, int fd) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  auto it = std::find_if(loop->listeners.begin(), loop->listeners.end(), [fd](auto &l) { return l->fd == fd; });
  if (it == loop->listeners.end()) return;
  Listener *l = it->get();
  if (l->armed) ::epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, nullptr);
  l->armed = false;
  l->removed = true;
  try {
    loop->retired.push_back(std::move(*it));
    loop->listeners.erase(it);
  } catch (const std::bad_alloc &) {
    // Keep it in `listeners`, disarmed and marked removed: harmless until destroy.
  }
}

axle_status_t run(void *loop_ptr, axle_error_t *err) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  if (loop->running) {
    loop->inst->fail(err, "run: the loop is already running");
    return AXLE_ERR_INVALID;
  }
  loop->running = true;
  axle_status_t status;
  try {
    status = loop->run(err);
  } catch (...) {
    loop->inst->fail(err, "run: unexpected exception");
    status = AXLE_ERR_INTERNAL;
  }
  loop->running = false;
  loop->stop_requested = false;
  return status;
}

void stop(void *loop) { static_cast<Loop *>(loop)->stop_requested = true; }

void wake(void *loop) {
  uint64_t one = 1;
  // Async-signal-safe. EAGAIN means the counter is saturated: a wake is already pending.
  ssize_t rc = ::write(static_cast<Loop *>(loop)->wakefd, &one, sizeof one);
  (void)rc;
}

axle_status_t send(void *loop_ptr, void *io_conn, const axle_iov_t *iov, uint32_t count) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  Conn *c = as_conn(io_conn);
  if (!c || c->closing || c->connecting || c->wr_shut || c->send || (count > 0 && !iov)) return AXLE_ERR_INVALID;
  PendingSend *p = loop->get_send(count);
  if (!p) return AXLE_ERR_NOMEM;
  c->send = p;
  for (uint32_t i = 0; i < count; ++i)
    if (iov[i].len > 0) p->iov[p->iov_count++] = {const_cast<void *>(iov[i].base), iov[i].len};
  p->kind = SendKind::kIov;
  if (p->iov_count == 0)
    loop->finish_send(c, 0);
  else if (c->writable)
    loop->do_write(c);  // most responses fit the socket buffer: done without a loop turn
  return AXLE_OK;
}

axle_status_t sendfile(void *loop_ptr, void *io_conn, int file_fd, uint64_t offset, uint64_t length) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  Conn *c = as_conn(io_conn);
  if (!c || c->closing || c->connecting || c->wr_shut || c->send || file_fd < 0 || offset > static_cast<uint64_t>(INT64_MAX) ||
      length > static_cast<uint64_t>(INT64_MAX) - offset)
    return AXLE_ERR_INVALID;
  PendingSend *p = loop->get_send(0);
  if (!p) return AXLE_ERR_NOMEM;
  c->send = p;
  p->kind = SendKind::kFile;
  p->file_fd = file_fd;
  p->file_offset = static_cast<off_t>(offset);
  p->file_left = length;
  if (length == 0)
    loop->finish_send(c, 0);
  else if (c->writable)
    loop->do_write(c);
  return AXLE_OK;
}

void recv_pause(void *, void *io_conn) {
  if (Conn *c = as_conn(io_conn)) c->paused = true;
}

void recv_resume(void *loop_ptr, void *io_conn) {
  Conn *c = as_conn(io_conn);
  if (!c || !c->paused) return;
  c->paused = false;
  // Bytes that arrived while paused raised no new edge: read them next turn.
  if (c->readable && !c->eof && !c->closing) static_cast<Loop *>(loop_ptr)->make_ready(c);
}

void close_conn(void *loop_ptr, void *io_conn) {
  if (Conn *c = as_conn(io_conn)) static_cast<Loop *>(loop_ptr)->close(c);
}

axle_status_t shutdown_write(void *, void *io_conn) {
  Conn *c = as_conn(io_conn);
  if (!c || c->closing || c->fd < 0) return AXLE_ERR_INVALID;
  if (c->wr_shut) return AXLE_OK;
  c->wr_shut = true;
  // A send still partly queued here: the FIN must follow its last byte.
  if (c->sending()) {
    c->send->shut_after_send = true;
    return AXLE_OK;
  }
  if (::shutdown(c->fd, SHUT_WR) != 0 && errno != ENOTCONN) return AXLE_ERR_IO;
  return AXLE_OK;
}

axle_status_t conn_address(void *, void *io_conn, axle_conn_end_t end, axle_address_t *out) {
  Conn *c = as_conn(io_conn);
  if (!c || c->closing || c->fd < 0) return AXLE_ERR_INVALID;
  return axle::io_socket::address(c->fd, end, out);
}

axle_status_t conn_option(void *, void *io_conn, axle_conn_option_t option, int64_t value) {
  Conn *c = as_conn(io_conn);
  if (!c || c->closing || c->fd < 0) return AXLE_ERR_INVALID;
  return axle::io_socket::option(c->fd, option, value);
}

void timer_arm(void *loop_ptr, uint64_t delay_ms) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  if (!loop->ev.on_timer) return;  // a host without on_timer never asked for it
  loop->timer_deadline_ns = monotonic_ns() + static_cast<int64_t>(std::min(delay_ms, kMaxTimerDelayMs)) * 1000000;
}

axle_status_t connect(void *loop_ptr, const axle_address_t *to, void *conn_ctx, void **io_conn_out,
                      axle_error_t *err) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  sockaddr_storage ss;
  socklen_t len = 0;
  if (!to || !conn_ctx || !io_conn_out || !AXLE_STRUCT_HAS(to, axle_address_t, addr) ||
      !axle::io_socket::to_sockaddr(*to, ss, len)) {
    loop->inst->fail(err, "connect: an IPv4 or IPv6 address, a conn_ctx and io_conn_out are required");
    return AXLE_ERR_INVALID;
  }
  if (!loop->ev.on_connected) {
    loop->inst->fail(err, "connect: the host's events have no on_connected");
    return AXLE_ERR_UNSUPPORTED;
  }
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    loop->inst->fail(err, errno_message("connect: socket", errno));
    return AXLE_ERR_IO;
  }
  int rc = ::connect(fd, reinterpret_cast<sockaddr *>(&ss), len);
  int connect_errno = rc == 0 ? 0 : errno;
  Conn *c;
  try {
    c = loop->acquire_conn(fd);
  } catch (const std::bad_alloc &) {
    ::close(fd);
    loop->inst->fail(err, "connect: out of memory");
    return AXLE_ERR_NOMEM;
  }
  c->ctx = conn_ctx;
  c->connecting = true;
  c->writable = false;  // until the handshake is over
  if (rc != 0 && connect_errno != EINPROGRESS) {
    // Refused or unreachable at once (possible on loopback): reported like a
    // late failure, by on_connected from run(), never from inside this call.
    c->connect_err = static_cast<uint8_t>(std::clamp(connect_errno, 1, 255));
    loop->queue_completion(c);
  } else {
    // Registered like an accepted socket; the EPOLLOUT edge (or ERR/HUP) ends the connect.
    epoll_event e{};
    e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    e.data.ptr = &c->src;
    if (::epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
      int e2 = errno;
      ::close(fd);
      c->fd = -1;
      c->ctx = nullptr;
      loop->release_conn(c);
      loop->inst->fail(err, errno_message("connect: epoll_ctl", e2));
      return AXLE_ERR_IO;
    }
  }
  *io_conn_out = c;
  return AXLE_OK;
}

// ---- lifecycle ----

axle_status_t read_int(const axle_host_api_t *host, const axle_config_t *cfg, const char *key, int64_t def,
                       int64_t min, int64_t max, int64_t *out, axle_error_t *err) {
  int64_t v = def;
  if (cfg && host->config_get_int) {
    if (host->config_get_int(cfg, key, &v) != AXLE_OK) v = def;  // undeclared by the host: default
  }
  if (v < min || v > max) {
    std::string msg = std::string("io.epoll: ") + key + " must be between " + std::to_string(min) + " and " +
                      std::to_string(max) + ", got " + std::to_string(v);
    if (err && host->error_set) host->error_set(err, msg.data(), msg.size());
    return AXLE_ERR_INVALID;
  }
  *out = v;
  return AXLE_OK;
}

axle_status_t create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out, axle_error_t *err) {
  if (!host || !instance_out) return AXLE_ERR_INVALID;
  try {
    int64_t read_buffer = 0, max_events = 0;
    axle_status_t s =
        read_int(host, cfg, "read_buffer", kDefaultReadBuffer, kMinReadBuffer, kMaxReadBuffer, &read_buffer, err);
    if (s != AXLE_OK) return s;
    s = read_int(host, cfg, "max_events", kDefaultMaxEvents, 1, kMaxMaxEvents, &max_events, err);
    if (s != AXLE_OK) return s;
    auto *inst = new Instance;
    inst->host = host;
    inst->cfg = cfg;
    inst->read_buffer = static_cast<size_t>(read_buffer);
    inst->max_events = static_cast<int>(max_events);
    *instance_out = inst;
    return AXLE_OK;
  } catch (...) {
    const char msg[] = "io.epoll: out of memory";
    if (err && host->error_set) host->error_set(err, msg, sizeof msg - 1);
    return AXLE_ERR_NOMEM;
  }
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

const axle_config_key_t kConfigKeys[] = {
    {.name = "read_buffer",
     .type = AXLE_CONFIG_INT,
     .default_value = "65536",
     .doc = "Bytes of the per-loop read buffer shared by all its connections (4096..16777216)"},
    {.name = "max_events",
     .type = AXLE_CONFIG_INT,
     .default_value = "256",
     .doc = "Readiness events fetched per epoll_wait call (1..65536)"},
};

const axle_io_vtable_t kVtable = {
    .struct_size = sizeof(axle_io_vtable_t),
    .loop_create = loop_create,
    .loop_destroy = loop_destroy,
    .listen_add = listen_add,
    .listen_remove = listen_remove,
    .run = run,
    .stop = stop,
    .wake = wake,
    .send = send,
    .sendfile = sendfile,
    .recv_pause = recv_pause,
    .recv_resume = recv_resume,
    .close = close_conn,
    .shutdown_write = shutdown_write,
    .conn_address = conn_address,
    .conn_option = conn_option,
    .timer_arm = timer_arm,
    .connect = connect,
};

}  // namespace

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t descriptor = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_IO,
      .flags = 0,
      .name = "epoll",
      .version = "1.2.0",
      .description = "Event loop on epoll: edge-triggered connections, shared listeners, sendfile",
      .config_keys = kConfigKeys,
      .config_key_count = sizeof kConfigKeys / sizeof kConfigKeys[0],
      .create = create,
      .destroy = destroy,
      .thread_init = nullptr,
      .thread_fini = nullptr,
      .vtable = &kVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &descriptor;
}
