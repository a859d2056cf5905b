// Parses one sample request N times with a parser module loaded by path, so
// callgrind can count instructions per parse (see run.sh). Not a timing
// benchmark: the machine is shared and noisy, instruction counts are not.
//   parser_bench MODULE.so ISA|- short|browser ITERATIONS
#include <axle/parser.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "sample_requests.h"

struct axle_config_t {
  const char *isa;  // nullptr: no "isa" key
};
struct axle_error_t {
  std::string message;
};

namespace {

axle_status_t config_get_string(const axle_config_t *cfg, const char *key, axle_str_t *out) {
  if (!cfg->isa || std::strcmp(key, "isa") != 0) return AXLE_ERR_NOT_FOUND;
  *out = {cfg->isa, std::strlen(cfg->isa)};
  return AXLE_OK;
}
void error_set(axle_error_t *err, const char *msg, size_t len) { err->message.assign(msg, len); }
void log_line(const axle_config_t *, axle_log_level_t, const char *msg, size_t len) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(len), msg);
}

// Only what parser modules call; the other services stay NULL.
axle_host_api_t make_host() {
  axle_host_api_t host{};
  host.struct_size = sizeof host;
  host.abi_major = AXLE_ABI_MAJOR;
  host.abi_minor = AXLE_ABI_MINOR;
  host.log = log_line;
  host.error_set = error_set;
  host.config_get_string = config_get_string;
  return host;
}
const axle_host_api_t kHost = make_host();

int die(const std::string &msg) {
  std::fprintf(stderr, "parser_bench: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 5) return die("usage: parser_bench MODULE.so ISA|- short|browser ITERATIONS");
  const std::string_view which = argv[3];
  const std::string_view request = which == "short" ? axle::test::kShortRequest : axle::test::kBrowserRequest;
  if (which != "short" && which != "browser") return die("request must be short or browser");
  const long iterations = std::strtol(argv[4], nullptr, 10);

  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) return die(dlerror());
  auto entry = reinterpret_cast<axle_module_entry_fn>(dlsym(lib, AXLE_ENTRY_SYMBOL));
  if (!entry) return die("no entry symbol");
  const axle_module_descriptor_t *d = entry();
  if (d->kind != AXLE_KIND_PARSER) return die("not a parser module");
  axle_config_t cfg{std::strcmp(argv[2], "-") == 0 ? nullptr : argv[2]};
  axle_error_t err;
  void *instance = nullptr;
  if (d->create(&kHost, &cfg, &instance, &err) != AXLE_OK) return die(err.message);
  void *ctx = nullptr;
  if (d->thread_init && d->thread_init(instance, nullptr, &ctx, &err) != AXLE_OK) return die(err.message);
  const auto *vt = static_cast<const axle_parser_vtable_t *>(d->vtable);

  // Exactly the request's bytes, as a server's read buffer would hold them.
  auto buf = std::make_unique<char[]>(request.size());
  std::memcpy(buf.get(), request.data(), request.size());
  axle_header_t headers[64];
  const axle_parse_limits_t limits{sizeof limits, 8192, 2048, 64};
  size_t total = 0;
  for (long i = 0; i < iterations; ++i) {
    axle_request_head_t head{};
    head.struct_size = sizeof head;
    head.headers = headers;
    head.header_capacity = 64;
    size_t consumed = 0;
    if (vt->parse_request(ctx, buf.get(), request.size(), &limits, &head, &consumed) != AXLE_PARSE_COMPLETE)
      return die("sample request did not parse");
    total += consumed + head.header_count;
  }
  if (d->thread_fini) d->thread_fini(instance, ctx);
  d->destroy(instance);
  dlclose(lib);
  std::printf("%zu\n", total);
  return 0;
}
