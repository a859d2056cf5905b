// A connection's unconsumed input: allocator memory that grows by doubling
// up to a hard cap and is freed whenever it empties, so an idle connection
// holds none.
#pragma once

#include "http/memory.h"

#include <cstddef>

namespace axle::http {

class InputBuffer {
 public:
  static constexpr size_t kInitialBytes = 4096;

  explicit InputBuffer(Memory &memory) : memory_(memory) {}
  ~InputBuffer() { release(); }
  InputBuffer(const InputBuffer &) = delete;
  InputBuffer &operator=(const InputBuffer &) = delete;

  enum class Append { Ok, OverCap, NoMemory };
  // Appends bytes; the buffer never grows past cap.
  Append append(const char *data, size_t len, size_t cap);
  // True when appending len bytes needs a larger allocation.
  bool must_grow(size_t len) const { return size_ + len > capacity_; }
  void consume(size_t n);  // drops the first n bytes
  void release();

  char *data() { return data_; }
  size_t size() const { return size_; }
  size_t *size_ptr() { return &size_; }  // for in-place decoders that shrink it
  size_t capacity() const { return capacity_; }

 private:
  Memory &memory_;
  char *data_ = nullptr;
  size_t size_ = 0, capacity_ = 0;
};

}  // namespace axle::http
