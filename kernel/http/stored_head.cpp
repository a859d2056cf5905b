#include "http/stored_head.h"

#include <new>

namespace axle::http {

StoredHead *StoredHead::store(Memory &memory, const axle_request_head_t &head, const HeadInfo &info,
                              const char *base, size_t head_len) {
  size_t bytes = sizeof(StoredHead) + 2 * head.header_count * sizeof(Slice);
  void *mem = memory.alloc(bytes);
  if (!mem) return nullptr;
  auto *s = new (mem) StoredHead();
  auto slice = [base](axle_str_t v) {
    return Slice{v.len ? static_cast<uint32_t>(v.ptr - base) : 0, static_cast<uint32_t>(v.len)};
  };
  s->info_ = info;
  s->bytes_ = bytes;
  s->head_len_ = static_cast<uint32_t>(head_len);
  s->header_count_ = head.header_count;
  s->version_major_ = head.version_major;
  s->version_minor_ = head.version_minor;
  s->method_ = slice(head.method);
  s->target_ = slice(head.target);
  s->path_ = slice(head.path);
  s->query_ = slice(head.query);
  for (uint32_t i = 0; i < head.header_count; ++i) {
    s->fields_[2 * i] = slice(head.headers[i].name);
    s->fields_[2 * i + 1] = slice(head.headers[i].value);
  }
  return s;
}

void StoredHead::restore(const char *base, axle_header_t *headers, uint32_t capacity,
                         axle_request_head_t &head) const {
  auto str = [base](Slice s) { return axle_str_t{base + s.off, s.len}; };
  head.struct_size = sizeof head;
  head.method = str(method_);
  head.target = str(target_);
  head.path = str(path_);
  head.query = str(query_);
  head.version_major = version_major_;
  head.version_minor = version_minor_;
  head.headers = headers;
  head.header_capacity = capacity;
  head.header_count = header_count_;
  for (uint32_t i = 0; i < header_count_; ++i) headers[i] = {str(fields_[2 * i]), str(fields_[2 * i + 1])};
}

void StoredHead::destroy(Memory &memory, StoredHead *s) {
  if (!s) return;
  size_t bytes = s->bytes_;
  s->~StoredHead();
  memory.free(s, bytes);
}

}  // namespace axle::http
