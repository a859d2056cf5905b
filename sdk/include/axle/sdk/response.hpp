// axle C++ SDK: builds the response of one handle() call through the host.
// Each call throws Error when the host refuses it; the SDK turns that into
// the handler's status (the host then answers 500).
#pragma once

#include <axle/handler.h>
#include <axle/sdk/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace axle::sdk {

class Response {
 public:
  Response(const axle_host_api_t *api, axle_response_t *resp) : api_(api), resp_(resp) {}

  // Without a call, the status is 200. A code outside 100-599 throws.
  Response &status(unsigned code) {
    if (code < 100 || code > 599) throw Error(AXLE_ERR_INVALID, "HTTP status " + std::to_string(code) + " out of range");
    api_->response_set_status(resp_, static_cast<uint16_t>(code));
    return *this;
  }
  // The host copies name and value. It writes Date, Content-Length or
  // Transfer-Encoding, and Connection itself.
  Response &header(std::string_view name, std::string_view value) {
    check(api_->response_add_header(resp_, {name.data(), name.size()}, {value.data(), value.size()}),
          "response header refused");
    return *this;
  }
  // The host copies the bytes.
  Response &body_copy(std::string_view bytes) {
    check(api_->response_body_copy(resp_, bytes.data(), bytes.size()), "response body refused");
    return *this;
  }
  // Sends bytes that stay valid and unchanged for the route's whole life
  // (e.g. built in route_init), without copying.
  Response &body_lend(std::string_view stable_bytes) {
    check(api_->response_body_lend(resp_, stable_bytes.data(), stable_bytes.size(), nullptr, nullptr),
          "response body refused");
    return *this;
  }
  // Sends `bytes` without copying; the host calls release(release_arg) exactly
  // once when it no longer needs them, also when this call fails.
  Response &body_lend(std::string_view bytes, axle_release_fn release, void *release_arg) {
    check(api_->response_body_lend(resp_, bytes.data(), bytes.size(), release, release_arg),
          "response body refused");
    return *this;
  }
  // Hands a string over to the host, which frees it once sent.
  Response &body_own(std::string bytes) {
    auto *owned = new std::string(std::move(bytes));
    return body_lend(*owned, [](void *arg) { delete static_cast<std::string *>(arg); }, owned);
  }
  // Sends [offset, offset + length) of an open file with sendfile. The host
  // takes the descriptor over (and closes it) whatever happens.
  Response &file(int fd, uint64_t offset, uint64_t length) {
    check(api_->response_body_file(resp_, fd, offset, length), "response file refused");
    return *this;
  }

  axle_response_t *raw() const { return resp_; }
  const axle_host_api_t *api() const { return api_; }

 private:
  const axle_host_api_t *api_;
  axle_response_t *resp_;
};

}  // namespace axle::sdk
