// Helpers for driving a handler module through the test host: a request
// built from plain strings, and a route that is torn down with its test.
#pragma once

#include "test_host.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace axle::test {

// An axle_request_t whose slices point into this object; keep it alive
// while the handler runs.
struct TestRequest {
  std::string method = "GET";
  std::string path = "/";
  std::string query;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> params;

  TestRequest() = default;
  TestRequest(std::string m, std::string p) : method(std::move(m)), path(std::move(p)) {}
  TestRequest &header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  TestRequest &param(std::string name, std::string value) {
    params.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  const axle_request_t &build(axle_worker_t *worker) {
    header_views_.clear();
    for (const auto &[n, v] : headers) header_views_.push_back({{n.data(), n.size()}, {v.data(), v.size()}});
    param_views_.clear();
    for (const auto &[n, v] : params) param_views_.push_back({{n.data(), n.size()}, {v.data(), v.size()}});
    target_ = query.empty() ? path : path + "?" + query;
    req_ = axle_request_t{};
    req_.struct_size = sizeof(axle_request_t);
    req_.method = {method.data(), method.size()};
    req_.method_bit = method_bit(method);
    req_.target = {target_.data(), target_.size()};
    req_.path = {path.data(), path.size()};
    req_.query = {query.data(), query.size()};
    req_.version_minor = 1;
    req_.headers = header_views_.data();
    req_.header_count = static_cast<uint32_t>(header_views_.size());
    req_.params = param_views_.data();
    req_.param_count = static_cast<uint32_t>(param_views_.size());
    req_.body = {body.data(), body.size()};
    req_.worker = worker;
    return req_;
  }

  static uint32_t method_bit(const std::string &m) {
    if (m == "GET") return AXLE_METHOD_GET;
    if (m == "HEAD") return AXLE_METHOD_HEAD;
    if (m == "POST") return AXLE_METHOD_POST;
    if (m == "PUT") return AXLE_METHOD_PUT;
    if (m == "DELETE") return AXLE_METHOD_DELETE;
    if (m == "PATCH") return AXLE_METHOD_PATCH;
    if (m == "OPTIONS") return AXLE_METHOD_OPTIONS;
    return AXLE_METHOD_OTHER;
  }

 private:
  std::vector<axle_header_t> header_views_;
  std::vector<axle_route_param_t> param_views_;
  std::string target_;
  axle_request_t req_{};
};

// One route of a handler module; route_fini runs on destruction.
class TestRoute {
 public:
  TestRoute(const LoadedModule &module, Instance &instance, axle_config_t cfg, std::string pattern = "/*")
      : module_(module), instance_(instance), cfg_(std::move(cfg)) {
    axle_error_t err;
    status_ = vtable().route_init(instance_.get(), &cfg_, {pattern.data(), pattern.size()}, &state_, &err);
    error_ = err.message;
  }
  ~TestRoute() {
    if (status_ == AXLE_OK) vtable().route_fini(instance_.get(), state_);
  }
  TestRoute(const TestRoute &) = delete;
  TestRoute &operator=(const TestRoute &) = delete;

  axle_status_t init_status() const { return status_; }
  const std::string &init_error() const { return error_; }

  // Runs handle(); the response owns whatever the module handed over and
  // releases lends when destroyed.
  std::unique_ptr<axle_response_t> serve(TestRequest &req, axle_status_t expect = AXLE_OK) {
    REQUIRE_MESSAGE(status_ == AXLE_OK, error_);
    auto resp = std::make_unique<axle_response_t>();
    CHECK(vtable().handle(state_, instance_.thread_ctx(), &req.build(&instance_.worker()), resp.get()) == expect);
    return resp;
  }

 private:
  const axle_handler_vtable_t &vtable() const { return module_.vtable<axle_handler_vtable_t>(); }

  const LoadedModule &module_;
  Instance &instance_;
  axle_config_t cfg_;
  void *state_ = nullptr;
  axle_status_t status_ = AXLE_ERR_INTERNAL;
  std::string error_;
};

}  // namespace axle::test
