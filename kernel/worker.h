// One worker: a thread running its own io loop with its own module contexts.
// Nothing on its request path is shared with another worker.
#pragma once

#include "exchange.h"
#include "generation.h"
#include "http/budget.h"
#include "http/engine.h"
#include "http/http_date.h"
#include "log_throttle.h"
#include "loop_services.h"
#include "transport.h"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace axle {

class Connection;
class Outgoing;
class RequestObserver;
class RouteDispatcher;

// A listening socket owned by the Server and shared by every worker of every
// generation, so swapping generations never drops a queued connection.
struct Listener {
  int fd = -1;
  uint32_t id = 0;
  std::string address;  // "127.0.0.1:8080" as bound
  int32_t tls_index = -1;  // its index in [tls] listen: the transport wraps its connections; -1 = cleartext
};

class Worker : public axle_worker_t {
 public:
  // open_connections and budget: process-wide, shared by every worker of every generation.
  Worker(Generation &gen, uint32_t index, std::atomic<uint32_t> &open_connections, http::SharedBudget &budget);
  ~Worker();

  // Starts the thread and waits until its modules and loop are ready.
  bool start(const std::vector<Listener> &listeners, std::string &error);
  // Any thread: stop accepting, finish in-flight requests, and end the
  // thread once every connection is gone (forcibly after deadline_ms).
  // Idle keep-alive connections are closed at once when close_idle (shutdown);
  // otherwise (reload) each is closed after its next response, or at the
  // deadline, so no client is cut off while it may be sending.
  void drain(uint32_t deadline_ms, bool close_idle);
  void join();
  uint32_t connection_count() const { return connection_count_.load(std::memory_order_relaxed); }
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // Any thread: this worker's loop no longer watches the listeners (it
  // drains, or has ended), so they can be shut without it seeing an error.
  bool stopped_accepting() const { return stopped_accepting_.load(std::memory_order_acquire) || finished(); }

  Generation &gen;
  const uint32_t index;
  http::HttpDate date;
  bool draining = false;  // loop thread only
  // What this worker's connection engines share; made on the worker thread
  // once the modules are ready.
  std::unique_ptr<http::EngineContext> engine_ctx;

  // Per-worker module contexts, filled by thread_init on this thread.
  void *io_ctx = nullptr, *alloc_ctx = nullptr, *parser_ctx = nullptr, *metrics_ctx = nullptr;
  void *transport_ctx = nullptr;
  // What the transport raises for this worker's wrapped connections (kernel/transport.h).
  axle_io_events_t upper_events{};
  std::vector<void *> handler_ctx;
  void *loop = nullptr;

  // Memory from the generation's allocator module.
  void *alloc(size_t size) { return gen.alloc_vt->alloc(alloc_ctx, size); }
  void free(void *p, size_t size) { gen.alloc_vt->free(alloc_ctx, p, size); }
  struct ModuleMemory final : http::Memory {
    explicit ModuleMemory(Worker &w) : worker(w) {}
    void *alloc(size_t size) override { return worker.alloc(size); }
    void free(void *p, size_t size) override { worker.free(p, size); }
    Worker &worker;
  };

  // Connection bookkeeping (loop thread).
  void connection_closed(Connection *c);
  Connection *connections_head = nullptr;  // intrusive list of open connections

  // The worker whose thread calls this, or null on other threads.
  static Worker *current();
  http::Memory &memory() { return memory_; }

  // The request a handle() call on this worker is serving, for the host
  // calls that need its connection (response_keep, request context).
  struct Dispatching {
    http::Engine *engine = nullptr;  // null outside handle(); its conn() is the Connection
    uint32_t route_id = 0;
    bool kept = false;  // response_keep succeeded in this call
  };
  Dispatching dispatching;
  ExchangeTable exchanges{index};  // kept responses' handles
  uint64_t next_request_id = 0;  // low 48 bits of axle_request_t.request_id

  // A module changed a connection's engine from outside that connection's
  // own events (a timer, a posted task, another connection's event): it is
  // pumped when the current event ends (settle), never inside the module's
  // call. At most one entry per connection.
  void request_pump(Connection *c);
  // An outgoing connection resumed with bytes held during its pause: they
  // are delivered when the current event ends, never inside outgoing_pause.
  // At most one entry per connection.
  void request_delivery(Outgoing *o);
  void settle() {
    if (!to_deliver_.empty()) deliver_held();
    if (!to_pump_.empty()) pump_queued_connections();
  }

  // Loop services (timers, posted tasks) and the outgoing connections modules
  // opened (loop thread; Outgoing keeps the list). outgoing_closing: the
  // worker is ending, outgoing_connect is refused.
  LoopServices loop_services{*this};
  Outgoing *outgoing_head = nullptr;
  bool outgoing_closing = false;
  // Any thread: schedules on_wake if the loop runs.
  void wake();

 private:
  void pump_queued_connections();
  void deliver_held();
  void thread_main(const std::vector<Listener> &listeners, std::promise<std::string> &ready);
  bool init_modules(std::string &error);
  void fini_modules();
  void make_engine_context();
  void free_engine_context();
  void maybe_finish_drain();
  void abandon_connections();
  void on_tick();
  void on_wake();

  void unaccept(Connection *c);  // ev_accept refuses the Connection it made
  void note_refused();  // a connection over every band was refused: counted and logged
  void log_refused(uint64_t now_ms);
  static void *ev_accept(void *host, void *io_conn, int fd, uint32_t listener_id);
  static void ev_data(void *host, void *conn, const char *data, size_t len);
  static void ev_eof(void *host, void *conn, int err);
  static void ev_sent(void *host, void *conn, int err);
  static void ev_closed(void *host, void *conn);
  static void ev_tick(void *host);
  static void ev_wake(void *host);
  static void ev_timer(void *host);
  static void ev_connected(void *host, void *conn, int err);

  ModuleMemory memory_{*this};
  http::Budget budget_;
  std::unique_ptr<RouteDispatcher> dispatcher_;
  std::unique_ptr<RequestObserver> observer_;
  std::atomic<uint32_t> &open_connections_;  // process-wide, checked at accept only
  std::atomic<uint32_t> connection_count_{0};
  std::atomic<uint32_t> drain_deadline_ms_{0};
  std::atomic<bool> drain_requested_{false};
  std::atomic<bool> drain_close_idle_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> stopped_accepting_{false};
  uint64_t drain_deadline_at_ = 0;
  LogThrottle refused_log_;
  // Past max_connections + reserve_connections this many more connections
  // (process-wide) get the prebuilt 503; beyond them a close.
  static constexpr uint32_t kRefusingBand = 64;
  std::vector<int> listener_fds_;
  std::vector<int32_t> tls_index_;  // by listener id: Listener::tls_index
  transport::Refusals tls_refusals_;
  std::vector<void *> thread_ctx_;  // per instance, in Generation::all_instances() order
  std::vector<Connection *> to_pump_;
  std::vector<Outgoing *> to_deliver_;
  axle_io_events_t events_{};
  size_t initialized_ = 0;  // how many module thread_inits succeeded
  // drain() runs on other threads: it reads `loop` and wakes it under this
  // lock, and the loop thread publishes and retires `loop` under it, so a
  // wake never reaches a destroyed loop.
  std::mutex loop_mutex_;
  std::thread thread_;
};

}  // namespace axle
