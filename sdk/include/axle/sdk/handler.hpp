// axle C++ SDK: write a handler module as a C++ class; the SDK generates the
// descriptor and vtable and keeps exceptions on the module's side.
//
//   namespace {
//   struct Hello {
//     static constexpr const char *name = "hello";
//     static constexpr const char *version = "1.0.0";
//     static constexpr const char *description = "Greets {name}";
//     static constexpr axle_config_key_t config_keys[] = {
//         axle::sdk::string_key("greeting", "hello", "Word before the name")};
//     struct Route {
//       std::string greeting;
//       void handle(const axle::sdk::Request &req, axle::sdk::Response &resp) const;
//     };
//     Route route_init(const axle::sdk::RouteConfig &cfg) { return {cfg.get<std::string>("greeting")}; }
//   };
//   }  // namespace
//   AXLE_SDK_HANDLER_MODULE(Hello)
//
// The module class is instantiated once per module instance (create), from a
// Host if it has such a constructor, else default-constructed. route_init
// runs on the control thread and returns the route's object, which lives
// until route_fini. Route::handle must be const: it runs on every worker at
// once. Optional members: config_keys (array), config_sections (array, 1.3:
// read them from host.config().section(name)), flags (AXLE_MODULE_FLAG_*).
// A route that waits or streams makes handle a coroutine instead:
//   axle::sdk::Task handle(axle::sdk::Exchange &ex) const;
// (exchange.hpp has its rules; the SDK keeps the response when it first waits.)
// Thread contexts (thread_init/thread_fini) are not wrapped: use the C ABI.
#pragma once

#include <axle/handler.h>
#include <axle/module.h>
#include <axle/sdk/config.hpp>
#include <axle/sdk/error.hpp>
#include <axle/sdk/exchange.hpp>
#include <axle/sdk/guard.hpp>
#include <axle/sdk/pending.hpp>
#include <axle/sdk/request.hpp>
#include <axle/sdk/response.hpp>
#include <axle/sdk/task.hpp>

#include <concepts>
#include <cstdio>
#include <exception>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace axle::sdk {

template <class M>
concept HandlerModule = requires(M &module, const RouteConfig &cfg) {
  { M::name } -> std::convertible_to<const char *>;
  { M::version } -> std::convertible_to<const char *>;
  { M::description } -> std::convertible_to<const char *>;
  module.route_init(cfg);
} && (std::is_constructible_v<M, Host> || std::is_default_constructible_v<M>);

template <class R>
concept HandlerRoute = requires(const R &route, const Request &req, Response &resp) { route.handle(req, resp); };

// A route whose handle is a coroutine (exchange.hpp): it may wait and stream.
template <class R>
concept CoroutineRoute = requires(const R &route, Exchange &ex) {
  { route.handle(ex) } -> std::same_as<Task>;
};

namespace detail {

template <HandlerModule M>
struct HandlerGlue {
  using Route = std::remove_cvref_t<decltype(std::declval<M &>().route_init(std::declval<const RouteConfig &>()))>;
  static_assert(HandlerRoute<Route> || CoroutineRoute<Route>,
                "the object route_init returns needs `void handle(const axle::sdk::Request &, "
                "axle::sdk::Response &) const` or `axle::sdk::Task handle(axle::sdk::Exchange &) const`");

  struct Instance {
    Host host;
    M module;
  };
  struct RouteState {
    Host host;
    std::string pattern;  // names the route in error logs
    Route route;
  };

  static void report(const axle_host_api_t *api, axle_error_t *err, const char *what) noexcept {
    Message m(M::name, what);
    api->error_set(err, m.text, m.len);
  }

  static M make_module(const Host &host) {
    if constexpr (std::is_constructible_v<M, Host>)
      return M(host);
    else
      return M();
  }

  static axle_status_t create(const axle_host_api_t *api, const axle_config_t *cfg, void **instance_out,
                              axle_error_t *err) noexcept {
    return guarded([&] { *instance_out = new Instance{Host(api, cfg), make_module(Host(api, cfg))}; },
                   [&](const char *what) { report(api, err, what); });
  }

  static void destroy(void *instance) noexcept { delete static_cast<Instance *>(instance); }

  static axle_status_t route_init(void *instance, const axle_config_t *route_cfg, axle_str_t pattern,
                                  void **route_state_out, axle_error_t *err) noexcept {
    auto *inst = static_cast<Instance *>(instance);
    return guarded(
        [&] {
          RouteConfig cfg(inst->host, route_cfg, view(pattern));
          *route_state_out = new RouteState{inst->host, std::string(view(pattern)), inst->module.route_init(cfg)};
        },
        [&](const char *what) { report(inst->host.api(), err, what); });
  }

  static void route_fini(void *, void *route_state) noexcept { delete static_cast<RouteState *>(route_state); }

  // handle() has no error out-parameter: the reason goes to the log, and the
  // status makes the host answer 500.
  static axle_status_t handle(void *route_state, void *, const axle_request_t *req, axle_response_t *resp) noexcept {
    const auto *state = static_cast<const RouteState *>(route_state);
    if constexpr (CoroutineRoute<Route>) {
      return Pending::start(state->host, M::name, state->pattern, req, resp,
                            [&](Exchange &ex) { return state->route.handle(ex); });
    } else {
      return guarded(
          [&] {
            Response response(state->host.api(), resp);
            state->route.handle(Request(req), response);
          },
          [&](const char *what) { log_route_error(state->host, M::name, state->pattern, what); });
    }
  }

  static constexpr axle_handler_vtable_t vtable() {
    return {
        .struct_size = sizeof(axle_handler_vtable_t),
        .route_init = route_init,
        .route_fini = route_fini,
        .handle = handle,
    };
  }

  static constexpr axle_module_descriptor_t descriptor(const axle_handler_vtable_t *vt) {
    const axle_config_key_t *keys = nullptr;
    size_t key_count = 0;
    if constexpr (requires { std::size(M::config_keys); }) {
      keys = M::config_keys;
      key_count = std::size(M::config_keys);
    }
    const axle_config_section_t *sections = nullptr;
    size_t section_count = 0;
    if constexpr (requires { std::size(M::config_sections); }) {
      sections = M::config_sections;
      section_count = std::size(M::config_sections);
    }
    uint32_t flags = 0;
    if constexpr (requires { M::flags; }) flags = M::flags;
    return {
        .struct_size = sizeof(axle_module_descriptor_t),
        .abi_major = AXLE_ABI_MAJOR,
        .abi_minor = AXLE_ABI_MINOR,
        .kind = AXLE_KIND_HANDLER,
        .flags = flags,
        .name = M::name,
        .version = M::version,
        .description = M::description,
        .config_keys = keys,
        .config_key_count = key_count,
        .create = create,
        .destroy = destroy,
        .thread_init = nullptr,
        .thread_fini = nullptr,
        .vtable = vt,
        .config_sections = sections,
        .config_section_count = section_count,
    };
  }
};

}  // namespace detail
}  // namespace axle::sdk

// Defines the module's entry symbol for handler class Module. Use once per
// module, at namespace scope. The descriptor and vtable are constants.
#define AXLE_SDK_HANDLER_MODULE(Module)                                                                 \
  AXLE_MODULE_ENTRY {                                                                                   \
    static constexpr axle_handler_vtable_t axle_sdk_vtable = ::axle::sdk::detail::HandlerGlue<Module>::vtable(); \
    static constexpr axle_module_descriptor_t axle_sdk_descriptor =                                    \
        ::axle::sdk::detail::HandlerGlue<Module>::descriptor(&axle_sdk_vtable);                         \
    return &axle_sdk_descriptor;                                                                        \
  }
