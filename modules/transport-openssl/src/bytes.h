// A growable byte buffer for ciphertext: unlike std::string its tail can be
// written in place (reserve, then extend) without zero-filling it first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>

namespace axle::tls {

class Bytes {
 public:
  char *data() { return buf_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return cap_; }
  void clear() { size_ = 0; }
  void truncate(size_t n) { size_ = std::min(size_, n); }
  void reserve(size_t n) {
    if (n <= cap_) return;
    std::unique_ptr<char[]> b(new char[n]);  // uninitialised: only [0, size_) is ever read
    if (size_) std::memcpy(b.get(), buf_.get(), size_);
    buf_ = std::move(b);
    cap_ = n;
  }
  // n more bytes at the end, for the caller to write; valid until the next growth.
  char *extend(size_t n) {
    if (size_ + n > cap_) reserve(std::max(cap_ * 2, size_ + n));
    char *p = buf_.get() + size_;
    size_ += n;
    return p;
  }
  void append(const char *p, size_t n) {
    if (n) std::memcpy(extend(n), p, n);
  }
  void swap(Bytes &o) {
    buf_.swap(o.buf_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
  }
  void release() {  // an idle connection holds no buffer
    buf_.reset();
    size_ = cap_ = 0;
  }

 private:
  std::unique_ptr<char[]> buf_;
  size_t size_ = 0, cap_ = 0;
};

}  // namespace axle::tls
