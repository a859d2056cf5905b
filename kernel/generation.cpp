#include "generation.h"

#include "host_api.h"
#include "worker.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <thread>

namespace axle {
namespace {

const char *kind_label(axle_module_kind_t kind) {
  switch (kind) {
    case AXLE_KIND_IO: return "io";
    case AXLE_KIND_ALLOC: return "alloc";
    case AXLE_KIND_PARSER: return "parser";
    case AXLE_KIND_ROUTER: return "router";
    case AXLE_KIND_METRICS: return "metrics";
    case AXLE_KIND_HANDLER: return "handler";
    case AXLE_KIND_TRANSPORT: return "transport";
  }
  return "?";
}

// Loads kind/name and creates its instance with the [module.<name>] options.
bool instantiate(const Config &config, axle_module_kind_t kind, const std::string &name, ModuleInstance &out,
                 std::string &error) {
  const std::string kind_name = kind_label(kind);
  out.library = find_and_load(config.module_dirs, kind_name, name, error);
  if (!out.library) return false;
  const axle_module_descriptor_t &d = out.desc();
  if (d.kind != kind) {
    error = out.library->path() + ": is a " + out.library->kind_name() + " module, configured as " + kind_name;
    return false;
  }
  auto it = config.module_options.find(name);
  out.config = std::make_unique<axle_config_t>();
  // A handler's declared keys belong to its routes; its instance gets only
  // the tables of its sections (1.3): [module.<handler>] is refused for a
  // handler without sections, and config.cpp already refused plain keys there.
  if (kind == AXLE_KIND_TRANSPORT) {
    // A transport's options are the [tls] table (its "listen" is the kernel's).
    if (!build_module_config(d, config.tls_options, {"listen"}, config.base_dir, *out.config, error)) return false;
  } else if (it == config.module_options.end()) {
    // No table: defaults only, and a place for config_position.
    OptionTable absent;
    absent.pos = {config.source, 0};
    absent.path = "module." + name;
    ConfigSchema schema = module_schema(d);
    if (kind == AXLE_KIND_HANDLER) schema = ConfigSchema{name, {}, nullptr, 0, nullptr, 0};  // keys are route keys
    if (!build_config(schema, absent, {}, config.base_dir, *out.config, error)) return false;
  } else if (kind == AXLE_KIND_HANDLER) {
    if (!build_handler_instance_config(d, it->second, config.base_dir, *out.config, error)) return false;
  } else if (!build_module_config(d, it->second, {}, config.base_dir, *out.config, error)) {
    return false;
  }
  axle_error_t err;
  if (d.create(host_api(), out.config.get(), &out.instance, &err) != AXLE_OK) {
    out.instance = nullptr;
    error = out.library->path() + ": " + kind_name + " module '" + name +
            "' failed to initialize: " + (err.message.empty() ? "no reason given" : err.message);
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Generation> Generation::build(const Config &config, uint64_t id, std::string &error) {
  // A failure here, exceptions included (bad_alloc), must leave the serving
  // generation alone: it becomes the error of a refused reload.
  try {
    std::unique_ptr<Generation> gen(new Generation(config, id));
    if (gen->load(error)) return gen;
    // ~Generation undoes what was created.
  } catch (const std::exception &e) {
    error = std::string("building the generation failed: ") + e.what();
  }
  // Every error names the config file once, at its start: the ones tied to a
  // line already do ("file:line: ..."), the others get the file here.
  if (!error.starts_with(config.source + ":")) error = config.source + ": " + error;
  return nullptr;
}

bool Generation::load(std::string &error) {
  if (!config.log.access_log.empty() && !(access_log = AccessLog::open(config.log.access_log, error)))
    return false;
  // A [modules] choice that fails is reported at its line, or as the default it is.
  auto choose = [&](axle_module_kind_t kind, const char *key, const std::string &name, ModuleInstance &out) {
    if (instantiate(config, kind, name, out, error)) return true;
    auto at = config.module_positions.find(key);
    error = at != config.module_positions.end()
                ? at->second.str() + ": modules." + key + ": " + error
                : config.source + ": modules." + key + " (default \"" + name + "\"): " + error;
    return false;
  };
  if (!choose(AXLE_KIND_IO, "io", config.io, io)) return false;
  if (!choose(AXLE_KIND_ALLOC, "allocator", config.allocator, alloc)) return false;
  if (!choose(AXLE_KIND_PARSER, "parser", config.parser, parser)) return false;
  if (!choose(AXLE_KIND_ROUTER, "router", config.router, router)) return false;
  if (!config.metrics.empty() && !choose(AXLE_KIND_METRICS, "metrics", config.metrics, metrics)) return false;
  if (!config.tls.empty() && !choose(AXLE_KIND_TRANSPORT, "tls", config.tls, transport)) return false;
  io_vt = io.vtable<axle_io_vtable_t>();
  alloc_vt = alloc.vtable<axle_alloc_vtable_t>();
  parser_vt = parser.vtable<axle_parser_vtable_t>();
  router_vt = router.vtable<axle_router_vtable_t>();
  if (metrics.library) metrics_vt = metrics.vtable<axle_metrics_vtable_t>();
  if (transport.library) transport_vt = transport.vtable<axle_transport_vtable_t>();

  // One instance per handler module, shared by its routes.
  for (const RouteConfig &rc : config.routes) {
    uint32_t slot = 0;
    while (slot < handlers.size() && handlers[slot].desc().name != rc.handler) ++slot;
    if (slot == handlers.size()) {
      handlers.emplace_back();
      if (!instantiate(config, AXLE_KIND_HANDLER, rc.handler, handlers.back(), error)) {
        error = rc.pos.str() + ": route " + (rc.path.empty() ? "fallback" : rc.path) + ": " + error;
        return false;
      }
    }
    RouteEntry entry;
    entry.pattern = rc.fallback == RouteFallback::None ? rc.path
                    : rc.fallback == RouteFallback::NotFound ? "(not_found)"
                                                               : "(method_not_allowed)";
    entry.label = entry.pattern;
    if (!rc.hosts.empty()) {
      std::string hosts;
      for (const std::string &h : rc.hosts) hosts += (hosts.empty() ? "" : ",") + h;
      entry.label = hosts + " " + entry.pattern;
    }
    entry.handler_name = rc.handler;
    entry.handler = handlers[slot].vtable<axle_handler_vtable_t>();
    entry.handler_slot = slot;
    entry.stream_body = rc.streams_body(handlers[slot].desc().abi_minor, handlers[slot].desc().flags);
    entry.extension_methods = rc.extension_methods;
    for (const std::string &m : rc.extension_methods) entry.allow_names += (entry.allow_names.empty() ? "" : ", ") + m;
    if (entry.stream_body && handlers[slot].desc().abi_minor < 2) {
      error = rc.pos.str() + ": route " + rc.path + ": stream_body needs a handler built for ABI 1.2 or later ('" +
              rc.handler + "' is " + std::to_string(handlers[slot].desc().abi_major) + "." +
              std::to_string(handlers[slot].desc().abi_minor) + ")";
      return false;
    }
    entry.config = std::make_unique<axle_config_t>();
    // The kernel's own route keys are not the handler's.
    if (!build_module_config(handlers[slot].desc(), rc.options,
                             {"path", "handler", "methods", "stream_body", "host", "answers"},
                             config.base_dir, *entry.config, error))
      return false;
    entry.config->owner = rc.handler + " " + entry.label;
    axle_error_t err;
    // route_init gets the path pattern: a fallback's is empty, it matches no path of its own.
    if (entry.handler->route_init(handlers[slot].instance, entry.config.get(), {rc.path.data(), rc.path.size()},
                                  &entry.route_state, &err) != AXLE_OK) {
      error = rc.pos.str() + ": route " + entry.label + ": handler '" + rc.handler + "' refused it: " + err.message;
      return false;
    }
    routes.push_back(std::move(entry));
  }
  if (metrics_vt) {
    RouteEntry entry;
    entry.pattern = entry.label = config.metrics_path;
    entry.handler_name = "metrics";
    routes.push_back(std::move(entry));
  }
  // routes no longer moves: the tables may point into it. route_id = index.
  static const std::vector<std::string> kAnyHost;
  std::vector<HostRoutes::Input> inputs;
  for (uint32_t i = 0; i < routes.size(); ++i) {
    if (i < config.routes.size()) {
      const RouteConfig &rc = config.routes[i];
      inputs.push_back({rc.path, rc.method_mask, &rc.hosts, rc.fallback, &rc.extension_methods});
    } else {  // the metrics route
      inputs.push_back({routes[i].pattern, AXLE_METHOD_GET | AXLE_METHOD_HEAD, &kAnyHost, RouteFallback::None});
    }
  }
  if (!host_routes.build(router_vt, router.instance, inputs, error)) {
    error = "router '" + config.router + "' rejected " + error;
    return false;
  }
  if (metrics_vt) {
    std::vector<axle_str_t> labels;
    for (const RouteEntry &r : routes) labels.push_back({r.label.data(), r.label.size()});
    std::vector<axle_module_info_t> infos;
    // The ABI each module was built for (not the host's), as --list-modules shows it.
    std::vector<std::string> kinds, abis;
    for (ModuleInstance *m : all_instances()) {
      kinds.push_back(m->library->kind_name());
      abis.push_back(std::to_string(m->desc().abi_major) + "." + std::to_string(m->desc().abi_minor));
    }
    size_t i = 0;
    for (ModuleInstance *m : all_instances()) {
      const axle_module_descriptor_t &d = m->desc();
      infos.push_back({{kinds[i].data(), kinds[i].size()},
                       {d.name, std::strlen(d.name)},
                       {d.version, std::strlen(d.version)},
                       {abis[i].data(), abis[i].size()}});
      ++i;
    }
    uint32_t workers = config.workers ? config.workers : std::max(1u, std::thread::hardware_concurrency());
    axle_error_t err;
    axle_metrics_generation_t info{sizeof info,       id, labels.data(), static_cast<uint32_t>(labels.size()),
                                   infos.data(),      static_cast<uint32_t>(infos.size()), workers};
    if (metrics_vt->describe(metrics.instance, &info, &err) != AXLE_OK) {
      error = "metrics module '" + config.metrics + "' failed: " + err.message;
      return false;
    }
  }
  return true;
}

std::string Generation::transport_description() const {
  if (!transport_vt) return {};
  const char *text = transport_vt->describe ? transport_vt->describe(transport.instance) : nullptr;
  return std::string(transport.desc().name) + (text && *text ? std::string(": ") + text : std::string());
}

std::vector<ModuleInstance *> Generation::all_instances() {
  std::vector<ModuleInstance *> out{&io, &alloc, &parser, &router};
  if (metrics.library) out.push_back(&metrics);
  if (transport.library) out.push_back(&transport);
  for (ModuleInstance &h : handlers) out.push_back(&h);
  return out;
}

Generation::~Generation() {
  join_workers();
  workers_.clear();
  for (auto it = routes.rbegin(); it != routes.rend(); ++it)
    if (it->handler && it->route_state) it->handler->route_fini(handlers[it->handler_slot].instance, it->route_state);
  host_routes.clear();  // before the router instance goes
  std::vector<ModuleInstance *> instances = all_instances();
  for (auto it = instances.rbegin(); it != instances.rend(); ++it)
    if ((*it)->library && (*it)->instance) (*it)->desc().destroy((*it)->instance);
}

bool Generation::start_workers(const std::vector<Listener> &listeners, std::atomic<uint32_t> &open_connections,
                               http::SharedBudget &budget, std::string &error) {
  uint32_t count = config.workers ? config.workers : std::max(1u, std::thread::hardware_concurrency());
  bool ok = true;
  try {
    workers_.reserve(count);  // so the push_back below cannot throw with a thread running
    for (uint32_t i = 0; ok && i < count; ++i) {
      auto worker = std::make_unique<Worker>(*this, i, open_connections, budget);
      ok = worker->start(listeners, error);
      if (ok) workers_.push_back(std::move(worker));
    }
  } catch (const std::exception &e) {
    error = "starting worker " + std::to_string(workers_.size()) + " failed: " + e.what();
    ok = false;
  }
  if (!ok) {
    // Stop the ones that started; they have no connection yet.
    drain(0, true);
    join_workers();
    workers_.clear();
  }
  return ok;
}

void Generation::drain(uint32_t deadline_ms, bool close_idle) {
  for (auto &w : workers_) w->drain(deadline_ms, close_idle);
}

void Generation::join_workers() {
  for (auto &w : workers_) w->join();
}

bool Generation::workers_finished() const {
  for (const auto &w : workers_)
    if (!w->finished()) return false;
  return true;
}

bool Generation::workers_stopped_accepting() const {
  for (const auto &w : workers_)
    if (!w->stopped_accepting()) return false;
  return true;
}

uint32_t Generation::connection_count() const {
  uint32_t n = 0;
  for (const auto &w : workers_) n += w->connection_count();
  return n;
}

std::vector<uint32_t> Generation::worker_connection_counts() const {
  std::vector<uint32_t> counts;
  for (const auto &w : workers_) counts.push_back(w->connection_count());
  return counts;
}

}  // namespace axle
