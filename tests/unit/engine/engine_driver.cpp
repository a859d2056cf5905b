#include "engine_driver.h"

#include "http/module_fields.h"

#include "host_api.h"
#include "http/request_path.h"
#include "module_config.h"

#include <axle/router.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

namespace axle::enginetest {

uint64_t FakeClock::now = 1'000'000;

// ---- memory ----

void *CountingMemory::alloc(size_t size) {
  void *p = std::malloc(size ? size : 1);
  if (p) {
    outstanding_ += static_cast<int64_t>(size);
    ++allocations_;
  }
  return p;
}

void CountingMemory::free(void *p, size_t size) {
  outstanding_ -= static_cast<int64_t>(size);
  std::free(p);
}

// ---- parser ----

namespace {

// One parser module, loaded and instantiated once per process (tests create
// thousands of harnesses): its vtable and one worker's thread context.
struct OpenModule {
  std::shared_ptr<ModuleLibrary> library;
  void *instance = nullptr;
  void *thread_ctx = nullptr;

  explicit OpenModule(const char *module) {
    std::string error;
    library = ModuleLibrary::load(
        std::string(AXLE_ENGINE_TEST_MODULE_DIR) + "/" + module_file_name("parser", module), error);
    REQUIRE_MESSAGE(library, error);
    const axle_module_descriptor_t &d = library->descriptor();
    REQUIRE(d.kind == AXLE_KIND_PARSER);
    static axle_config_t cfg;  // no keys: every module default
    axle_error_t err;
    REQUIRE_MESSAGE(d.create(host_api(), &cfg, &instance, &err) == AXLE_OK, err.message);
    if (d.thread_init) REQUIRE_MESSAGE(d.thread_init(instance, nullptr, &thread_ctx, &err) == AXLE_OK, err.message);
  }
  ~OpenModule() {
    const axle_module_descriptor_t &d = library->descriptor();
    if (d.thread_fini) d.thread_fini(instance, thread_ctx);
    d.destroy(instance);
  }
};

const OpenModule &open_module(const char *module) {
  static std::map<std::string, std::unique_ptr<OpenModule>> open;
  std::unique_ptr<OpenModule> &m = open[module];
  if (!m) m = std::make_unique<OpenModule>(module);
  return *m;
}

}  // namespace

CountingParser::CountingParser(const char *module) {
  const OpenModule &m = open_module(module);
  real_ = static_cast<const axle_parser_vtable_t *>(m.library->descriptor().vtable);
  thread_ctx_ = m.thread_ctx;
  shim_ = {sizeof shim_, parse_request, parse_chunk_size, parse_trailers};
}

axle_parse_result_t CountingParser::parse_request(void *self, const char *buf, size_t len,
                                                  const axle_parse_limits_t *lim, axle_request_head_t *out,
                                                  size_t *consumed) {
  auto *p = static_cast<CountingParser *>(self);
  axle_parse_result_t r = p->real_->parse_request(p->thread_ctx_, buf, len, lim, out, consumed);
  if (r == AXLE_PARSE_COMPLETE) ++p->heads_parsed;
  return r;
}

axle_parse_result_t CountingParser::parse_chunk_size(void *self, const char *buf, size_t len, uint64_t *size,
                                                     size_t *consumed) {
  auto *p = static_cast<CountingParser *>(self);
  return p->real_->parse_chunk_size(p->thread_ctx_, buf, len, size, consumed);
}

axle_parse_result_t CountingParser::parse_trailers(void *self, const char *buf, size_t len, size_t max_bytes,
                                                   size_t *consumed) {
  auto *p = static_cast<CountingParser *>(self);
  return p->real_->parse_trailers(p->thread_ctx_, buf, len, max_bytes, consumed);
}

// ---- dispatcher ----

namespace {

// The bodies /file and /large send, made once per process (tests create
// thousands of dispatchers).
struct Bodies {
  int file_fd = -1;  // unlinked temp file; each response gets a dup
  std::string file, large;
  Bodies() {
    char path[] = "/tmp/axle-engine-test-XXXXXX";
    file_fd = ::mkstemp(path);
    REQUIRE(file_fd >= 0);
    ::unlink(path);
    for (size_t i = 0; i < ScriptDispatcher::kFileBody; ++i) file += static_cast<char>('a' + i % 26);
    REQUIRE(::pwrite(file_fd, file.data(), file.size(), 0) == static_cast<ssize_t>(file.size()));
    for (size_t i = 0; i < ScriptDispatcher::kLargeBody; ++i) large += static_cast<char>('A' + i % 23);
  }
};

const Bodies &bodies() {
  static const Bodies b;
  return b;
}

}  // namespace

const std::string &ScriptDispatcher::file_contents() { return bodies().file; }
const std::string &ScriptDispatcher::large_body() { return bodies().large; }

http::DispatchResult ScriptDispatcher::dispatch(const http::DispatchInput &in, http::Response &resp) {
  const axle_request_head_t &head = in.head;
  std::string_view body = in.body;
  seen.push_back({std::string(head.method.ptr, head.method.len), std::string(head.target.ptr, head.target.len),
                  std::string(body), head.header_count});
  const std::string seq = std::to_string(seen.size());
  http::DispatchResult r;
  std::string path;
  if (!http::normalize_request_path({head.path.ptr, head.path.len}, path)) {
    r.error_status = 400;
    return r;
  }
  if (path == "/404" || path == "/500") {
    r.error_status = static_cast<uint16_t>(std::stoi(path.substr(1)));
    return r;
  }
  if (path == "/405") {
    r.error_status = 405;
    r.allow = AXLE_METHOD_GET;
    return r;
  }
  const axle_host_api_t *host = host_api();
  axle_response_t *out = &resp;
  if (path.starts_with("/keep") || path == "/upload") {
    REQUIRE(memory);
    kept.push_back(std::make_unique<TestKept>(in.engine, *memory, static_cast<uint32_t>(seen.size())));
    TestKept &k = *kept.back();
    if (path == "/keep-hints") REQUIRE(k.hints({{"Link", "</a.css>; rel=preload"}}) == http::Engine::Write::Ok);
    REQUIRE(in.engine.keep(&k, kKeptRoute));
    CHECK_FALSE(in.engine.keep(&k, kKeptRoute));  // once only
    k.response().take_from(resp);  // what handle() set so far, as the Exchange does
    if (path == "/keep-now") REQUIRE(k.respond(200, "now"));
    if (path == "/keep-switch") REQUIRE(k.switch_protocols() == http::Engine::Write::Ok);
    if (path == "/keep-fail") r.error_status = 500;  // kept, then handle() failed
    r.kept = true;
    r.route_id = kKeptRoute;
    // As RouteDispatcher: a bodiless request on a streaming route still gets its empty last.
    r.empty_stream = streams_body(head) && !in.stream_body;
    return r;
  }
  REQUIRE(host->response_add_header(out, {"X-Seq", 5}, {seq.data(), seq.size()}) == AXLE_OK);
  if (path == "/hints") {
    axle_header_t link{{"Link", 4}, {"</a.css>; rel=preload", 21}};
    REQUIRE(in.engine.early_hints(&link, 1) == http::Engine::Write::Ok);
  }
  axle_status_t st;
  if (path == "/large") {
    st = host->response_body_copy(out, large_body().data(), kLargeBody);
  } else if (path == "/file") {
    st = host->response_body_file(out, ::dup(bodies().file_fd), 0, kFileBody);
  } else if (path == "/bigfile") {
    st = host->response_body_file(out, ::dup(bodies().file_fd), 0, kBigFileRange);
  } else if (path == "/echo") {
    st = host->response_body_copy(out, body.data(), body.size());
  } else if (path == "/lent") {
    ++lends;
    st = host->response_body_lend(out, kLentBody.data(), kLentBody.size(), count_release, this);
  } else if (path == "/prebuilt") {
    ++lends;
    st = host->response_prebuilt(out, kPrebuilt.data(), kPrebuilt.size(), kPrebuilt.find("\r\n\r\n") + 4, 200,
                                 count_release, this);
  } else {
    const std::string text = "seq=" + seq;
    st = host->response_body_copy(out, text.data(), text.size());
  }
  REQUIRE(st == AXLE_OK);
  return r;
}

bool ScriptDispatcher::streams_body(const axle_request_head_t &head) {
  return std::string_view(head.path.ptr, head.path.len).starts_with("/upload");
}

void ScriptDispatcher::count_release(void *self) { ++static_cast<ScriptDispatcher *>(self)->releases; }

// ---- kept requests ----

void TestKept::abort(uint8_t reason) {
  if (ended()) ++faults;
  aborts.push_back(reason);
  resp_.reset();  // the Exchange frees what the handler had set
}

void TestKept::writable() {
  if (ended()) ++faults;
  ++writables;
  if (on_writable) on_writable(*this);
}

void TestKept::body(const char *data, size_t len, bool last) {
  if (ended() || lasts > 0 || (len == 0 && !last)) ++faults;
  ++body_calls;
  body_bytes.append(data, len);
  if (last) ++lasts;
  if (on_body) on_body(*this);
}

namespace {
void add_seq(http::Response &resp, uint32_t seq) {
  const std::string text = std::to_string(seq);
  REQUIRE(host_api()->response_add_header(&resp, {"X-Seq", 5}, {text.data(), text.size()}) == AXLE_OK);
}
}  // namespace

bool TestKept::respond(uint16_t status, std::string_view body) {
  resp_.status = status;
  add_seq(resp_, seq_);
  if (!body.empty()) REQUIRE(host_api()->response_body_copy(&resp_, body.data(), body.size()) == AXLE_OK);
  bool ok = engine_.kept_respond(resp_);
  resp_.reset();
  if (ok) ended_ = true;
  return ok;
}

http::Engine::Write TestKept::begin(uint16_t status, int64_t length) {
  resp_.status = status;
  add_seq(resp_, seq_);
  return engine_.kept_begin(resp_, length);
}

http::Engine::Write TestKept::write(std::string_view data) { return engine_.kept_write(data); }

http::Engine::Write TestKept::switch_protocols(const Fields &fields) {
  add_seq(resp_, seq_);
  for (const auto &[n, v] : fields)
    REQUIRE(host_api()->response_add_header(&resp_, {n.data(), n.size()}, {v.data(), v.size()}) == AXLE_OK);
  http::Engine::Write w = engine_.kept_switch(resp_);
  if (w != http::Engine::Write::Ok) resp_.reset();  // refused: the handler answers otherwise
  return w;
}

namespace {
std::vector<axle_header_t> as_headers(const TestKept::Fields &fields) {
  std::vector<axle_header_t> out;
  for (const auto &[n, v] : fields) out.push_back({{n.data(), n.size()}, {v.data(), v.size()}});
  return out;
}
}  // namespace

bool TestKept::finish(const Fields &trailers) {
  bool was_kept = engine_.kept_begun();
  std::vector<axle_header_t> t = as_headers(trailers);
  // The Exchange refuses such trailers before the engine sees them.
  REQUIRE(http::valid_module_fields(t.data(), static_cast<uint32_t>(t.size())));
  bool complete = engine_.kept_finish(t.data(), static_cast<uint32_t>(t.size()));
  if (was_kept) ended_ = true;
  return complete;
}

void TestKept::cancel() {
  bool was_kept = engine_.kept();
  engine_.kept_cancel();
  if (was_kept) ended_ = true;
}

http::Engine::Write TestKept::hints(const Fields &fields) {
  std::vector<axle_header_t> h = as_headers(fields);
  REQUIRE(http::valid_module_fields(h.data(), static_cast<uint32_t>(h.size())));
  return engine_.early_hints(h.data(), static_cast<uint32_t>(h.size()));
}

// ---- harness ----

Harness::Harness(const char *parser_module, const Limits &lim, const Timeouts &to, http::SharedBudget *shared)
    : parser(parser_module),
      budget(shared),
      limits(lim),
      timeouts(to),
      ctx(limits, timeouts, parser.ref(), memory, budget, dispatcher, date, FakeClock::now_ms, FakeClock::now_ns) {
  dispatcher.memory = &memory;
  ctx.stream_routes = true;  // the /upload routes
  engine_ = std::make_unique<http::Engine>(ctx, nullptr);
}

Harness::~Harness() {
  engine_.reset();
  ctx.response.reset();
  ctx.release_spare_work();  // blocks kept for the next connection are not a leak
  CHECK_MESSAGE(memory.outstanding() == 0, "engine memory leaked: ", memory.outstanding(), " bytes");
  CHECK_MESSAGE(budget.held() == 0, "budget still charged: ", budget.held(), " bytes");
  CHECK_MESSAGE(dispatcher.releases == dispatcher.lends, "lent bodies released ", dispatcher.releases, " times for ",
                dispatcher.lends, " lends");
}

void Harness::new_engine() {
  engine_.reset();
  CHECK(budget.held() == 0);
  engine_ = std::make_unique<http::Engine>(ctx, nullptr);
}

void Harness::send(std::string_view bytes, const std::vector<size_t> &split) {
  size_t pos = 0;
  for (size_t n : split) {
    n = std::min(n, bytes.size() - pos);
    engine_->receive(bytes.data() + pos, n);
    pos += n;
  }
  if (pos < bytes.size() || split.empty()) engine_->receive(bytes.data() + pos, bytes.size() - pos);
}

namespace {

// The bytes of one output run, file ranges read with pread.
std::string run_bytes(const http::OutputRun &run) {
  std::string out;
  if (run.file_fd >= 0) {
    out.resize(run.file_length);
    REQUIRE(::pread(run.file_fd, out.data(), out.size(), static_cast<off_t>(run.file_offset)) ==
            static_cast<ssize_t>(out.size()));
  } else {
    for (uint32_t i = 0; i < run.iov_count; ++i) out.append(static_cast<const char *>(run.iov[i].base), run.iov[i].len);
  }
  return out;
}

}  // namespace

bool Harness::step() {
  engine_->resume();  // what the handler side did since the last event (Connection::pump)
  if (engine_->take_shutdown_write()) shutdown_seen = true;  // the glue asks after every event
  http::OutputRun run = engine_->take_output();
  if (run.empty()) return false;
  wire += run_bytes(run);
  complete();
  return true;
}

void Harness::complete() {
  engine_->output_done(0);
  ++runs;
  if (engine_->take_shutdown_write()) shutdown_seen = true;
}

size_t Harness::pump() {
  size_t done = 0;
  while (step()) ++done;
  return done;
}

bool Harness::take_and_stall() {
  engine_->resume();
  http::OutputRun run = engine_->take_output();
  if (run.empty()) return false;
  stalled_ = run_bytes(run);
  return true;
}

void Harness::finish_stalled() {
  wire += stalled_;
  stalled_.clear();
  complete();
}

void Harness::fail_stalled(int err) {
  stalled_.clear();
  engine_->output_done(err);
  ++runs;
}

}  // namespace axle::enginetest
