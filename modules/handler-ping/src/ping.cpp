// handler "ping": answers every request with 200 "pong" — a liveness probe
// and the cheapest possible route for benchmarking the kernel itself.
#include <axle/handler.h>
#include <axle/module.h>

#include <new>

namespace {

struct Instance {
  const axle_host_api_t *host;
};

constexpr char kPong[] = "pong";
constexpr char kContentType[] = "text/plain";

axle_status_t create(const axle_host_api_t *host, const axle_config_t *, void **instance_out, axle_error_t *err) {
  auto *inst = new (std::nothrow) Instance{host};
  if (!inst) {
    constexpr char msg[] = "ping: out of memory";
    host->error_set(err, msg, sizeof msg - 1);
    return AXLE_ERR_NOMEM;
  }
  *instance_out = inst;
  return AXLE_OK;
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

// The route needs nothing of its own: its state is the instance.
axle_status_t route_init(void *instance, const axle_config_t *, axle_str_t, void **route_state_out, axle_error_t *) {
  *route_state_out = instance;
  return AXLE_OK;
}

void route_fini(void *, void *) {}

axle_status_t handle(void *route_state, void *, const axle_request_t *, axle_response_t *resp) {
  const axle_host_api_t *host = static_cast<Instance *>(route_state)->host;
  host->response_set_status(resp, 200);
  axle_status_t st = host->response_add_header(resp, {"Content-Type", 12}, {kContentType, sizeof kContentType - 1});
  if (st != AXLE_OK) return st;
  // Static bytes outlive every route, so no release callback is needed.
  return host->response_body_lend(resp, kPong, sizeof kPong - 1, nullptr, nullptr);
}

const axle_handler_vtable_t kVtable = {
    .struct_size = sizeof(axle_handler_vtable_t),
    .route_init = route_init,
    .route_fini = route_fini,
    .handle = handle,
};

}  // namespace

AXLE_MODULE_ENTRY {
  static const axle_module_descriptor_t d = {
      .struct_size = sizeof(axle_module_descriptor_t),
      .abi_major = AXLE_ABI_MAJOR,
      .abi_minor = AXLE_ABI_MINOR,
      .kind = AXLE_KIND_HANDLER,
      .flags = 0,
      .name = "ping",
      .version = "1.0.0",
      .description = "Answers 200 text/plain \"pong\" (liveness probe)",
      .config_keys = nullptr,
      .config_key_count = 0,
      .create = create,
      .destroy = destroy,
      .thread_init = nullptr,
      .thread_fini = nullptr,
      .vtable = &kVtable,
      .config_sections = nullptr,
      .config_section_count = 0,
  };
  return &d;
}
