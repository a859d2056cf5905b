#include "worker.h"

#include "connection.h"
#include "module_metrics.h"
#include "outgoing.h"
#include "request_observer.h"
#include "route_dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace axle {
namespace {

thread_local Worker *tls_current_worker = nullptr;

constexpr uint32_t kTickMs = 250;  // timeout resolution; the Date cache refreshes per second anyway

// Connections counted as refused (the prebuilt 503, or an immediate close),
// registered once per process in the kernel's metric registry (shown on
// /metrics with module="kernel"); it keeps counting across reloads.
axle_metric_t *refused_metric() {
  static axle_metric_t *metric = [] {
    std::string error;
    return metrics::register_metric("kernel", AXLE_METRIC_COUNTER, "axle_connections_refused_total",
                                    "Connections over max_connections and its reserve: answered 503 and closed, "
                                    "or closed at once",
                                    nullptr, 0, error);
  }();
  return metric;
}

// Per-connection tuning is best effort; the listener reported refusals once.
void set_option(const axle_io_vtable_t *io, void *loop, void *io_conn, axle_conn_option_t option) {
  if (AXLE_STRUCT_HAS(io, axle_io_vtable_t, conn_option) && io->conn_option)
    (void)io->conn_option(loop, io_conn, option, 1);
}

}  // namespace

Worker::Worker(Generation &gen, uint32_t index, std::atomic<uint32_t> &open_connections,
               http::SharedBudget &budget)
    : gen(gen), index(index), budget_(&budget), open_connections_(open_connections) {}

Worker::~Worker() { join(); }

bool Worker::start(const std::vector<Listener> &listeners, std::string &error) {
  std::promise<std::string> ready;
  auto result = ready.get_future();
  try {
    thread_ = std::thread([this, &listeners, &ready] { thread_main(listeners, ready); });
  } catch (const std::system_error &e) {
    // At the thread or memory limit: refused like any other start failure.
    error = "cannot start the thread of worker " + std::to_string(index) + ": " + e.what();
    finished_.store(true, std::memory_order_release);
    return false;
  }
  error = result.get();
  if (!error.empty()) {
    join();
    return false;
  }
  return true;
}

void Worker::drain(uint32_t deadline_ms, bool close_idle) {
  drain_deadline_ms_.store(deadline_ms, std::memory_order_relaxed);
  drain_close_idle_.store(close_idle, std::memory_order_relaxed);
  drain_requested_.store(true, std::memory_order_release);
  wake();
}

void Worker::wake() {
  std::lock_guard lock(loop_mutex_);
  if (loop) gen.io_vt->wake(loop);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

bool Worker::init_modules(std::string &error) {
  std::vector<ModuleInstance *> instances = gen.all_instances();
  thread_ctx_.assign(instances.size(), nullptr);
  for (size_t i = 0; i < instances.size(); ++i) {
    const axle_module_descriptor_t &d = instances[i]->desc();
    if (d.thread_init) {
      axle_error_t err;
      if (d.thread_init(instances[i]->instance, this, &thread_ctx_[i], &err) != AXLE_OK) {
        error = "module '" + std::string(d.name) + "' failed to start worker " + std::to_string(index) + ": " +
                (err.message.empty() ? "no reason given" : err.message);
        return false;
      }
    }
    ++initialized_;
  }
  // Fixed order of all_instances(): io, alloc, parser, router, [metrics], [transport], handlers...
  io_ctx = thread_ctx_[0];
  alloc_ctx = thread_ctx_[1];
  parser_ctx = thread_ctx_[2];
  size_t next = 4;
  if (gen.metrics_vt) metrics_ctx = thread_ctx_[next++];
  if (gen.transport_vt) transport_ctx = thread_ctx_[next++];
  handler_ctx.assign(thread_ctx_.begin() + static_cast<long>(next), thread_ctx_.end());
  return true;
}

void Worker::make_engine_context() {
  dispatcher_ = std::make_unique<RouteDispatcher>(gen, *this, handler_ctx);
  engine_ctx = std::make_unique<http::EngineContext>(
      gen.config.limits, gen.config.timeouts, http::ParserRef{gen.parser_vt, parser_ctx}, memory_, budget_,
      *dispatcher_, date, coarse_now_ms, host_api()->now_ns);
  for (const RouteEntry &r : gen.routes) engine_ctx->stream_routes = engine_ctx->stream_routes || r.stream_body;
  if (gen.metrics_vt || gen.access_log) {
    observer_ = std::make_unique<RequestObserver>(gen, metrics_ctx, date);
    engine_ctx->observer = observer_.get();
    engine_ctx->observer_reads_head = gen.access_log != nullptr;  // metrics need no head
  }
}

void Worker::free_engine_context() {
  engine_ctx.reset();  // releases anything a handler left in the worker's Response
  observer_.reset();
  dispatcher_.reset();
}

void Worker::fini_modules() {
  std::vector<ModuleInstance *> instances = gen.all_instances();
  for (size_t i = initialized_; i-- > 0;) {
    const axle_module_descriptor_t &d = instances[i]->desc();
    if (d.thread_fini) d.thread_fini(instances[i]->instance, thread_ctx_[i]);
  }
  initialized_ = 0;
}

Worker *Worker::current() { return tls_current_worker; }

void Worker::request_pump(Connection *c) {
  if (c->pump_queued) return;
  c->pump_queued = true;
  to_pump_.push_back(c);
}

void Worker::pump_queued_connections() {
  // Pumping may queue more (a module answering from an event it got).
  for (size_t i = 0; i < to_pump_.size(); ++i) {
    Connection *c = to_pump_[i];
    if (!c) continue;  // closed meanwhile
    c->pump_queued = false;
    c->pump();
  }
  to_pump_.clear();
}

void Worker::request_delivery(Outgoing *o) { to_deliver_.push_back(o); }

void Worker::deliver_held() {
  // A delivery may resume another connection (appended, handled in this loop);
  // each entry's held bytes only shrink here, so the loop ends.
  for (size_t i = 0; i < to_deliver_.size(); ++i) to_deliver_[i]->deliver_held();
  to_deliver_.clear();
}

void Worker::thread_main(const std::vector<Listener> &listeners, std::promise<std::string> &ready) {
  tls_current_worker = this;
  std::string error;
  bool ok = false;
  // Nothing may escape this thread (that would be std::terminate): a failure
  // while starting is reported through `ready` like a refusing module.
  try {
    ok = init_modules(error);
    if (ok) {
      make_engine_context();
      events_ = {};
      events_.struct_size = sizeof events_;
      events_.host_ctx = this;
      events_.on_accept = ev_accept;
      events_.on_data = ev_data;
      events_.on_eof = ev_eof;
      events_.on_sent = ev_sent;
      events_.on_closed = ev_closed;
      events_.on_tick = ev_tick;
      events_.on_wake = ev_wake;
      events_.on_timer = ev_timer;
      events_.on_connected = ev_connected;
      upper_events = transport::upper_events(*this);
      axle_io_loop_options_t options{
          sizeof options, kTickMs,
          static_cast<uint32_t>(std::min<uint64_t>(
              uint64_t{gen.config.limits.max_connections} + gen.config.limits.reserve_connections + kRefusingBand,
              UINT32_MAX))};
      axle_error_t err;
      void *new_loop = nullptr;
      if (gen.io_vt->loop_create(gen.io.instance, io_ctx, &events_, &options, &new_loop, &err) != AXLE_OK) {
        error = "io module '" + std::string(gen.io.desc().name) + "' could not create its loop: " + err.message;
        ok = false;
      } else {
        std::lock_guard lock(loop_mutex_);
        loop = new_loop;
        // Tasks posted before the loop existed (e.g. from thread_init) woke nothing.
        gen.io_vt->wake(loop);
      }
    }
    listener_fds_.reserve(listeners.size());
    for (const Listener &l : listeners) {
      if (l.id >= tls_index_.size()) tls_index_.resize(l.id + 1, -1);
      tls_index_[l.id] = l.tls_index;
      // Fail closed: a [tls] listener is never served in cleartext.
      if (l.tls_index >= 0 && !gen.transport_vt && ok) {
        error = "listener " + l.address + " is in [tls] listen but no transport is configured";
        ok = false;
      }
    }
    for (size_t i = 0; ok && i < listeners.size(); ++i) {
      axle_error_t err;
      if (gen.io_vt->listen_add(loop, listeners[i].fd, listeners[i].id, &err) != AXLE_OK) {
        error = "io module could not listen on " + listeners[i].address + ": " + err.message;
        ok = false;
      } else {
        listener_fds_.push_back(listeners[i].fd);
      }
    }
  } catch (const std::exception &e) {
    error = "worker " + std::to_string(index) + " failed to start: " + e.what();
    ok = false;
  }
  if (!ok) {
    for (int fd : listener_fds_) gen.io_vt->listen_remove(loop, fd);
    listener_fds_.clear();
    if (loop) {
      void *dead = loop;
      {
        std::lock_guard lock(loop_mutex_);
        loop = nullptr;
      }
      gen.io_vt->loop_destroy(dead);
    }
    loop_services.stop_posting();
    loop_services.drop_timers();
    free_engine_context();
    fini_modules();
    Outgoing::free_all(outgoing_head);
    finished_.store(true, std::memory_order_release);
    ready.set_value(error);
    return;
  }
  ready.set_value(std::string());  // `ready` and `listeners` are gone after this

  axle_error_t err;
  if (gen.io_vt->run(loop, &err) != AXLE_OK) {
    spdlog::error("worker {}: io loop failed: {}; closing its {} connection(s)", index, err.message,
                  connection_count());
    abandon_connections();
  }
  // Every connection, client and outgoing, is closed now (see
  // maybe_finish_drain) and run() has returned: queued tasks run (their args
  // are not leaked), timers are dropped unfired, and the loop may go. A
  // drain() or worker_post from now on has nothing to wake.
  outgoing_closing = true;
  loop_services.stop_posting();
  loop_services.drop_timers();
  void *dead = loop;
  {
    std::lock_guard lock(loop_mutex_);
    loop = nullptr;
  }
  gen.io_vt->loop_destroy(dead);
  free_engine_context();
  fini_modules();
  Outgoing::free_all(outgoing_head);  // handles the modules never closed
  finished_.store(true, std::memory_order_release);
}

// run() failed: the loop delivers no more events, so no on_closed will come.
// Each connection is closed through the module (which closes its socket) and
// forgotten here at once, so its memory, the process-wide connection count and
// the generation's drain are not held by a loop that will never turn again.
void Worker::abandon_connections() {
  for (Connection *c = connections_head; c;) {
    Connection *next = c->next;
    c->close(AXLE_ABORT_ERROR);
    // A wrapped one is freed by the transport's upper on_closed.
    if (c->secure()) transport::lower_closed(*this, *c);
    else connection_closed(c);
    c = next;
  }
  outgoing_closing = true;
  for (Outgoing *o = outgoing_head; o;) {  // from the head again: an event may free any closed one
    if (!o->io_open()) {
      o = o->next;
      continue;
    }
    o->close_by_host();
    o->forget_io();
    o = outgoing_head;
  }
  for (int fd : listener_fds_) gen.io_vt->listen_remove(loop, fd);
  listener_fds_.clear();
}

// ---- io events ----

// Connections are counted process-wide in bands: below max_connections they
// are served; the next reserve_connections are served the metrics route only;
// the next kRefusingBand get the prebuilt 503 (each lives until that is
// written and its lingering close ends: at most kLingerMs after write_ms);
// beyond, or without memory, a connection is closed at once.
void *Worker::ev_accept(void *host, void *io_conn, int fd, uint32_t listener_id) {
  auto *w = static_cast<Worker *>(host);
  // Even while draining: a connection the io module already accepted is
  // served (its response says Connection: close) rather than dropped.
  // The only cross-worker state: one atomic per accepted connection.
  const Limits &lim = w->gen.config.limits;
  uint32_t open = w->open_connections_.fetch_add(1, std::memory_order_relaxed);
  uint64_t served = uint64_t{lim.max_connections} + lim.reserve_connections;
  bool reserve = open >= lim.max_connections;
  bool refuse = open >= served;
  void *mem = open < served + kRefusingBand ? w->alloc(sizeof(Connection)) : nullptr;
  if (!mem) {
    w->open_connections_.fetch_sub(1, std::memory_order_relaxed);
    w->note_refused();
    return nullptr;
  }
  auto *c = new (mem) Connection(*w, io_conn);
  if (refuse && !c->engine().refuse_connection()) {
    w->unaccept(c);
    w->note_refused();
    return nullptr;
  }
  // Last, so a refusal above leaves no transport connection to undo.
  int32_t tls = listener_id < w->tls_index_.size() ? w->tls_index_[listener_id] : -1;
  if (tls >= 0) {
    std::string why;
    if (!transport::wrap(*w, *c, io_conn, fd, static_cast<uint32_t>(tls), why)) {
      w->unaccept(c);
      w->tls_refusals_.note(w->index, std::move(why), coarse_now_ms());
      return nullptr;
    }
  }
  if (reserve) c->engine().set_reserve();
  const SocketOptions &so = w->gen.config.sockets;
  if (so.tcp_nodelay.value_or(false)) set_option(w->gen.io_vt, w->loop, io_conn, AXLE_CONN_OPT_NODELAY);
  if (so.tcp_quickack.value_or(false)) set_option(w->gen.io_vt, w->loop, io_conn, AXLE_CONN_OPT_QUICKACK);
  c->next = w->connections_head;
  if (c->next) c->next->prev = c;
  w->connections_head = c;
  w->connection_count_.fetch_add(1, std::memory_order_relaxed);
  if (w->gen.metrics_vt) w->gen.metrics_vt->connection_opened(w->metrics_ctx);
  if (refuse) {
    w->note_refused();
    c->pump();  // the 503 goes out now: both io modules take a send made inside on_accept
  }
  return c->secure() ? transport::tag(c) : c;
}

// Undoes ev_accept's Connection before the io module ever saw it.
void Worker::unaccept(Connection *c) {
  c->~Connection();
  free(c, sizeof(Connection));
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::note_refused() {
  metrics::add(refused_metric(), 1);
  refused_log_.add();
  log_refused(coarse_now_ms());
}

// At most one line per second per worker; the count says how many it covers.
void Worker::log_refused(uint64_t now_ms) {
  uint32_t n = refused_log_.take(now_ms);
  if (n == 0) return;
  const Limits &lim = gen.config.limits;
  spdlog::warn("worker {}: {} connection(s) refused (503 or closed): max_connections {} and the reserve of {} are taken",
               index, n, lim.max_connections, lim.reserve_connections);
}

// conn is a Connection*, or a tagged Outgoing* (see Outgoing::tag). Every
// event ends with settle(): a module may have answered a kept response from it.
void Worker::ev_data(void *host, void *conn, const char *data, size_t len) {
  if (Outgoing::is_tagged(conn)) Outgoing::untag(conn)->on_data(data, len);
  else if (transport::is_tagged(conn)) transport::lower_data(*static_cast<Worker *>(host), *transport::untag(conn), data, len);
  else static_cast<Connection *>(conn)->on_data(data, len);
  static_cast<Worker *>(host)->settle();
}

void Worker::ev_eof(void *host, void *conn, int err) {
  if (Outgoing::is_tagged(conn)) Outgoing::untag(conn)->on_eof(err);
  else if (transport::is_tagged(conn)) transport::lower_eof(*static_cast<Worker *>(host), *transport::untag(conn), err);
  else static_cast<Connection *>(conn)->on_eof(err);
  static_cast<Worker *>(host)->settle();
}

void Worker::ev_sent(void *host, void *conn, int err) {
  if (Outgoing::is_tagged(conn)) Outgoing::untag(conn)->on_sent(err);
  else if (transport::is_tagged(conn)) transport::lower_sent(*static_cast<Worker *>(host), *transport::untag(conn), err);
  else static_cast<Connection *>(conn)->on_sent(err);
  static_cast<Worker *>(host)->settle();
}

void Worker::ev_closed(void *host, void *conn) {
  auto *w = static_cast<Worker *>(host);
  if (Outgoing::is_tagged(conn)) {
    Outgoing::untag(conn)->on_closed();
    w->maybe_finish_drain();
  } else if (transport::is_tagged(conn)) {
    transport::lower_closed(*w, *transport::untag(conn));  // its upper on_closed frees the Connection
  } else {
    w->connection_closed(static_cast<Connection *>(conn));
  }
  w->settle();
}

void Worker::ev_connected(void *host, void *conn, int err) {
  if (Outgoing::is_tagged(conn)) Outgoing::untag(conn)->on_connected(err);  // only outgoing ones connect
  static_cast<Worker *>(host)->settle();
}

void Worker::ev_tick(void *host) {
  static_cast<Worker *>(host)->on_tick();
  static_cast<Worker *>(host)->settle();
}

void Worker::ev_wake(void *host) {
  static_cast<Worker *>(host)->on_wake();
  static_cast<Worker *>(host)->settle();
}

void Worker::ev_timer(void *host) {
  static_cast<Worker *>(host)->loop_services.run_timers(true);
  static_cast<Worker *>(host)->settle();
}

void Worker::connection_closed(Connection *c) {
  if (c->pump_queued) {
    for (Connection *&queued : to_pump_)
      if (queued == c) queued = nullptr;
  }
  if (c->prev) c->prev->next = c->next;
  else connections_head = c->next;
  if (c->next) c->next->prev = c->prev;
  c->~Connection();
  free(c, sizeof(Connection));
  connection_count_.fetch_sub(1, std::memory_order_relaxed);
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  if (gen.metrics_vt) gen.metrics_vt->connection_closed(metrics_ctx);
  maybe_finish_drain();
}

void Worker::on_tick() {
  date.refresh();
  loop_services.run_timers(false);
  uint64_t now = coarse_now_ms();
  log_refused(now);
  tls_refusals_.flush(index, now);
  for (Connection *c = connections_head; c;) {
    Connection *next = c->next;  // on_tick may close c (freed only in on_closed)
    c->on_tick(now);
    c = next;
  }
  if (draining && now >= drain_deadline_at_) {
    for (Connection *c = connections_head; c; c = c->next) c->close(AXLE_ABORT_DRAIN);
  }
  maybe_finish_drain();
}

void Worker::on_wake() {
  loop_services.run_posted();
  if (!drain_requested_.load(std::memory_order_acquire) || draining) return;
  draining = true;
  engine_ctx->draining = true;
  drain_deadline_at_ = coarse_now_ms() + drain_deadline_ms_.load(std::memory_order_relaxed);
  for (int fd : listener_fds_) gen.io_vt->listen_remove(loop, fd);
  listener_fds_.clear();
  stopped_accepting_.store(true, std::memory_order_release);
  for (Connection *c = connections_head; c;) {
    Connection *next = c->next;
    c->begin_drain(drain_close_idle_.load(std::memory_order_relaxed));
    c = next;
  }
  maybe_finish_drain();
}

// Client connections decide when a draining worker ends; then the outgoing
// connections modules still hold are closed (the module hears on_eof or
// on_connected with ECONNABORTED) and the loop stops once the io module
// closed them all: a loop is never destroyed with an open connection.
void Worker::maybe_finish_drain() {
  if (!draining || connections_head != nullptr) return;
  outgoing_closing = true;
  // From the head again after each one: the module's event may close (and so
  // free) any handle whose io side is already closed.
  for (Outgoing *o = outgoing_head; o;) {
    if (!o->io_close_pending()) {
      o = o->next;
      continue;
    }
    o->close_by_host();
    o = outgoing_head;
  }
  for (Outgoing *o = outgoing_head; o; o = o->next)
    if (o->io_open()) return;  // its on_closed calls us again
  gen.io_vt->stop(loop);
}

}  // namespace axle
