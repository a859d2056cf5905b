// axle C++ SDK (internal): what every awaiter of one request needs from it —
// the host table, the worker, whether the request may still wait, and how to
// resume one of its coroutines from a host event.
#pragma once

#include <axle/module.h>
#include <axle/sdk/error.hpp>

#include <coroutine>
#include <string>
#include <string_view>

namespace axle::sdk::detail {

class Driver {
 public:
  Driver(const axle_host_api_t *api, axle_worker_t *worker) : api_(api), worker_(worker) {}
  Driver(const Driver &) = delete;
  Driver &operator=(const Driver &) = delete;

  const axle_host_api_t *api() const { return api_; }
  axle_worker_t *worker() const { return worker_; }

  // Throws unless the request can still wait for something: after finish
  // nothing would ever resume it (the host makes no call after finish).
  void check_can_wait(std::string_view what) const {
    if (finished_) throw Error(AXLE_ERR_INVALID, std::string(what) + " after the response was finished");
  }

  // From a host event (timer, hook, outgoing connection): resumes h, a
  // coroutine of this request that waited for it, then lets the request
  // settle. That may free the request, this Driver included: the caller
  // must not touch anything of the request afterwards.
  void resume(std::coroutine_handle<> h) noexcept {
    h.resume();
    settle_(settle_arg_);
  }

 protected:
  // Set by the glue that owns the request (handler.hpp / pending.hpp).
  void on_settle(void (*fn)(void *), void *arg) {
    settle_ = fn;
    settle_arg_ = arg;
  }
  void mark_finished() { finished_ = true; }
  bool finished() const { return finished_; }

 private:
  const axle_host_api_t *api_;
  axle_worker_t *worker_;
  void (*settle_)(void *) = nullptr;
  void *settle_arg_ = nullptr;
  bool finished_ = false;
};

// Writes `rest` through write(piece) in pieces of at most max_piece bytes
// until it is all
// taken (true), the host says AXLE_AGAIN (false: `rest` is what is left), or
// another status (true, status set).
template <class Write>
bool push_pieces(std::string_view &rest, axle_status_t &status, Write &&write) {
  // The smallest max_conn_output_bytes a host config allows: a bigger single
  // write could be refused outright (more than the connection may ever hold).
  constexpr size_t max_piece = 4096;
  while (!rest.empty()) {
    std::string_view piece = rest.substr(0, max_piece);
    axle_status_t st = write(piece);
    if (st == AXLE_AGAIN) return false;
    if (st != AXLE_OK) {
      status = st;
      return true;
    }
    rest.remove_prefix(piece.size());
  }
  return true;
}

}  // namespace axle::sdk::detail
