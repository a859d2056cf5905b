// A kept request as the module sees it (plugin-api handler.h, "life of a
// kept response"): the handle a module holds, the response it builds, and
// the hooks the engine's events reach it through.
//
// A kept handle is never a pointer a module could use after it ended: it is
// a slot index, the worker's index and a generation count in an odd-valued
// axle_response_t *, so a call with a finished or aborted handle, or from
// another worker's thread, is recognised and refused (the even-valued handles
// are the worker's Response during handle()).
#pragma once

#include "http/dispatcher.h"
#include "http/response.h"

#include <axle/handler.h>

#include <cstdint>
#include <vector>

namespace axle {

class Connection;
class Worker;

class Exchange final : public http::KeptRequest {
 public:
  Exchange(Worker &worker, Connection &conn, const axle_response_hooks_t *hooks, void *arg);

  // KeptRequest: the engine's events, relayed to the module's hooks.
  void abort(uint8_t reason) override;
  void writable() override;
  void body(const char *data, size_t len, bool last) override;

  // The module ended it (finish): forget the handle and free this.
  void release();

  Worker &worker;
  Connection &conn;
  http::Response response;  // status, headers and body set after keep, until begin or finish
  axle_response_t *handle = nullptr;
  // The head went out (response_begin): the engine keeps that state.
  bool begun() const;
  // The hooks take body bytes (on_body): required of a tunnel.
  bool takes_body() const;

 private:
  const axle_response_hooks_t *hooks_;
  void *arg_;
};

// One worker's kept handles. At most one kept request per connection, so it
// holds at most max_connections entries.
class ExchangeTable {
 public:
  explicit ExchangeTable(uint32_t worker_index) : worker_(worker_index & 0xffffu) {}
  static constexpr uint32_t kMaxSlots = 1u << 23;  // beyond max_connections' bound (1 << 20)
  axle_response_t *add(Exchange *ex);
  Exchange *find(axle_response_t *handle) const;  // null: unknown, finished or aborted
  void remove(axle_response_t *handle);
  static bool is_kept_handle(const axle_response_t *r) { return (reinterpret_cast<uintptr_t>(r) & 1u) != 0; }

 private:
  struct Slot {
    Exchange *ex = nullptr;
    uint32_t generation = 0;
  };
  struct Parts {
    uint32_t index, worker, generation;
  };
  static Parts parts(const axle_response_t *handle);
  uint32_t worker_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
};

// The host calls of ABI 1.2 for kept responses and the request context
// (host_api.cpp puts them in the table).
namespace exchange_api {
http::Response *resolve_kept(axle_response_t *r, const char *call, Exchange **kept);
// The response a response_* call means: the running handle()'s (the fast
// path, inline) or a kept one's (then *kept is set). nullptr after logging
// why, when misused.
inline http::Response *resolve(axle_response_t *r, const char *call, Exchange **kept = nullptr) {
  if (!ExchangeTable::is_kept_handle(r)) [[likely]] return static_cast<http::Response *>(r);
  return resolve_kept(r, call, kept);
}
axle_response_t *keep(axle_response_t *resp, const axle_response_hooks_t *hooks, void *arg);
axle_status_t begin(axle_response_t *resp, int64_t content_length);
axle_status_t write(axle_response_t *resp, const void *data, size_t len);
axle_status_t finish(axle_response_t *resp, const axle_header_t *trailers, uint32_t count);
axle_status_t close_connection(axle_response_t *resp);
axle_status_t early_hints(axle_response_t *resp, const axle_header_t *headers, uint32_t count);
axle_status_t body_pause(axle_response_t *resp, int paused);
axle_status_t cancel(axle_response_t *resp);
axle_status_t switch_protocols(axle_response_t *resp);  // since 1.3
axle_status_t address(axle_response_t *resp, axle_conn_end_t end, axle_address_t *out);
}  // namespace exchange_api

}  // namespace axle
