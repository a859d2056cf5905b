#include "http/input_buffer.h"

#include <algorithm>
#include <cstring>

namespace axle::http {

InputBuffer::Append InputBuffer::append(const char *data, size_t len, size_t cap) {
  if (len == 0) return Append::Ok;
  size_t need = size_ + len;
  if (need > cap) return Append::OverCap;
  if (need > capacity_) {
    size_t bigger_cap = capacity_ ? capacity_ : kInitialBytes;
    while (bigger_cap < need) bigger_cap *= 2;
    bigger_cap = std::min(bigger_cap, cap);
    char *bigger = static_cast<char *>(memory_.alloc(bigger_cap));
    if (!bigger) return Append::NoMemory;
    if (size_) std::memcpy(bigger, data_, size_);
    if (data_) memory_.free(data_, capacity_);
    data_ = bigger;
    capacity_ = bigger_cap;
  }
  std::memcpy(data_ + size_, data, len);
  size_ += len;
  return Append::Ok;
}

void InputBuffer::consume(size_t n) {
  if (n == 0) return;
  if (n >= size_) {
    release();
    return;
  }
  std::memmove(data_, data_ + n, size_ - n);
  size_ -= n;
}

void InputBuffer::release() {
  if (data_) memory_.free(data_, capacity_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

}  // namespace axle::http
