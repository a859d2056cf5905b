// axle C++ SDK: a read-only view of the request a handler serves.
#pragma once

#include <axle/handler.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace axle::sdk {

inline std::string_view view(axle_str_t s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }

// Every view points into host memory that is valid only during handle():
// copy what must outlive the call.
class Request {
 public:
  explicit Request(const axle_request_t *req) : req_(req) {}

  std::string_view method() const { return view(req_->method); }
  // AXLE_METHOD_* bit of method(), cheaper to compare than the text.
  uint32_t method_bit() const { return req_->method_bit; }
  // The request-target as sent.
  std::string_view target() const { return view(req_->target); }
  // Percent-decoded, dot segments removed; always starts with '/'.
  std::string_view path() const { return view(req_->path); }
  // Raw query, without '?'.
  std::string_view query() const { return view(req_->query); }
  // Whole body, chunked encoding already decoded.
  std::string_view body() const { return view(req_->body); }
  // HTTP/1.<minor>
  unsigned version_minor() const { return req_->version_minor; }

  // First header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const {
    const axle_header_t *h = axle_request_find_header(req_, name.data(), name.size());
    if (!h) return std::nullopt;
    return view(h->value);
  }
  std::span<const axle_header_t> headers() const {
    return req_->header_count ? std::span(req_->headers, req_->header_count) : std::span<const axle_header_t>();
  }

  // Path parameter of the route pattern ("{name}", or "*" for a wildcard), or nullopt.
  std::optional<std::string_view> param(std::string_view name) const {
    for (uint32_t i = 0; i < req_->param_count; ++i)
      if (view(req_->params[i].name) == name) return view(req_->params[i].value);
    return std::nullopt;
  }

  // The C struct, for fields this class does not wrap. Like every accessor
  // here, read a field appended after 1.0 only after
  // AXLE_STRUCT_HAS(raw(), axle_request_t, field): an older host's struct is
  // shorter (plugin-api/ABI.md, "Reading a struct from the other side").
  const axle_request_t *raw() const { return req_; }

 private:
  const axle_request_t *req_;
};

}  // namespace axle::sdk
