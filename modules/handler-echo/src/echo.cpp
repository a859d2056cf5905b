// handler "echo": sends back the request body (with the request's
// Content-Type), or else the route's path parameter as text. Used by tests
// and benchmarks to exercise request bodies and routing parameters.
#include <axle/handler.h>
#include <axle/module.h>

#include <cstring>
#include <new>

namespace {

struct Instance {
  const axle_host_api_t *host;
};

constexpr axle_str_t kContentTypeName = {"Content-Type", 12};
constexpr char kOctetStream[] = "application/octet-stream";
constexpr char kTextPlain[] = "text/plain";
constexpr char kParamName[] = "msg";

axle_status_t create(const axle_host_api_t *host, const axle_config_t *, void **instance_out, axle_error_t *err) {
  auto *inst = new (std::nothrow) Instance{host};
  if (!inst) {
    constexpr char msg[] = "echo: out of memory";
    host->error_set(err, msg, sizeof msg - 1);
    return AXLE_ERR_NOMEM;
  }
  *instance_out = inst;
  return AXLE_OK;
}

void destroy(void *instance) { delete static_cast<Instance *>(instance); }

axle_status_t route_init(void *instance, const axle_config_t *, axle_str_t, void **route_state_out, axle_error_t *) {
  *route_state_out = instance;
  return AXLE_OK;
}

void route_fini(void *, void *) {}

// The "msg" parameter if the pattern names one, else the first parameter.
const axle_str_t *pick_param(const axle_request_t *req) {
  if (req->param_count == 0) return nullptr;
  for (uint32_t i = 0; i < req->param_count; ++i) {
    const axle_str_t &name = req->params[i].name;
    if (name.len == sizeof kParamName - 1 && std::memcmp(name.ptr, kParamName, name.len) == 0)
      return &req->params[i].value;
  }
  return &req->params[0].value;
}

axle_status_t handle(void *route_state, void *, const axle_request_t *req, axle_response_t *resp) {
  const axle_host_api_t *host = static_cast<Instance *>(route_state)->host;
  host->response_set_status(resp, 200);
  // Request memory dies when handle() returns, so every body is copied.
  if (req->body.len > 0) {
    const axle_header_t *ct = axle_request_find_header(req, "content-type", 12);
    axle_str_t type = ct ? ct->value : axle_str_t{kOctetStream, sizeof kOctetStream - 1};
    axle_status_t st = host->response_add_header(resp, kContentTypeName, type);
    if (st != AXLE_OK) return st;
    return host->response_body_copy(resp, req->body.ptr, req->body.len);
  }
  if (const axle_str_t *param = pick_param(req)) {
    axle_status_t st = host->response_add_header(resp, kContentTypeName, {kTextPlain, sizeof kTextPlain - 1});
    if (st != AXLE_OK) return st;
    return host->response_body_copy(resp, param->ptr, param->len);
  }
  return AXLE_OK;
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
      .name = "echo",
      .version = "1.0.0",
      .description = "Echoes the request body, else the path parameter \"msg\" (or the first one)",
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
