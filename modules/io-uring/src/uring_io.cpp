// io module "uring": one io_uring per worker loop.
//
// Single-shot accepts re-armed each turn (fair among loops), multishot recv
// into a provided-buffer ring, sendmsg for vectored sends, sendfile(2) from
// the loop for files (or, with file_async, a linked read -> send through a
// pooled buffer for small ranges and a splice file -> pipe -> socket for
// large ones), a multishot timeout for ticks and an eventfd read for wakes.
// One io_uring_submit_and_wait per loop turn. Since ABI 1.2: the loop timer
// is one absolute IORING_OP_TIMEOUT; an outgoing connection is a non-blocking
// connect(2) followed by a POLLOUT poll op.
//
// Shape of a turn: submit + wait, handle the completions (events may be
// delivered straight from there), then the work list: every connection whose
// state changed gets its operations reconciled with what it should have
// (recv armed or cancelled, next send step, close). Host calls never touch the
// ring: they change state and queue the connection on the work list, so an SQE
// shortage never has to be reported from inside a host call.
//
// Lifetime: a connection counts its outstanding operations (one bit per kind,
// since there is at most one of each). close() cancels them by user_data and
// closes the fd with IORING_OP_CLOSE queued after them; on_closed is delivered,
// and the object recycled, only when the last of them has completed.
#include <axle/io.h>
#include <liburing.h>

#include "socket_slots.h"  // io-epoll's: the address and option slots are the same socket calls
#include "uring_metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#ifndef IORING_TIMEOUT_MULTISHOT
#define IORING_TIMEOUT_MULTISHOT (1U << 6)  // Linux 6.4; liburing < 2.4 lacks the name
#endif

namespace {

static_assert(sizeof(axle_iov_t) == sizeof(struct iovec));
static_assert(offsetof(axle_iov_t, base) == offsetof(struct iovec, iov_base));
static_assert(offsetof(axle_iov_t, len) == offsetof(struct iovec, iov_len));

constexpr int64_t kDefaultEntries = 4096;
constexpr int64_t kDefaultBufferCount = 512;
constexpr int64_t kDefaultBufferSize = 16384;
constexpr uint16_t kBufferGroup = 0;  // one ring per loop, so one group is enough
constexpr unsigned kCqeBatch = 256;
constexpr unsigned kMaxCqesPerTurn = 4 * kCqeBatch;
constexpr int kWorkRoundsPerTurn = 4;
constexpr int64_t kAcceptBackoffMs = 100;
constexpr int kPipeSize = 1 << 20;  // bytes moved per splice round trip
constexpr size_t kIdlePipesKept = 16;
// With file_async (README "sendfile"), file ranges up to copy_max bytes are
// read into a buffer and sent; larger ones are spliced. A buffer is held by
// one file send; at most kMaxCopyBuffers exist per loop (kept for reuse), and
// a send that finds none free is spliced instead.
constexpr int64_t kDefaultCopyMax = 32768;  // README "sendfile": where copying stopped measuring cheaper
constexpr int64_t kMaxCopyMax = 1 << 20;
constexpr size_t kMaxCopyBuffers = 64;
// Without file_async: sendfile(2) from the loop thread, at most this many
// calls per connection per turn.
constexpr int kSendfileRounds = 16;
constexpr uint64_t kMaxSendfileChunk = 0x7ffff000;  // what one sendfile(2) moves at most
// Bytes a paused connection may hold copied out of the ring (what its recv
// had completed when the pause took effect, see README "Back-pressure"), per
// connection (`pause_copy_max`) and for all of a loop's connections together.
// Past either bound the ring buffers themselves are held: the ring bounds them.
constexpr int64_t kDefaultPauseCopyMax = 1024 * 1024;
constexpr size_t kLoopStashMax = 16 * 1024 * 1024;

// End of the last ABI 1.0 field of the structs the host fills: smaller is
// refused, larger (a newer host) is fine and its extra fields are not read.
constexpr size_t kEvents10Size = offsetof(axle_io_events_t, on_wake) + sizeof(axle_io_events_t::on_wake);
constexpr size_t kOptions10Size =
    offsetof(axle_io_loop_options_t, max_connections) + sizeof(axle_io_loop_options_t::max_connections);

// user_data = object pointer | tag. Objects are 16-byte aligned. A
// connection's tags come first: Conn::ops has one bit for each.
enum Tag : uint64_t {
  kIgnore = 0,  // cancel requests: their completion carries no information
  kRecv,
  kSend,
  kFileIn,   // file -> pipe (splice) or file -> buffer (read)
  kFileOut,  // pipe -> socket (splice) or buffer -> socket (send)
  kPollOut,
  kCloseOp,
  kShutdown,
  kConnect,  // POLLOUT on a connecting socket
  kAccept,
  kWake,
  kTick,
  kBackoff,
  kTimer,
};
constexpr uint64_t kTagMask = 15;

constexpr uint32_t bit(Tag t) { return 1u << t; }
constexpr uint32_t kSendOps = bit(kSend) | bit(kFileIn) | bit(kFileOut) | bit(kPollOut);
// Operations close() cancels (the close op itself is queued after them).
constexpr uint32_t kCancelOnClose = bit(kRecv) | kSendOps | bit(kShutdown) | bit(kConnect);
// A timer_arm delay beyond this is clamped (no overflow of the deadline): a year.
constexpr uint64_t kMaxTimerDelayMs = 365ull * 24 * 3600 * 1000;

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t user_data(const void *object, Tag tag) { return reinterpret_cast<uintptr_t>(object) | tag; }

std::string errno_message(const char *what, int e) { return std::string(what) + ": " + std::strerror(e); }

struct Instance {
  const axle_host_api_t *host = nullptr;
  const axle_config_t *cfg = nullptr;
  unsigned entries = kDefaultEntries;
  bool sqpoll = false;
  unsigned buffer_count = kDefaultBufferCount;
  unsigned buffer_size = kDefaultBufferSize;
  uint32_t copy_max = kDefaultCopyMax;
  size_t pause_copy_max = kDefaultPauseCopyMax;
  bool file_async = false;
  axle::uring::Metrics metrics;  // module metrics handles, registered in create()

  void log(axle_log_level_t level, const std::string &msg) const {
    if (host && host->log) host->log(cfg, level, msg.data(), msg.size());
  }
  void fail(axle_error_t *err, const std::string &msg) const {
    if (err && host && host->error_set) host->error_set(err, msg.data(), msg.size());
  }
};

// Node of an intrusive circular list; a node links to itself when unlinked.
struct Link {
  Link() = default;
  Link(const Link &) = delete;
  Link &operator=(const Link &) = delete;
  Link *prev = this;
  Link *next = this;
  bool linked() const { return next != this; }
  void unlink() {
    prev->next = next;
    next->prev = prev;
    prev = next = this;
  }
  void push_back(Link *node) {  // on a list head
    node->prev = prev;
    node->next = this;
    prev->next = node;
    prev = node;
  }
  void take_all(Link &from) {  // on an empty head; leaves `from` empty
    if (!from.linked()) return;
    next = from.next;
    prev = from.prev;
    next->prev = this;
    prev->next = this;
    from.prev = from.next = &from;
  }
};

struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
  uint32_t capacity = 0;
  explicit operator bool() const { return read_fd >= 0; }
  void close_both() {
    if (read_fd >= 0) ::close(read_fd);
    if (write_fd >= 0) ::close(write_fd);
    read_fd = write_fd = -1;
  }
};

enum class SendKind : uint8_t { kNone, kIov, kFile };

// A send from send()/sendfile() until on_sent is delivered: iov[iov_next..] or
// the file range (through `pipe`, or through `buf` for a range of at most
// copy_max bytes). Lives apart from the Conn so that an idle connection holds
// no send state; kept until the connection is released if close() cut the
// send short, as the kernel may still read msg, iov and buf.
struct SendState {
  SendKind kind = SendKind::kNone;
  bool wait_writable = false;
  uint32_t in_pipe = 0;  // spliced in, not yet out
  int file_fd = -1;
  uint64_t file_offset = 0;
  uint64_t file_left = 0;
  Pipe pipe;
  // Copy path: buf[buf_off .. buf_off + in_buf) is read and not yet sent.
  // Signed: a linked pair's completions may be seen in either order.
  char *buf = nullptr;
  int64_t in_buf = 0;
  uint32_t buf_off = 0;
  int err = 0;  // first error of a linked read -> send pair, reported once both are in
  msghdr msg{};  // must stay put while the sendmsg is in flight
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

// Bytes received while paused (or queued behind such bytes), in arrival
// order: first copied out of the ring (bytes[off..], at most pause_copy_max, so a
// paused connection holds no ring buffer), then, past the copy bounds, ring
// buffers kept as they are (`held` of them, chained through the loop's
// held_next from held_head): those are not recycled, so the kernel cannot
// refill them and a recv that finds the ring empty ends with ENOBUFS. Exists
// only while there is something to deliver.
struct Stash {
  std::vector<char> bytes;
  size_t off = 0;
  uint32_t held = 0;
  uint16_t held_head = 0;
  uint16_t held_tail = 0;
  bool copied_empty() const { return off == bytes.size(); }
};

// One accepted connection: the core an idle connection costs (64 bytes).
// Standard layout: a list node converts back to its Conn by offsetof.
struct alignas(16) Conn {
  Conn() = default;
  Conn(const Conn &) = delete;

  Link work;      // on the loop's work list
  Link starving;  // on the loop's ENOBUFS list
  union {
    void *ctx = nullptr;  // the host's conn_ctx
    Conn *next_free;      // while on the loop's free list
  };
  SendState *send = nullptr;  // from send()/sendfile() until on_sent is delivered
  Stash *stash = nullptr;     // only while paused bytes wait
  int fd = -1;
  uint32_t ops : 9 = 0;  // bit(tag) for each outstanding operation (tags kRecv..kConnect)
  uint32_t closing : 1 = 0;           // close() called: only on_closed may follow
  uint32_t close_submitted : 1 = 0;   // cancels + close op queued (or fd closed directly)
  uint32_t paused : 1 = 0;
  uint32_t recv_cancel_sent : 1 = 0;
  uint32_t recv_done : 1 = 0;         // EOF or error seen: never re-arm recv
  uint32_t eof_pending : 1 = 0;       // EOF/error to deliver after the stash
  uint32_t starved : 1 = 0;           // recv stopped on ENOBUFS, waits for buffers
  uint32_t throttled : 1 = 0;         // was paused once: single-shot recvs from now on
  uint32_t wr_shut : 1 = 0;           // shutdown_write() called: no more sends
  uint32_t shut_submitted : 1 = 0;
  uint32_t connecting : 1 = 0;        // connect(): on_connected not delivered yet
  uint32_t connect_failed : 1 = 0;    // connect(2) failed at once: on_connected(eof_err) is due
  uint32_t eof_err : 8 = 0;           // errno for the pending EOF or failed connect (Linux errnos are < 256)

  bool sending() const { return send && send->kind != SendKind::kNone; }
  bool has_stash() const { return stash && (!stash->copied_empty() || stash->held > 0); }
  static Conn *of_work(Link *l) { return reinterpret_cast<Conn *>(reinterpret_cast<char *>(l) - offsetof(Conn, work)); }
  static Conn *of_starving(Link *l) {
    return reinterpret_cast<Conn *>(reinterpret_cast<char *>(l) - offsetof(Conn, starving));
  }
};
static_assert(std::is_standard_layout_v<Conn>);
static_assert(kConnect < 9, "Conn::ops has one bit per connection tag");
static_assert(sizeof(Conn) <= 64, "an idle connection's core must stay small (README: bytes per connection)");

struct alignas(16) Listener {
  Listener(int f, uint32_t i) : fd(f), id(i) {}
  int fd;
  uint32_t id;
  bool armed = false;  // accept op outstanding
  bool removed = false;
  bool cancel_sent = false;
};

struct alignas(16) Loop {
  Instance *inst = nullptr;
  axle_io_events_t ev{};
  io_uring ring{};
  bool ring_ready = false;
  bool sqpoll = false;

  // Provided buffers for recv.
  io_uring_buf_ring *buf_ring = nullptr;
  size_t buf_ring_bytes = 0;
  char *buffers = nullptr;
  size_t buffers_bytes = 0;
  unsigned buffer_count = 0;
  unsigned buffer_size = 0;
  unsigned free_buffers = 0;
  // Ring buffers a paused connection holds (Stash): the next in its chain and
  // the bytes in each. One slot per buffer, so holding never allocates.
  std::vector<uint16_t> held_next;
  std::vector<uint32_t> held_len;
  size_t stash_total = 0;  // copied bytes waiting in every Stash, at most kLoopStashMax
  bool pause_seen = false;  // recv_pause during this reap: stop reaping, let the cancel go out

  int wakefd = -1;
  uint64_t wake_value = 0;
  bool wake_armed = false;

  uint32_t tick_ms = 0;
  __kernel_timespec tick_ts{};
  bool tick_armed = false;
  bool tick_multishot = true;

  __kernel_timespec backoff_ts{};
  bool backing_off = false;
  bool backoff_armed = false;

  // timer_arm(): the wanted deadline (0 = none) and the one absolute timeout
  // op in flight for it. Re-arming later lets the op fire early and be
  // ignored (now < wanted); re-arming earlier removes it. No stale completion
  // raises on_timer: only reaching the wanted deadline does.
  uint64_t timer_want_ns = 0;
  uint64_t timer_op_ns = 0;
  __kernel_timespec timer_ts{};
  bool timer_armed = false;
  bool timer_remove_sent = false;

  std::vector<std::unique_ptr<Listener>> listeners;

  std::deque<Conn> conns;  // stable addresses; never shrinks
  Conn *free_conns = nullptr;
  SendState *free_sends = nullptr;  // unused kCachedIovs-sized blocks, at most kMaxCachedSends
  size_t free_send_count = 0;
  Link work;
  Link starved;
  std::vector<Pipe> idle_pipes;
  // Copy-path buffers of copy_max bytes: those not held by a send, and how
  // many exist (at most kMaxCopyBuffers).
  std::vector<char *> free_copy_bufs;
  size_t copy_bufs = 0;

  uint64_t inflight = 0;  // operations whose last completion has not been seen
  bool running = false;
  bool stop_requested = false;
  axle::uring::Figures figures;  // published to the host's metrics once per tick

  ~Loop() {
    figures.retire(inst->metrics, ring.sq.sqe_head);
    if (ring_ready) drain_and_exit();
    for (Conn &c : conns) {
      if (c.fd >= 0) ::close(c.fd);
      if (c.send) c.send->pipe.close_both();
      if (c.send) delete[] c.send->buf;
      ::operator delete(c.send);
      delete c.stash;
    }
    while (free_sends) {
      SendState *p = free_sends;
      free_sends = next_free_send(p);
      ::operator delete(p);
    }
    for (Pipe &p : idle_pipes) p.close_both();
    for (char *b : free_copy_bufs) delete[] b;
    if (wakefd >= 0) ::close(wakefd);
    if (buf_ring) ::munmap(buf_ring, buf_ring_bytes);
    if (buffers) ::munmap(buffers, buffers_bytes);
  }

  // ---- setup ----

  bool init_ring(axle_error_t *err) {
    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = std::min<unsigned>(inst->entries * 4, 65536);
    unsigned base = p.flags;
    if (inst->sqpoll) {
      p.flags |= IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER;
      p.sq_thread_idle = 1000;
      base |= IORING_SETUP_SQPOLL;
    } else {
      // Completions run only when this thread asks for them: no IPIs, no
      // contention with the kernel's task work between our syscalls.
      p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    }
    unsigned sq_idle = p.sq_thread_idle;
    int rc = io_uring_queue_init_params(inst->entries, &ring, &p);
    if (rc == -EINVAL) {  // kernel before 6.1: no DEFER_TASKRUN / SINGLE_ISSUER
      p = io_uring_params{};
      p.flags = base;
      p.cq_entries = std::min<unsigned>(inst->entries * 4, 65536);
      p.sq_thread_idle = sq_idle;
      rc = io_uring_queue_init_params(inst->entries, &ring, &p);
    }
    if (rc < 0 && inst->sqpoll) {
      inst->fail(err, std::string("io_uring with sqpoll could not be set up: ") + std::strerror(-rc) +
                          "; set sqpoll = false");
      return false;
    }
    if (rc < 0) {
      inst->fail(err, std::string("io_uring is not available: ") + std::strerror(-rc) + "; use io = \"epoll\"");
      return false;
    }
    ring_ready = true;
    sqpoll = (p.flags & IORING_SETUP_SQPOLL) != 0;
    return true;
  }

  bool init_buffers(axle_error_t *err) {
    buffer_count = inst->buffer_count;
    buffer_size = inst->buffer_size;
    buf_ring_bytes = sizeof(io_uring_buf) * buffer_count;
    void *mem = ::mmap(nullptr, buf_ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      inst->fail(err, errno_message("mmap(buffer ring)", errno));
      return false;
    }
    buf_ring = static_cast<io_uring_buf_ring *>(mem);
    buffers_bytes = static_cast<size_t>(buffer_count) * buffer_size;
    mem = ::mmap(nullptr, buffers_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      inst->fail(err, errno_message("mmap(receive buffers)", errno));
      return false;
    }
    buffers = static_cast<char *>(mem);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uintptr_t>(buf_ring);
    reg.ring_entries = buffer_count;
    reg.bgid = kBufferGroup;
    int rc = io_uring_register_buf_ring(&ring, &reg, 0);
    if (rc < 0) {
      inst->fail(err, std::string("io_uring buffer ring registration failed (Linux 5.19+ needed): ") +
                          std::strerror(-rc) + "; use io = \"epoll\"");
      return false;
    }
    io_uring_buf_ring_init(buf_ring);
    for (unsigned i = 0; i < buffer_count; ++i)
      io_uring_buf_ring_add(buf_ring, buffer(static_cast<uint16_t>(i)), buffer_size, static_cast<uint16_t>(i),
                            io_uring_buf_ring_mask(buffer_count), static_cast<int>(i));
    io_uring_buf_ring_advance(buf_ring, static_cast<int>(buffer_count));
    free_buffers = buffer_count;
    held_next.assign(buffer_count, 0);
    held_len.assign(buffer_count, 0);
    return true;
  }

  // ---- small helpers ----

  char *buffer(uint16_t bid) const { return buffers + static_cast<size_t>(bid) * buffer_size; }

  void return_buffer(uint16_t bid) {
    io_uring_buf_ring_add(buf_ring, buffer(bid), buffer_size, bid, io_uring_buf_ring_mask(buffer_count), 0);
    io_uring_buf_ring_advance(buf_ring, 1);
    ++free_buffers;
  }

  // An SQE, flushing the queue to the kernel when it is full; nullptr when
  // even that found no room (the caller retries next turn).
  io_uring_sqe *get_sqe() {
    io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (sqe) return sqe;
    ++figures.submits;
    io_uring_submit(&ring);
    if (sqpoll) io_uring_sqring_wait(&ring);
    return io_uring_get_sqe(&ring);
  }

  bool has_sqes(unsigned n) {
    if (io_uring_sq_space_left(&ring) >= n) return true;
    ++figures.submits;
    io_uring_submit(&ring);
    if (sqpoll) io_uring_sqring_wait(&ring);
    return io_uring_sq_space_left(&ring) >= n;
  }

  // Prepares an operation whose completion we track.
  io_uring_sqe *start_op(const void *object, Tag tag) {
    io_uring_sqe *sqe = get_sqe();
    if (!sqe) return nullptr;
    io_uring_sqe_set_data64(sqe, user_data(object, tag));
    ++inflight;
    return sqe;
  }

  void cancel_op(const void *object, Tag tag) {
    io_uring_sqe *sqe = get_sqe();
    if (!sqe) return;  // only reached with has_sqes() checked, or best effort
    io_uring_prep_cancel64(sqe, user_data(object, tag), IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, kIgnore);
  }

  void push_work(Conn *c) {
    if (!c->work.linked()) work.push_back(&c->work);
  }

  // ---- connections ----

  Conn *acquire_conn(int fd) {
    Conn *c = free_conns;
    if (c)
      free_conns = c->next_free;
    else
      c = &conns.emplace_back();
    c->fd = fd;
    c->ctx = nullptr;
    return c;
  }

  // ---- send blocks ----

  // A cached block's first word links the free list (the block is not in use).
  static SendState *&next_free_send(SendState *p) { return *reinterpret_cast<SendState **>(p); }

  // A block for `iovs` iovecs, or nullptr when memory is short.
  SendState *get_send(uint32_t iovs) {
    uint32_t cap = std::max(iovs, kCachedIovs);
    void *mem;
    if (cap == kCachedIovs && free_sends) {
      mem = free_sends;
      free_sends = next_free_send(free_sends);
      --free_send_count;
    } else {
      mem = ::operator new(sizeof(SendState) + cap * sizeof(struct iovec), std::nothrow);
      if (!mem) return nullptr;
    }
    auto *s = new (mem) SendState;
    s->iov_capacity = cap;
    return s;
  }

  // Gives the connection's send block back (kept for reuse if small, up to a
  // bound), its pipe to the idle pipes.
  void put_send(Conn *c) {
    SendState *p = c->send;
    if (!p) return;
    c->send = nullptr;
    release_pipe(p);
    release_copy_buf(p);
    if (p->iov_capacity == kCachedIovs && free_send_count < kMaxCachedSends) {
      next_free_send(p) = free_sends;
      free_sends = p;
      ++free_send_count;
    } else {
      ::operator delete(p);
    }
  }

  void release_pipe(SendState *p) {
    if (!p->pipe) return;
    // A pipe still holding bytes (an interrupted send) cannot be reused.
    if (p->in_pipe == 0 && idle_pipes.size() < kIdlePipesKept) {
      try {
        idle_pipes.push_back(p->pipe);
        p->pipe = Pipe{};
        return;
      } catch (const std::bad_alloc &) {
      }
    }
    p->pipe.close_both();
  }

  // A buffer for the copy path, or nullptr (at the bound, or memory is short).
  char *acquire_copy_buf() {
    if (!free_copy_bufs.empty()) {
      char *b = free_copy_bufs.back();
      free_copy_bufs.pop_back();
      return b;
    }
    if (copy_bufs >= kMaxCopyBuffers || free_copy_bufs.capacity() < kMaxCopyBuffers) return nullptr;
    char *b = new (std::nothrow) char[inst->copy_max];
    if (b) ++copy_bufs;
    return b;
  }

  void release_copy_buf(SendState *p) {
    if (!p->buf) return;
    free_copy_bufs.push_back(p->buf);  // capacity reserved in loop_create: no allocation
    p->buf = nullptr;
  }

  void release_conn(Conn *c) {
    c->work.unlink();
    c->starving.unlink();
    // Still holding a pipe means a file send was cut short: its content is unknown.
    if (c->send) c->send->pipe.close_both();
    put_send(c);
    drop_stash(c);
    delete c->stash;
    c->stash = nullptr;
    c->fd = -1;
    c->ops = 0;
    c->closing = c->close_submitted = c->paused = c->recv_cancel_sent = 0;
    c->recv_done = c->eof_pending = c->starved = c->throttled = 0;
    c->wr_shut = c->shut_submitted = 0;
    c->connecting = c->connect_failed = 0;
    c->eof_err = 0;
    c->next_free = free_conns;
    free_conns = c;
  }

  // Forgets the stash and gives its held buffers back to the ring. The copied
  // bytes' memory is freed later (release_conn, or once delivered): close()
  // may run inside on_data while the host reads from it. The buffer being
  // delivered then is not in the chain (drain_stash returns it after on_data).
  void drop_stash(Conn *c) {
    Stash *st = c->stash;
    if (!st) return;
    stash_total -= st->bytes.size() - st->off;
    st->bytes.clear();
    st->off = 0;
    for (; st->held > 0; --st->held) {
      uint16_t bid = st->held_head;
      st->held_head = held_next[bid];
      return_buffer(bid);
    }
  }

  void close(Conn *c) {
    if (c->closing) return;
    c->closing = true;
    c->starving.unlink();
    drop_stash(c);
    // The pending send is cancelled, never completed: the host's memory is
    // free again once on_closed arrives.
    if (c->send) c->send->kind = SendKind::kNone;
    push_work(c);
  }

  // ---- receiving ----

  void deliver_eof(Conn *c, int err) {
    c->recv_done = true;
    if (c->paused || c->has_stash()) {
      c->eof_pending = true;
      c->eof_err = static_cast<uint32_t>(std::clamp(err, 0, 255));
      return;
    }
    ev.on_eof(ev.host_ctx, c->ctx, err);
  }

  // Keeps a completion that must wait (paused, or behind waiting bytes) for
  // delivery after recv_resume, never before (io.h: no on_data while paused).
  // Copied into the stash while it is within pause_copy_max and the loop within
  // kLoopStashMax, and its buffer recycled at once (so pipelining peers that
  // pause with a little in flight do not starve the ring); past that, or when
  // copying finds no memory, the ring buffer itself is held: the kernel cannot
  // refill it, so the ring bounds what a paused connection takes.
  void stash_bytes(Conn *c, uint16_t bid, uint32_t len) {
    if (!c->stash) c->stash = new (std::nothrow) Stash;
    Stash *st = c->stash;
    if (!st) {  // not even the small bookkeeping block: fail the connection, not the loop
      return_buffer(bid);
      fail_recv(c, ENOMEM);
      return;
    }
    size_t copied = st->bytes.size() - st->off;
    if (st->held == 0 && copied + len <= inst->pause_copy_max && stash_total + len <= kLoopStashMax) {
      try {
        st->bytes.erase(st->bytes.begin(), st->bytes.begin() + static_cast<ptrdiff_t>(st->off));
        st->off = 0;
        st->bytes.insert(st->bytes.end(), buffer(bid), buffer(bid) + len);
        stash_total += len;
        figures.stashed += len;
        return_buffer(bid);
        return;
      } catch (const std::bad_alloc &) {
      }
    }
    held_len[bid] = len;
    if (st->held++ == 0)
      st->held_head = bid;
    else
      held_next[st->held_tail] = bid;
    st->held_tail = bid;
  }

  // The connection's data cannot be kept: it ends with an error after what
  // was kept, and its recv is not armed again (cancelled if it still is).
  void fail_recv(Conn *c, int err) {
    deliver_eof(c, err);
    push_work(c);
  }

  // Delivers the stash (copied bytes in chunks of one buffer, then the held
  // buffers one by one), then a pending EOF. Dispatch only. A pause from
  // inside on_data takes effect at the next chunk.
  void drain_stash(Conn *c) {
    while (c->has_stash() && !c->paused && !c->closing) {
      Stash *st = c->stash;
      if (!st->copied_empty()) {
        size_t n = std::min<size_t>(st->bytes.size() - st->off, buffer_size);
        const char *p = st->bytes.data() + st->off;
        st->off += n;
        stash_total -= n;
        ev.on_data(ev.host_ctx, c->ctx, p, n);
      } else {
        uint16_t bid = st->held_head;
        st->held_head = held_next[bid];
        --st->held;
        ev.on_data(ev.host_ctx, c->ctx, buffer(bid), held_len[bid]);
        return_buffer(bid);  // after the call: the host reads it until then
      }
    }
    if (!c->has_stash() && !c->closing) {
      delete c->stash;  // delivered: hold no memory
      c->stash = nullptr;
    }
    if (!c->has_stash() && c->eof_pending && !c->paused && !c->closing) {
      c->eof_pending = false;
      ev.on_eof(ev.host_ctx, c->ctx, static_cast<int>(c->eof_err));
    }
  }

  void on_recv(Conn *c, int res, uint32_t flags) {
    bool more = flags & IORING_CQE_F_MORE;
    bool has_buffer = flags & IORING_CQE_F_BUFFER;
    auto bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    if (has_buffer) --free_buffers;
    if (!more) {
      c->ops &= ~bit(kRecv);
      c->recv_cancel_sent = false;
    }
    if (c->closing || c->recv_done) {
      if (has_buffer) return_buffer(bid);
    } else if (res > 0 && has_buffer) {
      if (c->paused || c->has_stash()) {
        stash_bytes(c, bid, static_cast<uint32_t>(res));
      } else {
        ev.on_data(ev.host_ctx, c->ctx, buffer(bid), static_cast<size_t>(res));
        return_buffer(bid);
      }
    } else {
      if (has_buffer) return_buffer(bid);
      if (res == 0) {
        deliver_eof(c, 0);
      } else if (res == -ENOBUFS) {
        ++figures.enobufs;
        // The ring ran dry; the bytes wait in the socket until buffers come back.
        if (!more && !c->starving.linked()) {
          c->starved = true;
          starved.push_back(&c->starving);
        }
      } else if (res != -ECANCELED && res != -EINTR && res != -EAGAIN) {
        deliver_eof(c, -res);
      }
    }
    if (!more) push_work(c);  // re-arm, or finish a close
  }

  bool arm_recv(Conn *c) {
    io_uring_sqe *sqe = start_op(c, kRecv);
    if (!sqe) return false;
    // A connection the host had to pause once gets one buffer per recv from
    // then on: while paused it then has at most one completion in flight,
    // so its stash grows by one buffer at most instead of by a whole burst.
    if (c->throttled) io_uring_prep_recv(sqe, c->fd, nullptr, 0, 0);
    else io_uring_prep_recv_multishot(sqe, c->fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    c->ops |= bit(kRecv);
    return true;
  }

  bool reconcile_recv(Conn *c) {
    bool armed = c->ops & bit(kRecv);
    if (c->paused || c->recv_done) {
      // Cancel rather than hold the stream open: a paused peer would otherwise
      // keep taking buffers from the shared ring. (After a real EOF or error
      // the recv has ended by itself; after fail_recv it may still be armed.)
      if (armed && !c->recv_cancel_sent) {
        if (!has_sqes(1)) return false;
        cancel_op(c, kRecv);
        c->recv_cancel_sent = true;
      }
      return true;
    }
    if (armed || c->has_stash() || c->starved) return true;
    return arm_recv(c);
  }

  // ---- sending ----

  void complete_send(Conn *c, int err) {  // dispatch only
    put_send(c);
    if (c->wr_shut) push_work(c);  // the half-close waited for this send
    ev.on_sent(ev.host_ctx, c->ctx, err);
  }

  bool acquire_pipe(SendState *s) {
    if (s->pipe) return true;
    if (!idle_pipes.empty()) {
      s->pipe = idle_pipes.back();
      idle_pipes.pop_back();
      return true;
    }
    int fds[2];
    // Blocking on purpose: io_uring would hand EAGAIN on an O_NONBLOCK pipe
    // back to us instead of waiting in its worker.
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    s->pipe.read_fd = fds[0];
    s->pipe.write_fd = fds[1];
    ::fcntl(fds[1], F_SETPIPE_SZ, kPipeSize);  // best effort; the default is 64 KiB
    int size = ::fcntl(fds[1], F_GETPIPE_SZ);
    s->pipe.capacity = size > 0 ? static_cast<uint32_t>(size) : 65536;
    return true;
  }

  // Issues the next step of the pending send, or completes it. False: no SQE, retry next turn.
  bool advance_send(Conn *c) {
    if (!c->sending() || (c->ops & kSendOps)) return true;
    SendState *s = c->send;
    if (s->wait_writable) {
      io_uring_sqe *sqe = start_op(c, kPollOut);
      if (!sqe) return false;
      io_uring_prep_poll_add(sqe, c->fd, POLLOUT);
      c->ops |= bit(kPollOut);
      return true;
    }
    if (s->kind == SendKind::kIov) {
      if (s->iov_next == s->iov_count) {
        complete_send(c, 0);
        return true;
      }
      io_uring_sqe *sqe = start_op(c, kSend);
      if (!sqe) return false;
      s->msg = msghdr{};
      s->msg.msg_iov = &s->iov[s->iov_next];
      s->msg.msg_iovlen = std::min<size_t>(s->iov_count - s->iov_next, IOV_MAX);
      io_uring_prep_sendmsg(sqe, c->fd, &s->msg, MSG_NOSIGNAL | MSG_WAITALL);
      c->ops |= bit(kSend);
      return true;
    }
    if (!inst->file_async) return advance_sendfile(c, s);
    // The async path is chosen at the first step: a small range is copied
    // when a buffer is free, else (and for every larger range) spliced.
    if (s->buf || (!s->pipe && s->file_left > 0 && s->file_left <= inst->copy_max && (s->buf = acquire_copy_buf())))
      return advance_copy(c, s);
    if (s->in_pipe > 0) {
      io_uring_sqe *sqe = start_op(c, kFileOut);
      if (!sqe) return false;
      io_uring_prep_splice(sqe, s->pipe.read_fd, -1, c->fd, -1, s->in_pipe, SPLICE_F_MOVE);
      c->ops |= bit(kFileOut);
      return true;
    }
    if (s->file_left == 0) {
      complete_send(c, 0);
      return true;
    }
    if (!acquire_pipe(s)) {
      complete_send(c, errno);
      return true;
    }
    io_uring_sqe *sqe = start_op(c, kFileIn);
    if (!sqe) return false;
    auto chunk = static_cast<unsigned>(std::min<uint64_t>(s->file_left, s->pipe.capacity));
    io_uring_prep_splice(sqe, s->file_fd, static_cast<int64_t>(s->file_offset), s->pipe.write_fd, -1, chunk,
                         SPLICE_F_MOVE);
    c->ops |= bit(kFileIn);
    return true;
  }

  // Default path: sendfile(2) on the non-blocking socket, as io-epoll does:
  // one system call and no pipe, no io_uring worker (IORING_OP_SPLICE always
  // runs in one). Stops at EAGAIN and polls for room through the ring. Like
  // io-epoll, a file read that misses the page cache blocks the loop.
  bool advance_sendfile(Conn *c, SendState *s) {
    for (int round = 0; round < kSendfileRounds; ++round) {
      if (s->file_left == 0) {
        complete_send(c, 0);
        return true;
      }
      auto off = static_cast<off_t>(s->file_offset);
      ssize_t n = ::sendfile(c->fd, s->file_fd, &off, std::min(s->file_left, kMaxSendfileChunk));
      if (n > 0) {
        s->file_offset += static_cast<uint64_t>(n);
        s->file_left -= static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) {  // the file ended before the range did (truncated under us)
        complete_send(c, EIO);
        return true;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        s->wait_writable = true;
        return advance_send(c);  // arms the POLLOUT op
      }
      complete_send(c, errno);
      return true;
    }
    push_work(c);  // more next turn: the other connections get theirs first
    return true;
  }

  // Copy path: read the range into the send's buffer and send it, as one
  // linked pair (one submit, no pipe). A short read breaks the link (the
  // send completes with ECANCELED) and the bytes read go out in a plain
  // send; a short send is continued the same way.
  bool advance_copy(Conn *c, SendState *s) {
    if (s->in_buf > 0) {
      io_uring_sqe *sqe = start_op(c, kFileOut);
      if (!sqe) return false;
      io_uring_prep_send(sqe, c->fd, s->buf + s->buf_off, static_cast<size_t>(s->in_buf),
                         MSG_NOSIGNAL | MSG_WAITALL);
      c->ops |= bit(kFileOut);
      return true;
    }
    if (s->file_left == 0) {
      complete_send(c, 0);
      return true;
    }
    if (!has_sqes(2)) return false;  // both in this submit, so the link is never cut by a flush
    auto chunk = static_cast<unsigned>(std::min<uint64_t>(s->file_left, inst->copy_max));
    s->buf_off = 0;
    io_uring_sqe *sqe = start_op(c, kFileIn);
    io_uring_prep_read(sqe, s->file_fd, s->buf, chunk, s->file_offset);
    sqe->flags |= IOSQE_IO_LINK;
    sqe = start_op(c, kFileOut);
    io_uring_prep_send(sqe, c->fd, s->buf, chunk, MSG_NOSIGNAL | MSG_WAITALL);
    c->ops |= bit(kFileIn) | bit(kFileOut);
    return true;
  }

  // A copy-path completion. The send is acted on only once both halves of a
  // linked pair are in, so the host never sees on_sent while an op of this
  // send is outstanding (it could not send again).
  void on_copy_step(Conn *c, SendState *s, Tag tag, int res) {
    if (tag == kFileIn) {
      if (res > 0) {
        s->in_buf += res;
        s->file_offset += static_cast<uint64_t>(res);
        s->file_left -= static_cast<uint64_t>(res);
      } else if (res == 0) {
        s->err = EIO;  // the file ended before the range did (truncated under us)
      } else if (res != -EINTR && res != -EAGAIN) {
        s->err = -res;
      }
    } else if (res > 0) {
      s->in_buf -= res;
      s->buf_off += static_cast<uint32_t>(res);
    } else if (res == -EAGAIN) {
      s->wait_writable = true;  // full socket buffer: poll for room, then send the rest
    } else if (res == 0) {
      s->err = EPIPE;
    } else if (res != -ECANCELED && res != -EINTR) {  // ECANCELED: its read was short, the rest goes next
      s->err = -res;
    }
    if (c->ops & kSendOps) return;
    if (s->err) return complete_send(c, s->err);
    push_work(c);
  }

  static bool consume_iov(SendState *s, size_t written) {
    while (written > 0 && s->iov_next < s->iov_count) {
      struct iovec &v = s->iov[s->iov_next];
      if (written >= v.iov_len) {
        written -= v.iov_len;
        ++s->iov_next;
      } else {
        v.iov_base = static_cast<char *>(v.iov_base) + written;
        v.iov_len -= written;
        written = 0;
      }
    }
    return s->iov_next == s->iov_count;
  }

  void on_send_step(Conn *c, Tag tag, int res) {
    c->ops &= ~bit(tag);
    if (c->closing || !c->sending()) return push_work(c);
    SendState *s = c->send;
    if (s->buf && (tag == kFileIn || tag == kFileOut)) return on_copy_step(c, s, tag, res);
    if (res == -EINTR || (res == -EAGAIN && tag == kFileIn)) return push_work(c);  // retry as is
    // A non-blocking socket with a full send buffer: poll for room, then retry.
    if (res == -EAGAIN && (tag == kSend || tag == kFileOut)) {
      s->wait_writable = true;
      return push_work(c);
    }
    switch (tag) {
      case kSend:
        if (res < 0) return complete_send(c, -res);
        if (res == 0) return complete_send(c, EIO);  // no progress on a non-empty send
        if (consume_iov(s, static_cast<size_t>(res))) return complete_send(c, 0);
        break;  // short send: the rest goes out next turn
      case kFileIn:
        if (res < 0) return complete_send(c, -res);
        // The file ended before the range did (truncated under us): fail rather than hang.
        if (res == 0) return complete_send(c, EIO);
        s->in_pipe = static_cast<uint32_t>(res);
        s->file_offset += static_cast<uint64_t>(res);
        s->file_left -= static_cast<uint64_t>(res);
        break;
      case kFileOut:
        if (res < 0) return complete_send(c, -res);
        if (res == 0) return complete_send(c, EPIPE);
        s->in_pipe -= static_cast<uint32_t>(res);
        break;
      case kPollOut:
        s->wait_writable = false;
        if (res < 0) return complete_send(c, -res);
        break;
      default:
        break;
    }
    push_work(c);
  }

  // The half-close goes out once no send step is pending, so the FIN follows
  // every byte submitted before shutdown_write(). False: no SQE, retry next turn.
  bool reconcile_shutdown(Conn *c) {
    if (!c->wr_shut || c->shut_submitted || c->sending() || (c->ops & kSendOps)) return true;
    io_uring_sqe *sqe = start_op(c, kShutdown);
    if (!sqe) return false;
    io_uring_prep_shutdown(sqe, c->fd, SHUT_WR);
    c->ops |= bit(kShutdown);
    c->shut_submitted = true;
    return true;
  }

  // ---- closing ----

  // Cancels what is outstanding, closes the fd after it (ordered in the
  // submission queue), and delivers on_closed once nothing is left. False: no SQE yet.
  bool progress_close(Conn *c) {
    if (!c->close_submitted) {
      if (c->ops == 0) {
        ::close(c->fd);  // nothing in flight references the fd
      } else {
        unsigned needed = static_cast<unsigned>(__builtin_popcount(c->ops)) + 1;
        if (!has_sqes(needed)) return false;
        for (uint32_t t = kRecv; t <= kConnect; ++t)
          if (c->ops & kCancelOnClose & bit(static_cast<Tag>(t))) cancel_op(c, static_cast<Tag>(t));
        // Queued after the cancels, so the number is not reused while an SQE
        // that names it is still waiting to be issued.
        io_uring_sqe *sqe = start_op(c, kCloseOp);
        io_uring_prep_close(sqe, c->fd);
        c->ops |= bit(kCloseOp);
      }
      c->fd = -1;
      c->close_submitted = true;
    }
    if (c->ops != 0) return true;
    void *ctx = c->ctx;
    release_conn(c);
    if (ctx) ev.on_closed(ev.host_ctx, ctx);  // no ctx: refused in on_accept
    return true;
  }

  // ---- the work list ----

  // Reports the end of connect(): err = 0 connected (the recv is armed by
  // the work list), else the connection is dead until the host closes it.
  void finish_connect(Conn *c, int err) {
    c->connecting = c->connect_failed = 0;
    c->eof_err = 0;
    if (err != 0) c->recv_done = true;
    push_work(c);
    ev.on_connected(ev.host_ctx, c->ctx, err);
  }

  void on_connect_cqe(Conn *c, int res) {
    c->ops &= ~bit(kConnect);
    if (c->closing) return push_work(c);
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0 && res < 0 && res != -ECANCELED) err = -res;
    if (err == 0 && res >= 0 && (res & (POLLERR | POLLHUP)) && !(res & POLLOUT)) err = ECONNRESET;
    finish_connect(c, err);
  }

  bool process(Conn *c) {
    if (c->closing) return progress_close(c);
    if (c->connecting) {
      if (c->connect_failed) {
        finish_connect(c, static_cast<int>(c->eof_err));
        return true;
      }
      if (c->ops & bit(kConnect)) return true;
      io_uring_sqe *sqe = start_op(c, kConnect);
      if (!sqe) return false;
      io_uring_prep_poll_add(sqe, c->fd, POLLOUT);
      c->ops |= bit(kConnect);
      return true;
    }
    if (!c->paused && (c->has_stash() || c->eof_pending)) {
      drain_stash(c);
      if (c->closing) return true;  // close() queued it again
    }
    if (!advance_send(c)) return false;
    if (c->closing) return true;
    if (!reconcile_shutdown(c)) return false;
    return reconcile_recv(c);
  }

  void process_work() {
    Link deferred;
    for (int round = 0; round < kWorkRoundsPerTurn; ++round) {
      // Buffers came back: connections stopped by ENOBUFS may receive again.
      while (free_buffers > 0 && starved.linked()) {
        Conn *c = Conn::of_starving(starved.next);
        c->starving.unlink();
        c->starved = false;
        push_work(c);
      }
      if (!work.linked()) break;
      Link batch;
      batch.take_all(work);
      while (batch.linked()) {
        Conn *c = Conn::of_work(batch.next);
        c->work.unlink();
        if (!process(c) && !c->work.linked()) deferred.push_back(&c->work);
      }
    }
    while (deferred.linked()) {
      Conn *c = Conn::of_work(deferred.next);
      c->work.unlink();
      push_work(c);
    }
  }

  // ---- accept, wake, tick ----

  void accept_conn(int fd, uint32_t listener_id) {
    Conn *c;
    try {
      c = acquire_conn(fd);
    } catch (const std::bad_alloc &) {
      ::close(fd);
      inst->log(AXLE_LOG_ERROR, "accept: out of memory, connection dropped");
      return;
    }
    // The kernel accepts on our behalf, so a connection can arrive after stop();
    // once the host has taken it, run() must go on until the host stops again.
    bool arrived_after_stop = stop_requested;
    void *ctx = ev.on_accept(ev.host_ctx, c, fd, listener_id);
    c->ctx = ctx;
    if (ctx && arrived_after_stop) stop_requested = false;
    if (!ctx) close(c);  // refused; close() also covers a send made inside on_accept
    else if (!c->closing)
      push_work(c);  // arms the multishot recv
  }

  void back_off(int e) {
    inst->log(AXLE_LOG_WARN, errno_message("accept failed", e) + "; accepting paused for 100 ms");
    backing_off = true;
  }

  void on_accept_cqe(Listener *l, int res, uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) l->armed = false;
    // A connection accepted after listen_remove is still delivered: dropping it
    // would lose a client the kernel already completed.
    if (res >= 0) {
      accept_conn(res, l->id);
    } else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
      back_off(-res);
    } else if (res != -ECANCELED && res != -EINTR && res != -EAGAIN && res != -ECONNABORTED && res != -EPROTO &&
               res != -EPERM) {
      if (!l->removed) back_off(-res);
    }
  }

  void reconcile_loop() {
    if (!wake_armed) {
      if (io_uring_sqe *sqe = start_op(this, kWake)) {
        io_uring_prep_read(sqe, wakefd, &wake_value, sizeof wake_value, 0);
        wake_armed = true;
      }
    }
    if (tick_ms > 0 && !tick_armed) {
      if (io_uring_sqe *sqe = start_op(this, kTick)) {
        io_uring_prep_timeout(sqe, &tick_ts, 0, tick_multishot ? IORING_TIMEOUT_MULTISHOT : 0);
        tick_armed = true;
      }
    }
    reconcile_timer();
    if (backing_off && !backoff_armed) {
      if (io_uring_sqe *sqe = start_op(this, kBackoff)) {
        io_uring_prep_timeout(sqe, &backoff_ts, 0, 0);
        backoff_armed = true;
      }
    }
    std::erase_if(listeners, [](auto &l) { return l->removed && !l->armed; });
    for (auto &l : listeners) {
      if (l->removed) {
        if (l->armed && !l->cancel_sent && has_sqes(1)) {
          cancel_op(l.get(), kAccept);
          l->cancel_sent = true;
        }
      } else if (!l->armed && !backing_off) {
        // Single-shot on purpose: a multishot accept keeps its place at the
        // head of the listening socket's exclusive wait queue, so the first loop
        // would take every connection. Re-armed each turn, it rejoins at the
        // tail and the kernel's wake-one rotates among the loops (README).
        if (io_uring_sqe *sqe = start_op(l.get(), kAccept)) {
          io_uring_prep_accept(sqe, l->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          l->armed = true;
        }
      }
    }
  }

  void reconcile_timer() {
    if (timer_armed) {
      if (timer_want_ns != 0 && timer_want_ns < timer_op_ns && !timer_remove_sent && has_sqes(1)) {
        io_uring_sqe *sqe = get_sqe();
        io_uring_prep_timeout_remove(sqe, user_data(this, kTimer), 0);
        io_uring_sqe_set_data64(sqe, kIgnore);
        timer_remove_sent = true;
      }
      return;
    }
    if (timer_want_ns == 0) return;
    io_uring_sqe *sqe = start_op(this, kTimer);
    if (!sqe) return;
    timer_ts.tv_sec = static_cast<long long>(timer_want_ns / 1000000000u);
    timer_ts.tv_nsec = static_cast<long long>(timer_want_ns % 1000000000u);
    io_uring_prep_timeout(sqe, &timer_ts, 0, IORING_TIMEOUT_ABS);  // CLOCK_MONOTONIC, like monotonic_ns()
    timer_armed = true;
    timer_op_ns = timer_want_ns;
  }

  void on_timer_cqe() {
    timer_armed = false;
    timer_remove_sent = false;
    if (timer_want_ns == 0 || monotonic_ns() < timer_want_ns) return;  // replaced by a later arm
    timer_want_ns = 0;  // before the call: on_timer may arm again
    ev.on_timer(ev.host_ctx);
  }

  // A removed listener whose accept has not reported its last completion: a
  // connection the kernel accepted meanwhile must reach the host, so run()
  // turns until it is settled.
  bool accept_cancel_in_flight() const {
    return std::any_of(listeners.begin(), listeners.end(), [](auto &l) { return l->removed && l->armed; });
  }

  // ---- completions ----

  void handle(uint64_t ud, int res, uint32_t flags) {
    auto tag = static_cast<Tag>(ud & kTagMask);
    void *object = reinterpret_cast<void *>(ud & ~kTagMask);
    if (tag == kIgnore) return;
    if (!(flags & IORING_CQE_F_MORE)) --inflight;
    switch (tag) {
      case kRecv:
        return on_recv(static_cast<Conn *>(object), res, flags);
      case kSend:
      case kFileIn:
      case kFileOut:
      case kPollOut:
        return on_send_step(static_cast<Conn *>(object), tag, res);
      case kConnect:
        return on_connect_cqe(static_cast<Conn *>(object), res);
      case kTimer:
        return on_timer_cqe();
      case kCloseOp:
      case kShutdown: {  // a failed half-close needs no action: the host closes anyway
        auto *c = static_cast<Conn *>(object);
        c->ops &= ~bit(tag);
        return push_work(c);
      }
      case kAccept:
        return on_accept_cqe(static_cast<Listener *>(object), res, flags);
      case kWake:
        wake_armed = false;
        if (res == sizeof wake_value && ev.on_wake) ev.on_wake(ev.host_ctx);
        return;
      case kTick:
        if (!(flags & IORING_CQE_F_MORE)) tick_armed = false;
        if (res == -EINVAL && tick_multishot) {
          tick_multishot = false;  // kernel before 6.4: re-arm a one-shot timeout each tick
          return;
        }
        if (res == -ETIME) publish_figures();
        if (res == -ETIME && ev.on_tick) ev.on_tick(ev.host_ctx);
        return;
      case kBackoff:
        backoff_armed = false;
        backing_off = false;
        return;
      case kIgnore:
        return;
    }
  }

  // Copies a batch out of the ring first, so handlers may queue SQEs (and even
  // flush them) without racing the CQ iteration.
  unsigned reap() {
    io_uring_cqe *cqes[kCqeBatch];
    struct Done {
      uint64_t ud;
      int res;
      uint32_t flags;
    } done[kCqeBatch];
    unsigned total = 0;
    pause_seen = false;
    while (total < kMaxCqesPerTurn) {
      unsigned n = io_uring_peek_batch_cqe(&ring, cqes, kCqeBatch);
      if (n == 0) break;
      for (unsigned i = 0; i < n; ++i) done[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
      io_uring_cq_advance(&ring, n);
      for (unsigned i = 0; i < n; ++i) handle(done[i].ud, done[i].res, done[i].flags);
      total += n;
      // The next peek may enter the kernel to run task work, where a paused
      // connection's multishot recv would go on filling buffers: send its
      // cancel first (the work list, then submit, which runs before task work).
      if (pause_seen) break;
    }
    figures.cqes += total;
    return total;
  }

  void publish_figures() {
    figures.publish(inst->metrics, {ring.sq.sqe_head, ring.sq.ring_entries, io_uring_sq_ready(&ring), buffer_count,
                                    buffer_count - free_buffers, static_cast<int64_t>(inflight)});
  }

  axle_status_t run(axle_error_t *err) {
    for (;;) {
      process_work();
      reconcile_loop();
      if (stop_requested && !accept_cancel_in_flight()) {
        ++figures.submits;
        io_uring_submit(&ring);
        return AXLE_OK;
      }
      unsigned wait_nr = (work.linked() || io_uring_cq_ready(&ring) > 0) ? 0 : 1;
      ++figures.submits;
      int rc = io_uring_submit_and_wait(&ring, wait_nr);
      if (rc == -EEXIST) {  // IORING_SETUP_SINGLE_ISSUER: another thread submitted
        inst->fail(err, "io_uring loop used from a thread other than the one that created it");
        return AXLE_ERR_INVALID;
      }
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
        inst->fail(err, std::string("io_uring_submit_and_wait: ") + std::strerror(-rc));
        return AXLE_ERR_IO;
      }
      reap();
    }
  }

  // Cancels everything and waits (bounded) until the kernel is done with our
  // memory; connections accepted in that window are closed, they cannot be
  // delivered any more.
  void drain_and_exit() {
    if (io_uring_sqe *sqe = io_uring_get_sqe(&ring)) {
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(sqe, kIgnore);
    }
    for (int round = 0; round < 50 && (inflight > 0 || io_uring_sq_ready(&ring) > 0); ++round) {
      __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
      io_uring_cqe *cqe = nullptr;
      io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, nullptr);
      io_uring_cqe *cqes[kCqeBatch];
      unsigned n;
      while ((n = io_uring_peek_batch_cqe(&ring, cqes, kCqeBatch)) > 0) {
        for (unsigned i = 0; i < n; ++i) {
          uint64_t ud = cqes[i]->user_data;
          if ((ud & kTagMask) == kIgnore) continue;
          if (!(cqes[i]->flags & IORING_CQE_F_MORE)) --inflight;
          if ((ud & kTagMask) == kAccept && cqes[i]->res >= 0) ::close(cqes[i]->res);
        }
        io_uring_cq_advance(&ring, n);
      }
    }
    io_uring_queue_exit(&ring);
    ring_ready = false;
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
    if (options) loop->tick_ms = options->tick_ms;
    loop->tick_ts.tv_sec = loop->tick_ms / 1000;
    loop->tick_ts.tv_nsec = static_cast<long long>(loop->tick_ms % 1000) * 1000000LL;
    loop->backoff_ts.tv_nsec = kAcceptBackoffMs * 1000000LL;

    // Blocking on purpose, see acquire_pipe(); wake() never fills the counter.
    loop->wakefd = ::eventfd(0, EFD_CLOEXEC);
    if (loop->wakefd < 0) {
      inst->fail(err, errno_message("eventfd", errno));
      return AXLE_ERR_IO;
    }
    if (!loop->init_ring(err) || !loop->init_buffers(err)) return AXLE_ERR_UNSUPPORTED;
    loop->free_copy_bufs.reserve(kMaxCopyBuffers);
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
      if (l->fd == fd && !l->removed) {
        loop->inst->fail(err, "listen_add: fd " + std::to_string(fd) + " is already added to this loop");
        return AXLE_ERR_INVALID;
      }
    }
    // The accept op is only queued here; check now that it can work.
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0) {
      loop->inst->fail(err, errno_message("listen_add: not a socket", errno));
      return AXLE_ERR_INVALID;
    }
    if (!listening) {
      loop->inst->fail(err, "listen_add: fd " + std::to_string(fd) + " is not a listening socket");
      return AXLE_ERR_INVALID;
    }
    loop->listeners.push_back(std::make_unique<Listener>(fd, listener_id));
    return AXLE_OK;
  } catch (const std::bad_alloc &) {
    loop->inst->fail(err, "listen_add: out of memory");
    return AXLE_ERR_NOMEM;
  }
}

void listen_remove(void *loop_ptr, int fd) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  for (auto it = loop->listeners.begin(); it != loop->listeners.end(); ++it) {
    Listener *l = it->get();
    if (l->fd != fd || l->removed) continue;
    // Freed by the loop once its accept op (if any) has reported its last
    // completion; never here, as we may be inside on_accept for this listener.
    l->removed = true;
    return;
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
  ssize_t rc = ::write(static_cast<Loop *>(loop)->wakefd, &one, sizeof one);  // async-signal-safe
  (void)rc;
}

axle_status_t send(void *loop_ptr, void *io_conn, const axle_iov_t *iov, uint32_t count) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  Conn *c = as_conn(io_conn);
  if (!c || c->closing || c->connecting || c->wr_shut || c->send || (c->ops & kSendOps) || (count > 0 && !iov))
    return AXLE_ERR_INVALID;
  uint32_t used = 0;
  for (uint32_t i = 0; i < count; ++i) used += iov[i].len > 0;
  SendState *s = loop->get_send(used);
  if (!s) return AXLE_ERR_NOMEM;
  for (uint32_t i = 0; i < count; ++i)
    if (iov[i].len > 0) s->iov[s->iov_count++] = {const_cast<void *>(iov[i].base), iov[i].len};
  s->kind = SendKind::kIov;
  c->send = s;
  loop->push_work(c);
  return AXLE_OK;
}

axle_status_t sendfile(void *loop_ptr, void *io_conn, int file_fd, uint64_t offset, uint64_t length) {
  auto *loop = static_cast<Loop *>(loop_ptr);
  Conn *c = as_conn(io_conn);
  if (!c || c->closing || c->connecting || c->wr_shut || c->send || (c->ops & kSendOps) || file_fd < 0 ||
      offset > static_cast<uint64_t>(INT64_MAX) || length > static_cast<uint64_t>(INT64_MAX) - offset)
    return AXLE_ERR_INVALID;
  SendState *s = loop->get_send(0);
  if (!s) return AXLE_ERR_NOMEM;
  s->kind = SendKind::kFile;
  s->file_fd = file_fd;
  s->file_offset = offset;
  s->file_left = length;
  c->send = s;
  loop->push_work(c);
  return AXLE_OK;
}

void recv_pause(void *loop_ptr, void *io_conn) {
  Conn *c = as_conn(io_conn);
  if (!c || c->paused || c->closing) return;
  c->paused = true;
  c->throttled = true;
  auto *loop = static_cast<Loop *>(loop_ptr);
  loop->pause_seen = true;
  loop->push_work(c);  // cancels the recv
}

void recv_resume(void *loop_ptr, void *io_conn) {
  Conn *c = as_conn(io_conn);
  if (!c || !c->paused || c->closing) return;
  c->paused = false;
  static_cast<Loop *>(loop_ptr)->push_work(c);  // the stash first, then re-arm
}

void close_conn(void *loop_ptr, void *io_conn) {
  if (Conn *c = as_conn(io_conn)) static_cast<Loop *>(loop_ptr)->close(c);
}

axle_status_t shutdown_write(void *loop_ptr, void *io_conn) {
  Conn *c = as_conn(io_conn);
  if (!c || c->closing) return AXLE_ERR_INVALID;
  if (c->wr_shut) return AXLE_OK;
  c->wr_shut = true;
  static_cast<Loop *>(loop_ptr)->push_work(c);  // IORING_OP_SHUTDOWN once the pending send is done
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
  loop->timer_want_ns = monotonic_ns() + std::min(delay_ms, kMaxTimerDelayMs) * 1000000u;
}

// connect(2) itself is non-blocking and immediate; only waiting for the
// handshake goes through the ring (a POLLOUT op), so no sockaddr has to stay
// alive for an IORING_OP_CONNECT.
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
  c->connecting = 1;
  if (rc != 0 && connect_errno != EINPROGRESS) {
    // Refused or unreachable at once (possible on loopback): reported like a
    // late failure, by on_connected from run(), never from inside this call.
    c->connect_failed = 1;
    c->eof_err = static_cast<uint32_t>(std::clamp(connect_errno, 1, 255));
  }
  loop->push_work(c);  // arms the POLLOUT op, or delivers the failure
  *io_conn_out = c;
  return AXLE_OK;
}

// ---- lifecycle ----

bool get_int(const axle_host_api_t *host, const axle_config_t *cfg, const char *key, int64_t def, int64_t min,
             int64_t max, bool power_of_two, int64_t *out, axle_error_t *err) {
  int64_t v = def;
  if (cfg && host->config_get_int && host->config_get_int(cfg, key, &v) != AXLE_OK) v = def;
  bool ok = v >= min && v <= max && (!power_of_two || (v & (v - 1)) == 0);
  if (!ok) {
    std::string msg = std::string("io.uring: ") + key + " must be " + (power_of_two ? "a power of two " : "") +
                      "between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + std::to_string(v);
    if (err && host->error_set) host->error_set(err, msg.data(), msg.size());
    return false;
  }
  *out = v;
  return true;
}

// Multishot recv needs Linux 6.0; refuse older kernels up front with a clear message.
bool kernel_supported(std::string *why) {
  utsname u{};
  int major = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.", &major) != 1) return true;  // cannot tell
  if (major >= 6) return true;
  *why = std::string("io_uring module needs Linux 6.0 or later (multishot recv), this is ") + u.release +
         "; use io = \"epoll\"";
  return false;
}

axle_status_t create(const axle_host_api_t *host, const axle_config_t *cfg, void **instance_out, axle_error_t *err) {
  if (!host || !instance_out) return AXLE_ERR_INVALID;
  auto fail = [&](const std::string &msg) {
    if (err && host->error_set) host->error_set(err, msg.data(), msg.size());
  };
  try {
    int64_t entries, buffer_count, buffer_size, copy_max, pause_copy_max;
    if (!get_int(host, cfg, "entries", kDefaultEntries, 8, 32768, false, &entries, err) ||
        !get_int(host, cfg, "buffer_count", kDefaultBufferCount, 1, 32768, true, &buffer_count, err) ||
        !get_int(host, cfg, "buffer_size", kDefaultBufferSize, 512, 1 << 20, false, &buffer_size, err) ||
        !get_int(host, cfg, "file_copy_max", kDefaultCopyMax, 0, kMaxCopyMax, false, &copy_max, err) ||
        !get_int(host, cfg, "pause_copy_max", kDefaultPauseCopyMax, 0, kLoopStashMax, false, &pause_copy_max, err))
      return AXLE_ERR_INVALID;
    int sqpoll = 0, file_async = 0;
    if (cfg && host->config_get_bool && host->config_get_bool(cfg, "sqpoll", &sqpoll) != AXLE_OK) sqpoll = 0;
    if (cfg && host->config_get_bool && host->config_get_bool(cfg, "file_async", &file_async) != AXLE_OK)
      file_async = 0;

    std::string why;
    if (!kernel_supported(&why)) {
      fail(why);
      return AXLE_ERR_UNSUPPORTED;
    }
    // io_uring may be compiled out, disabled by sysctl or blocked by seccomp:
    // find out now rather than on the first worker.
    io_uring probe;
    int rc = io_uring_queue_init(8, &probe, 0);
    if (rc < 0) {
      fail(std::string("io_uring is not available: ") + std::strerror(-rc) + "; use io = \"epoll\"");
      return AXLE_ERR_UNSUPPORTED;
    }
    io_uring_queue_exit(&probe);

    auto *inst = new Instance;
    inst->host = host;
    inst->cfg = cfg;
    std::string refused = inst->metrics.register_all(host, cfg);
    if (!refused.empty()) inst->log(AXLE_LOG_WARN, "metrics not published (refused by the host): " + refused);
    inst->entries = static_cast<unsigned>(entries);
    inst->sqpoll = sqpoll != 0;
    inst->buffer_count = static_cast<unsigned>(buffer_count);
    inst->buffer_size = static_cast<unsigned>(buffer_size);
    inst->copy_max = static_cast<uint32_t>(copy_max);
    inst->pause_copy_max = static_cast<size_t>(pause_copy_max);
    inst->file_async = file_async != 0;
    *instance_out = inst;
    return AXLE_OK;
  } catch (...) {
    fail("io.uring: out of memory");
    return AXLE_ERR_NOMEM;
  }
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

const axle_config_key_t kConfigKeys[] = {
    {.name = "entries",
     .type = AXLE_CONFIG_INT,
     .default_value = "4096",
     .doc = "Submission queue entries per loop (8..32768; completion queue is 4x)"},
    {.name = "sqpoll",
     .type = AXLE_CONFIG_BOOL,
     .default_value = "false",
     .doc = "Kernel thread polls the submission queue (saves syscalls, burns a core per loop)"},
    {.name = "buffer_count",
     .type = AXLE_CONFIG_INT,
     .default_value = "512",
     .doc = "Receive buffers in each loop's provided-buffer ring (power of two, 1..32768)"},
    {.name = "buffer_size",
     .type = AXLE_CONFIG_INT,
     .default_value = "16384",
     .doc = "Bytes per receive buffer (512..1048576)"},
    {.name = "file_async",
     .type = AXLE_CONFIG_BOOL,
     .default_value = "false",
     .doc = "Files are read by io_uring, never by the loop thread (a page-cache miss does not stall the loop): "
            "ranges up to file_copy_max by a linked read+send, larger ones spliced. false: sendfile(2) from the "
            "loop thread, the cheapest when files are cached"},
    {.name = "file_copy_max",
     .type = AXLE_CONFIG_INT,
     .default_value = "32768",
     .doc = "With file_async: ranges up to this many bytes are read into a buffer and sent, larger ones spliced; "
            "0 = always splice (0..1048576; at most 64 buffers per loop)"},
    {.name = "pause_copy_max",
     .type = AXLE_CONFIG_INT,
     .default_value = "1048576",
     .doc = "Bytes a paused connection's recv had already completed that are copied out of the ring per "
            "connection (0..16777216; 16 MiB per loop in all); the rest waits in the ring buffers themselves"},
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
      .name = "uring",
      .version = "1.2.0",
      .description = "Event loop on io_uring: fair accepts, multishot recv, buffer ring, batched submit, sendfile",
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
