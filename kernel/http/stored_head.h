// A request head whose body is still arriving, kept as offsets from the
// head's first byte: the input buffer may move while the body arrives, and
// the worker's header scratch is reused by other connections meanwhile, so
// the head is never parsed twice.
#pragma once

#include "http/memory.h"
#include "http/semantics.h"

#include <axle/parser.h>

#include <cstddef>
#include <cstdint>

namespace axle::http {

class StoredHead {
 public:
  // Copies head's slices (which point into base) as offsets. nullptr when out of memory.
  static StoredHead *store(Memory &memory, const axle_request_head_t &head, const HeadInfo &info,
                           const char *base, size_t head_len);
  // Rebuilds the head's slices over base (where the head's bytes are now),
  // writing header fields into headers (at least header_count entries).
  void restore(const char *base, axle_header_t *headers, uint32_t capacity, axle_request_head_t &head) const;
  static void destroy(Memory &memory, StoredHead *s);

  const HeadInfo &info() const { return info_; }
  uint32_t head_len() const { return head_len_; }
  size_t bytes() const { return bytes_; }  // allocation size

 private:
  struct Slice {
    uint32_t off, len;
  };
  HeadInfo info_;
  size_t bytes_;
  uint32_t head_len_;
  uint32_t header_count_;
  uint8_t version_major_, version_minor_;
  Slice method_, target_, path_, query_;
  Slice fields_[];  // name, value per header
};

}  // namespace axle::http
