// Where the HTTP engine's per-connection memory comes from: the worker's
// allocator module in the server, plain malloc in the engine's unit tests.
#pragma once

#include <cstddef>

namespace axle::http {

class Memory {
 public:
  virtual void *alloc(size_t size) = 0;  // nullptr when out of memory
  virtual void free(void *p, size_t size) = 0;

 protected:
  ~Memory() = default;
};

}  // namespace axle::http
