// The kernel's side of the host services table (axle_host_api_t) and the
// concrete types behind the ABI's opaque handles.
#pragma once

#include <axle/module.h>

#include <string>

// Where a module writes why a call failed.
struct axle_error_t {
  std::string message;
};

// Empty bases: the kernel's Worker and Response derive from them, so the
// handles a module holds are the kernel objects themselves.
struct axle_worker_t {};
struct axle_response_t {};

namespace axle {

const axle_host_api_t *host_api();

// Monotonic milliseconds from a coarse clock (vDSO, no syscall).
uint64_t coarse_now_ms();

}  // namespace axle
