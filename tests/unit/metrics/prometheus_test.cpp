// metrics-prometheus through the test host: several fake workers, records fed
// by hand, the exposition parsed back and checked against sums kept here.
#include <axle/metrics.h>
#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "../support/test_host.h"
#include "exposition.h"

using axle::test::Exposition;
using axle::test::Labels;

namespace {

const axle::test::LoadedModule &module() {
  static axle::test::LoadedModule m(axle::test::module_path("metrics", "prometheus"));
  return m;
}

const axle_metrics_vtable_t &vt() { return module().vtable<axle_metrics_vtable_t>(); }

axle_str_t str(const std::string &s) { return {s.data(), s.size()}; }

// What describe() is told: route patterns and the generation's modules.
struct GenerationSpec {
  std::vector<std::string> routes = {"/ping", "/echo/{msg}", "/static/*"};
  struct Module {
    std::string kind, name, version, abi;
  };
  std::vector<Module> modules = {{"io", "epoll", "1.0.0", "1.0"}, {"metrics", "prometheus", "1.0.0", "1.0"}};
  uint32_t worker_count = 2;
};

// An instance described with a GenerationSpec; workers are started explicitly
// (on the calling thread) so tests choose how many and when.
class Metrics {
 public:
  explicit Metrics(const GenerationSpec &spec = {}, const axle_host_api_t *host = axle::test::host_api())
      : spec_(spec), workers_(spec.worker_count), ctx_(spec.worker_count) {
    axle_error_t err;
    REQUIRE(module().desc().create(host, &cfg_, &instance_, &err) == AXLE_OK);
    REQUIRE_MESSAGE(describe(err) == AXLE_OK, err.message);
    for (uint32_t i = 0; i < spec.worker_count; ++i) workers_[i].index = i;
  }
  ~Metrics() {
    for (uint32_t i = 0; i < ctx_.size(); ++i)
      if (ctx_[i]) stop(i);
    module().desc().destroy(instance_);
  }

  axle_status_t describe(axle_error_t &err) {
    labels_.clear();
    for (const std::string &r : spec_.routes) labels_.push_back(str(r));
    infos_.clear();
    for (const auto &m : spec_.modules) infos_.push_back({str(m.kind), str(m.name), str(m.version), str(m.abi)});
    axle_metrics_generation_t gen{sizeof gen,
                                  7,
                                  labels_.data(),
                                  static_cast<uint32_t>(labels_.size()),
                                  infos_.data(),
                                  static_cast<uint32_t>(infos_.size()),
                                  spec_.worker_count};
    return vt().describe(instance_, &gen, &err);
  }

  void *start(uint32_t w) {
    axle_error_t err;
    REQUIRE_MESSAGE(module().desc().thread_init(instance_, &workers_[w], &ctx_[w], &err) == AXLE_OK, err.message);
    REQUIRE(ctx_[w] != nullptr);
    return ctx_[w];
  }
  void stop(uint32_t w) {
    module().desc().thread_fini(instance_, ctx_[w]);
    ctx_[w] = nullptr;
  }
  void *ctx(uint32_t w) const { return ctx_[w]; }
  void *instance() const { return instance_; }
  axle_worker_t &worker(uint32_t w) { return workers_[w]; }

  std::string render_text() const {
    axle_response_t resp;
    REQUIRE(vt().render(instance_, &resp) == AXLE_OK);
    CHECK(resp.status == 200);
    CHECK(resp.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    return resp.body;
  }
  Exposition render() const {
    std::string text = render_text();
    Exposition e;
    std::string error;
    REQUIRE_MESSAGE(axle::test::parse_exposition(text, e, error), error << "\n--- exposition ---\n" << text);
    return e;
  }

 private:
  GenerationSpec spec_;
  axle_config_t cfg_;
  void *instance_ = nullptr;
  std::vector<axle_worker_t> workers_;
  std::vector<void *> ctx_;
  std::vector<axle_str_t> labels_;
  std::vector<axle_module_info_t> infos_;
};

void request(void *ctx, uint32_t route, uint16_t status, uint64_t duration_ns, uint64_t in = 0, uint64_t out = 0) {
  axle_request_record_t rec{sizeof rec, route, status, duration_ns, in, out};
  vt().request_done(ctx, &rec);
}

const std::vector<std::pair<std::string, uint64_t>> kBuckets = {
    {"0.00005", 50'000},       {"0.0001", 100'000},        {"0.00025", 250'000},     {"0.0005", 500'000},
    {"0.001", 1'000'000},      {"0.0025", 2'500'000},      {"0.005", 5'000'000},     {"0.01", 10'000'000},
    {"0.025", 25'000'000},     {"0.05", 50'000'000},       {"0.1", 100'000'000},     {"0.25", 250'000'000},
    {"0.5", 500'000'000},      {"1", 1'000'000'000},       {"2.5", 2'500'000'000},   {"5", 5'000'000'000},
    {"10", 10'000'000'000}};

// Expected per-route totals, kept independently of the module.
struct Expected {
  uint64_t classes[5] = {};
  std::vector<uint64_t> durations;
  uint64_t sum_ns = 0, in = 0, out = 0;
};

const char *const kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

// Checks one route's requests, histogram and byte counters against exp.
void check_route(const Exposition &e, const std::string &route, const Expected &exp) {
  INFO("route " << route);
  uint64_t total = 0;
  for (int c = 0; c < 5; ++c) {
    total += exp.classes[c];
    auto got = e.count("axle_http_requests_total", {{"route", route}, {"status_class", kClasses[c]}});
    if (exp.classes[c]) CHECK(got == exp.classes[c]);
    else CHECK_FALSE(got.has_value());  // a class appears once it has a request
  }
  CHECK(exp.durations.size() == total);
  uint64_t previous = 0;
  for (const auto &[label, bound] : kBuckets) {
    const std::string le = label;  // clang 14 cannot capture a structured binding in CHECK_MESSAGE
    uint64_t want = 0;
    for (uint64_t d : exp.durations) want += d <= bound ? 1 : 0;
    auto got = e.count("axle_http_request_duration_seconds_bucket", {{"route", route}, {"le", le}});
    REQUIRE(got.has_value());
    CHECK_MESSAGE(*got == want, "le=" << le);
    CHECK(*got >= previous);  // cumulative
    previous = *got;
  }
  auto inf = e.count("axle_http_request_duration_seconds_bucket", {{"route", route}, {"le", "+Inf"}});
  auto count = e.count("axle_http_request_duration_seconds_count", {{"route", route}});
  CHECK(inf == total);
  CHECK(count == total);
  auto sum = e.number("axle_http_request_duration_seconds_sum", {{"route", route}});
  REQUIRE(sum.has_value());
  CHECK(*sum == doctest::Approx(static_cast<double>(exp.sum_ns) / 1e9).epsilon(1e-12));
  CHECK(e.count("axle_http_request_bytes_total", {{"route", route}}) == exp.in);
  CHECK(e.count("axle_http_response_bytes_total", {{"route", route}}) == exp.out);
}

}  // namespace

TEST_SUITE("prometheus") {
  TEST_CASE("descriptor: kind metrics, name prometheus, every hook filled") {
    const axle_module_descriptor_t &d = module().desc();
    CHECK(d.struct_size == sizeof(axle_module_descriptor_t));
    CHECK(d.kind == AXLE_KIND_METRICS);
    CHECK(std::string(d.name) == "prometheus");
    CHECK(d.config_key_count == 0);
    REQUIRE((d.thread_init && d.thread_fini));
    const axle_metrics_vtable_t &v = vt();
    CHECK(v.struct_size == sizeof(axle_metrics_vtable_t));
    CHECK((v.describe && v.request_done && v.connection_opened && v.connection_closed && v.parse_error &&
           v.timeout && v.render));
  }

  TEST_CASE("requests across two workers sum exactly, per route and status class") {
    GenerationSpec spec;
    Metrics m(spec);
    void *w[2] = {m.start(0), m.start(1)};
    const uint16_t statuses[] = {200, 201, 304, 404, 500, 101, 204, 503, 302};
    // Durations on, just under and just over bucket bounds, and beyond 10s.
    const uint64_t durations[] = {1, 50'000, 50'001, 99'999, 250'000, 1'000'000, 7'000'000, 60'000'000,
                                  999'999'999, 1'000'000'001, 9'999'999'999, 10'000'000'000, 10'000'000'001,
                                  123'000'000'000};
    const uint32_t route_ids[] = {0, 1, 2, AXLE_ROUTE_NONE, 0, 0, 1, 99};  // 99: unknown id, counted as none
    std::map<std::string, Expected> expected;
    constexpr int kRequests = 1000;
    for (int i = 0; i < kRequests; ++i) {
      uint32_t route = route_ids[i % std::size(route_ids)];
      uint16_t status = statuses[i % std::size(statuses)];
      uint64_t duration = durations[i % std::size(durations)];
      uint64_t in = 40 + i % 7, out = 100 + i % 13;
      request(w[i % 2], route, status, duration, in, out);
      Expected &x = expected[route < spec.routes.size() ? spec.routes[route] : "none"];
      ++x.classes[status / 100 - 1];
      x.durations.push_back(duration);
      x.sum_ns += duration;
      x.in += in;
      x.out += out;
    }
    Exposition e = m.render();
    REQUIRE(expected.size() == 4);
    for (const auto &[route, exp] : expected) check_route(e, route, exp);

    // Nothing else: every requests_total sample is accounted for.
    uint64_t all = 0;
    for (const auto *s : e.all("axle_http_requests_total")) all += std::stoull(s->value);
    CHECK(all == kRequests);
    CHECK(e.families.at("axle_http_requests_total").type == "counter");
    CHECK(e.families.at("axle_http_request_duration_seconds").type == "histogram");
  }

  TEST_CASE("histogram bounds are inclusive (le) and exact sums stay exact") {
    Metrics m;
    void *w = m.start(0);
    request(w, 0, 200, 50'000);   // exactly 50µs: in le="0.00005"
    request(w, 0, 200, 50'001);   // just over: first in le="0.0001"
    request(w, 0, 200, 10'000'000'000);  // 10s: in le="10"
    request(w, 0, 200, 10'000'000'001);  // only +Inf
    Exposition e = m.render();
    auto bucket = [&](const char *le) {
      return e.count("axle_http_request_duration_seconds_bucket", {{"route", "/ping"}, {"le", le}});
    };
    CHECK(bucket("0.00005") == 1u);
    CHECK(bucket("0.0001") == 2u);
    CHECK(bucket("5") == 2u);
    CHECK(bucket("10") == 3u);
    CHECK(bucket("+Inf") == 4u);
    // 50µs + 50.001µs + 10s + 10.000000001s = 20.000100002s, written exactly (no float rounding).
    std::string text = m.render_text();
    CHECK(text.find("axle_http_request_duration_seconds_sum{route=\"/ping\"} 20.000100002\n") != std::string::npos);
  }

  TEST_CASE("connections, parse errors, timeouts, modules and workers") {
    Metrics m;
    void *w0 = m.start(0), *w1 = m.start(1);
    for (int i = 0; i < 5; ++i) vt().connection_opened(w0);
    for (int i = 0; i < 3; ++i) vt().connection_opened(w1);
    for (int i = 0; i < 2; ++i) vt().connection_closed(w0);
    vt().connection_closed(w1);
    vt().parse_error(w0, 400);
    vt().parse_error(w1, 400);
    vt().parse_error(w1, 431);
    vt().parse_error(w0, 9999);  // outside 100..599
    vt().timeout(w0, AXLE_TIMEOUT_HEADER);
    vt().timeout(w1, AXLE_TIMEOUT_HEADER);
    vt().timeout(w1, AXLE_TIMEOUT_IDLE);
    vt().timeout(w0, AXLE_TIMEOUT_WRITE);
    vt().timeout(w0, static_cast<axle_timeout_kind_t>(42));  // unknown kind: ignored
    Exposition e = m.render();
    CHECK(e.count("axle_connections_accepted_total") == 8u);
    CHECK(e.count("axle_connections_closed_total") == 3u);
    CHECK(e.count("axle_connections_open") == 5u);
    CHECK(e.families.at("axle_connections_open").type == "gauge");
    CHECK(e.count("axle_http_parse_errors_total", {{"status", "400"}}) == 2u);
    CHECK(e.count("axle_http_parse_errors_total", {{"status", "431"}}) == 1u);
    CHECK(e.count("axle_http_parse_errors_total", {{"status", "other"}}) == 1u);
    CHECK(e.all("axle_http_parse_errors_total").size() == 3);
    CHECK(e.count("axle_timeouts_total", {{"kind", "header"}}) == 2u);
    CHECK(e.count("axle_timeouts_total", {{"kind", "body"}}) == 0u);
    CHECK(e.count("axle_timeouts_total", {{"kind", "idle"}}) == 1u);
    CHECK(e.count("axle_timeouts_total", {{"kind", "write"}}) == 1u);
    CHECK(e.all("axle_timeouts_total").size() == 4);
    CHECK(e.count("axle_module_info", {{"kind", "io"}, {"name", "epoll"}, {"version", "1.0.0"}, {"abi", "1.0"}}) ==
          1u);
    CHECK(e.count("axle_module_info",
                  {{"kind", "metrics"}, {"name", "prometheus"}, {"version", "1.0.0"}, {"abi", "1.0"}}) == 1u);
    CHECK(e.all("axle_module_info").size() == 2);
    CHECK(e.count("axle_workers") == 2u);
    // No request yet: the request families are declared but have no series.
    CHECK(e.all("axle_http_requests_total").empty());
    CHECK(e.families.count("axle_http_request_duration_seconds") == 1);
  }

  TEST_CASE("every family has HELP and TYPE, in a fixed order") {
    Metrics m;
    request(m.start(0), 0, 200, 1000);
    Exposition e = m.render();
    const char *families[] = {"axle_http_requests_total",       "axle_http_request_duration_seconds",
                              "axle_http_request_bytes_total",  "axle_http_response_bytes_total",
                              "axle_connections_open",          "axle_connections_accepted_total",
                              "axle_connections_closed_total",  "axle_http_parse_errors_total",
                              "axle_timeouts_total",            "axle_module_info",
                              "axle_workers"};
    CHECK(e.families.size() == std::size(families));
    for (const char *f : families) {
      INFO(f);
      REQUIRE(e.families.count(f) == 1);
      CHECK_FALSE(e.families.at(f).help.empty());
    }
  }

  TEST_CASE("label values are escaped: backslash, double quote, newline") {
    GenerationSpec spec;
    spec.routes = {"/a\"b\\c\nd", "/plain"};
    spec.modules = {{"handler", "we\"ird\\na\nme", "1.0.0-\"rc\"", "1.0"}};
    Metrics m(spec);
    request(m.start(0), 0, 200, 1000, 10, 20);
    std::string text = m.render_text();
    CHECK(text.find("axle_http_requests_total{route=\"/a\\\"b\\\\c\\nd\",status_class=\"2xx\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("name=\"we\\\"ird\\\\na\\nme\"") != std::string::npos);
    Exposition e = m.render();  // parses back to the original bytes
    CHECK(e.count("axle_http_requests_total", {{"route", "/a\"b\\c\nd"}, {"status_class", "2xx"}}) == 1u);
    CHECK(e.count("axle_module_info",
                  {{"kind", "handler"}, {"name", "we\"ird\\na\nme"}, {"version", "1.0.0-\"rc\""}, {"abi", "1.0"}}) ==
          1u);
    // Every sample line is one line: no raw newline leaked out of a label.
    for (const auto &s : e.samples) CHECK(s.name.rfind("axle_", 0) == 0);
  }

  TEST_CASE("counts of a stopped worker stay; a restarted worker keeps counting") {
    Metrics m;
    void *w1 = m.start(1);
    request(w1, 1, 200, 1000);
    vt().connection_opened(w1);
    m.stop(1);
    Exposition e = m.render();
    CHECK(e.count("axle_http_requests_total", {{"route", "/echo/{msg}"}, {"status_class", "2xx"}}) == 1u);
    CHECK(e.count("axle_connections_accepted_total") == 1u);
    void *again = m.start(1);
    request(again, 1, 200, 1000);
    e = m.render();
    CHECK(e.count("axle_http_requests_total", {{"route", "/echo/{msg}"}, {"status_class", "2xx"}}) == 2u);
  }

  TEST_CASE("render before any worker started") {
    Metrics m;
    Exposition e = m.render();
    CHECK(e.count("axle_connections_open") == 0u);
    CHECK(e.count("axle_workers") == 2u);
    CHECK(e.all("axle_http_requests_total").empty());
  }

  TEST_CASE("contract violations are refused with a message, never a crash") {
    axle_config_t cfg;
    axle_error_t err;
    void *inst = nullptr;
    REQUIRE(module().desc().create(axle::test::host_api(), &cfg, &inst, &err) == AXLE_OK);
    axle_worker_t worker;
    void *ctx = nullptr;

    SUBCASE("worker before describe") {
      CHECK(module().desc().thread_init(inst, &worker, &ctx, &err) == AXLE_ERR_INVALID);
      CHECK(err.message.find("describe") != std::string::npos);
    }
    SUBCASE("bad generation descriptions") {
      CHECK(vt().describe(inst, nullptr, &err) == AXLE_ERR_INVALID);
      axle_metrics_generation_t gen{sizeof gen, 1, nullptr, 0, nullptr, 0, 0};
      CHECK(vt().describe(inst, &gen, &err) == AXLE_ERR_INVALID);  // no workers
      CHECK(err.message.find("workers") != std::string::npos);
      gen.worker_count = 1;
      gen.route_count = 3;  // but no labels
      CHECK(vt().describe(inst, &gen, &err) == AXLE_ERR_INVALID);
      gen.route_count = 0;
      gen.struct_size = 8;  // truncated
      CHECK(vt().describe(inst, &gen, &err) == AXLE_ERR_INVALID);
      gen.struct_size = sizeof gen;
      CHECK(vt().describe(inst, &gen, &err) == AXLE_OK);
      CHECK(vt().describe(inst, &gen, &err) == AXLE_ERR_INVALID);  // twice
      CHECK(err.message.find("twice") != std::string::npos);
    }
    SUBCASE("worker index out of range, or started twice") {
      axle_metrics_generation_t gen{sizeof gen, 1, nullptr, 0, nullptr, 0, 2};
      REQUIRE(vt().describe(inst, &gen, &err) == AXLE_OK);
      worker.index = 2;
      CHECK(module().desc().thread_init(inst, &worker, &ctx, &err) == AXLE_ERR_INVALID);
      CHECK(err.message.find("index 2") != std::string::npos);
      worker.index = 1;
      REQUIRE(module().desc().thread_init(inst, &worker, &ctx, &err) == AXLE_OK);
      void *second = nullptr;
      CHECK(module().desc().thread_init(inst, &worker, &second, &err) == AXLE_ERR_INVALID);
      CHECK(err.message.find("twice") != std::string::npos);
      module().desc().thread_fini(inst, ctx);
    }
    module().desc().destroy(inst);
  }
}

TEST_SUITE("concurrency") {
  // Two workers count on their own threads while this thread renders: every
  // render parses, totals never go backwards, the histogram stays coherent,
  // and the final render matches exactly. Run under ThreadSanitizer too.
  TEST_CASE("render while workers count") {
    Metrics m;
    constexpr int kPerWorker = 200'000;
    std::atomic<int> started{0};
    std::atomic<bool> go{false};
    std::atomic<int> finished{0};
    auto work = [&](uint32_t index) {
      void *ctx = m.start(index);
      started.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerWorker; ++i) {
        vt().connection_opened(ctx);
        request(ctx, static_cast<uint32_t>(i % 3), i % 10 == 0 ? 404 : 200, static_cast<uint64_t>(i) * 997, 50, 80);
        vt().connection_closed(ctx);
      }
      finished.fetch_add(1);
    };
    std::thread t0(work, 0), t1(work, 1);
    while (started.load() < 2) std::this_thread::yield();
    go.store(true);
    uint64_t last_total = 0, last_accepted = 0;
    int renders = 0;
    // Render at least a few times, and keep going until both writers finish.
    for (; renders < 5 || finished.load() < 2; ++renders) {
      Exposition e = m.render();
      uint64_t total = 0;
      for (const auto *s : e.all("axle_http_requests_total")) total += std::stoull(s->value);
      CHECK(total >= last_total);
      last_total = total;
      auto accepted = e.count("axle_connections_accepted_total");
      auto closed = e.count("axle_connections_closed_total");
      auto open = e.count("axle_connections_open");
      REQUIRE((accepted && closed && open));
      CHECK(*accepted >= last_accepted);
      CHECK(*accepted >= *closed);
      CHECK(*open == *accepted - *closed);
      last_accepted = *accepted;
      for (const char *route : {"/ping", "/echo/{msg}", "/static/*"}) {
        auto count = e.count("axle_http_request_duration_seconds_count", {{"route", route}});
        if (!count) continue;
        uint64_t previous = 0;
        for (const auto &[le, bound] : kBuckets) {
          auto b = e.count("axle_http_request_duration_seconds_bucket", {{"route", route}, {"le", le}});
          REQUIRE(b.has_value());
          CHECK(*b >= previous);
          previous = *b;
        }
        CHECK(e.count("axle_http_request_duration_seconds_bucket", {{"route", route}, {"le", "+Inf"}}) == count);
      }
    }
    t0.join();
    t1.join();
    Exposition e = m.render();
    uint64_t total = 0;
    for (const auto *s : e.all("axle_http_requests_total")) total += std::stoull(s->value);
    CHECK(total == 2u * kPerWorker);
    CHECK(e.count("axle_connections_open") == 0u);
    CHECK(e.count("axle_http_requests_total", {{"route", "/ping"}, {"status_class", "4xx"}}) ==
          2u * (kPerWorker / 30 + (kPerWorker % 30 ? 1 : 0)));
    MESSAGE("renders while counting: " << renders);
  }
}

// Module metrics as the host reports them (metrics_collect), rendered after
// the kernel's own series. A host table copied from the test host, with a
// metrics_collect that visits these samples.
namespace {

struct FakeMetric {
  axle_metric_kind_t kind;
  std::string module, name, help;
  int64_t value = 0;
  std::vector<uint64_t> bounds{}, counts{};  // counts cumulative
  uint64_t count = 0, sum = 0;
};

std::vector<FakeMetric> &fake_metrics() {
  static std::vector<FakeMetric> all;
  return all;
}

void fake_collect(axle_metric_visit_fn visit, void *arg) {
  for (const FakeMetric &f : fake_metrics()) {
    axle_metric_sample_t s{};
    s.struct_size = sizeof s;
    s.kind = f.kind;
    s.module = str(f.module);
    s.name = str(f.name);
    s.help = str(f.help);
    s.value = f.value;
    s.bucket_bounds = f.bounds.data();
    s.bucket_counts = f.counts.data();
    s.bucket_count = static_cast<uint32_t>(f.bounds.size());
    s.count = f.count;
    s.sum = f.sum;
    visit(arg, &s);
  }
}

const axle_host_api_t *host_with_metrics() {
  static axle_host_api_t host = [] {
    axle_host_api_t h = *axle::test::host_api();
    // Grown to 1.2's metric slots (the ones filled below; those before them stay NULL).
    h.struct_size = offsetof(axle_host_api_t, response_cancel);
    h.abi_minor = 2;
    h.metrics_collect = fake_collect;
    return h;
  }();
  return &host;
}

}  // namespace

TEST_SUITE("prometheus") {
  TEST_CASE("module metrics: one family per name, a series per module, histograms cumulative with +Inf") {
    fake_metrics() = {
        {AXLE_METRIC_COUNTER, "uring", "axle_uring_sqes_submitted_total", "SQEs submitted.", 42},
        {AXLE_METRIC_COUNTER, "pool", "axle_alloc_remote_frees_total", "Frees from another thread.", 7},
        {AXLE_METRIC_COUNTER, "hugepages", "axle_alloc_remote_frees_total", "Frees from another thread.", 9},
        {AXLE_METRIC_GAUGE, "we\"ird", "axle_test_level", "Back\\slash and\nnewline.", -5},
        {AXLE_METRIC_HISTOGRAM, "echo", "axle_echo_body_bytes", "Body sizes.", 0, {10, 100}, {3, 5}, 6, 1234},
        // Collisions: our own family, and a histogram's _count: left out.
        {AXLE_METRIC_GAUGE, "rogue", "axle_workers", "Not the workers.", 99},
        {AXLE_METRIC_COUNTER, "rogue", "axle_echo_body_bytes_count", "Clash.", 1},
    };
    Metrics m({}, host_with_metrics());
    request(m.start(0), 0, 200, 1000);
    std::string text = m.render_text();
    Exposition e = m.render();
    CHECK(e.count("axle_uring_sqes_submitted_total", {{"module", "uring"}}) == 42u);
    CHECK(e.families.at("axle_uring_sqes_submitted_total").type == "counter");
    CHECK(e.count("axle_alloc_remote_frees_total", {{"module", "pool"}}) == 7u);
    CHECK(e.count("axle_alloc_remote_frees_total", {{"module", "hugepages"}}) == 9u);
    CHECK(e.number("axle_test_level", {{"module", "we\"ird"}}) == -5.0);
    CHECK(e.families.at("axle_test_level").help == "Back\\\\slash and\\nnewline.");
    CHECK(e.families.at("axle_echo_body_bytes").type == "histogram");
    CHECK(e.count("axle_echo_body_bytes_bucket", {{"module", "echo"}, {"le", "10"}}) == 3u);
    CHECK(e.count("axle_echo_body_bytes_bucket", {{"module", "echo"}, {"le", "100"}}) == 5u);
    CHECK(e.count("axle_echo_body_bytes_bucket", {{"module", "echo"}, {"le", "+Inf"}}) == 6u);
    CHECK(e.count("axle_echo_body_bytes_count", {{"module", "echo"}}) == 6u);
    CHECK(e.count("axle_echo_body_bytes_sum", {{"module", "echo"}}) == 1234u);
    CHECK(e.count("axle_workers") == 2u);  // ours, unlabelled
    CHECK_FALSE(e.count("axle_workers", {{"module", "rogue"}}).has_value());
    CHECK(e.all("axle_echo_body_bytes_count").size() == 1);
    // After the kernel's own series.
    CHECK(text.find("# HELP axle_uring_sqes_submitted_total") > text.find("# HELP axle_workers"));
    fake_metrics().clear();
  }

  TEST_CASE("a host without metrics_collect (1.1) renders only the kernel's series") {
    axle_host_api_t old = *axle::test::host_api();
    old.struct_size = offsetof(axle_host_api_t, response_keep);  // a 1.1 host
    old.metrics_collect = fake_collect;  // beyond struct_size: must not be read
    fake_metrics() = {{AXLE_METRIC_COUNTER, "uring", "axle_uring_sqes_submitted_total", "x", 1}};
    Metrics m({}, &old);
    Exposition e = m.render();
    CHECK(e.families.count("axle_uring_sqes_submitted_total") == 0);
    fake_metrics().clear();
  }
}
