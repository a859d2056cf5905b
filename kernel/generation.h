// A generation: one config, the modules it names (loaded and instantiated),
// the router tables built from its routes, and the workers that serve it.
// Immutable once built; a reload builds a new one beside it.
#pragma once

#include "access_log.h"
#include "http/budget.h"
#include "config.h"
#include "host_routes.h"
#include "module_config.h"
#include "module_loader.h"

#include <axle/alloc.h>
#include <axle/handler.h>
#include <axle/io.h>
#include <axle/metrics.h>
#include <axle/parser.h>
#include <axle/router.h>
#include <axle/transport.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace axle {

class Worker;
struct Listener;

// One module instance: the library stays loaded while this lives.
struct ModuleInstance {
  std::shared_ptr<ModuleLibrary> library;
  std::unique_ptr<axle_config_t> config;
  void *instance = nullptr;

  const axle_module_descriptor_t &desc() const { return library->descriptor(); }
  template <class VTable>
  const VTable *vtable() const { return static_cast<const VTable *>(desc().vtable); }
};

struct RouteEntry {
  std::string pattern;  // the path pattern; "(not_found)" or "(method_not_allowed)" for a fallback
  std::string label;    // metrics label and name in errors: "[hosts ]pattern", e.g. "*.a.test /x"
  std::string handler_name;
  const axle_handler_vtable_t *handler = nullptr;  // null: the built-in metrics route
  uint32_t handler_slot = 0;                       // index into Generation::handlers
  void *route_state = nullptr;
  std::unique_ptr<axle_config_t> config;
  bool stream_body = false;  // the handler receives the request body as it arrives
  // The route's extension methods ("methods" names outside AXLE_METHOD_*), and
  // the same joined for a 405's Allow ("PROPFIND, MKCOL"). Empty: a route
  // with AXLE_METHOD_OTHER takes every extension method.
  std::vector<std::string> extension_methods;
  std::string allow_names;
};

class Generation {
 public:
  // Loads and instantiates everything the config names. On any failure,
  // whatever was created is destroyed again and error says what failed.
  static std::unique_ptr<Generation> build(const Config &config, uint64_t id, std::string &error);
  ~Generation();  // workers must have been joined (stop_workers)

  // Starts one Worker per configured worker on the shared listeners. Fails
  // (and stops the ones started) if any worker's thread_init fails.
  bool start_workers(const std::vector<Listener> &listeners, std::atomic<uint32_t> &open_connections,
                     http::SharedBudget &budget, std::string &error);
  // Asks every worker to stop accepting and finish (see Worker::drain);
  // returns at once.
  void drain(uint32_t deadline_ms, bool close_idle);
  // Waits for every worker thread to end.
  void join_workers();
  // Connections currently open on this generation's workers, in all and per worker.
  uint32_t connection_count() const;
  std::vector<uint32_t> worker_connection_counts() const;
  // Every worker thread has ended (so join_workers() will not block).
  bool workers_finished() const;
  // Every worker has stopped watching the listeners (after drain()).
  bool workers_stopped_accepting() const;

  const Config config;
  const uint64_t id;

  ModuleInstance io, alloc, parser, router, metrics;  // metrics.library may be null
  ModuleInstance transport;  // [modules] tls; library null when unset
  std::vector<ModuleInstance> handlers;
  const axle_io_vtable_t *io_vt = nullptr;
  const axle_alloc_vtable_t *alloc_vt = nullptr;
  const axle_parser_vtable_t *parser_vt = nullptr;
  const axle_router_vtable_t *router_vt = nullptr;
  const axle_metrics_vtable_t *metrics_vt = nullptr;  // null: no metrics module
  const axle_transport_vtable_t *transport_vt = nullptr;  // null: no [tls] listeners
  HostRoutes host_routes;  // the router tables, one per host scope
  std::shared_ptr<AccessLog> access_log;  // null: off
  std::vector<RouteEntry> routes;  // indexed by route_id

  // "NAME: what describe() says", for the https:// log lines; "" without a transport.
  std::string transport_description() const;

  // Every instance in creation order (for thread_init/fini and teardown).
  std::vector<ModuleInstance *> all_instances();

 private:
  explicit Generation(const Config &config, uint64_t id) : config(config), id(id) {}
  bool load(std::string &error);
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace axle
