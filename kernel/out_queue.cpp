#include "out_queue.h"

#include "worker.h"

#include <unistd.h>

#include <cstring>
#include <new>

namespace axle {

struct OutQueue::Block {
  uint32_t refs;
  uint32_t used;
  uint32_t capacity;
  char data[];
};

namespace {
constexpr uint32_t kBlockBytes = 4096;  // one allocation holds many response heads
constexpr uint32_t kInitialSegments = 8;
}  // namespace

OutQueue::~OutQueue() { clear(); }

OutQueue::Segment *OutQueue::push() {
  if (count_ == capacity_) {
    uint32_t new_capacity = capacity_ ? capacity_ * 2 : kInitialSegments;
    auto *bigger = static_cast<Segment *>(worker_.alloc(new_capacity * sizeof(Segment)));
    if (!bigger) return nullptr;
    for (uint32_t i = 0; i < count_; ++i) new (&bigger[i]) Segment(at(i));
    if (ring_) worker_.free(ring_, capacity_ * sizeof(Segment));
    ring_ = bigger;
    capacity_ = new_capacity;
    head_ = 0;
  }
  Segment *s = new (&ring_[(head_ + count_) & (capacity_ - 1)]) Segment();
  ++count_;
  return s;
}

bool OutQueue::append_copy(std::string_view bytes) {
  while (!bytes.empty()) {
    if (!tail_block_ || tail_block_->used == tail_block_->capacity) {
      if (tail_block_) unref(tail_block_);
      uint32_t cap = static_cast<uint32_t>(std::max<size_t>(kBlockBytes, bytes.size() + sizeof(Block))) -
                     sizeof(Block);
      tail_block_ = static_cast<Block *>(worker_.alloc(sizeof(Block) + cap));
      if (!tail_block_) return false;
      tail_block_->refs = 1;  // the queue's own ref while it is the tail
      tail_block_->used = 0;
      tail_block_->capacity = cap;
    }
    size_t n = std::min<size_t>(bytes.size(), tail_block_->capacity - tail_block_->used);
    char *dst = tail_block_->data + tail_block_->used;
    std::memcpy(dst, bytes.data(), n);
    tail_block_->used += static_cast<uint32_t>(n);
    // Extend the last segment when it is the same block's bytes and not in flight.
    Segment *last = count_ > in_flight_ ? &at(count_ - 1) : nullptr;
    if (last && last->block == tail_block_ && last->ptr + last->len == dst) {
      last->len += n;
    } else {
      Segment *s = push();
      if (!s) return false;
      s->ptr = dst;
      s->len = n;
      s->block = tail_block_;
      ++tail_block_->refs;
    }
    pending_bytes_ += n;
    bytes.remove_prefix(n);
  }
  return true;
}

bool OutQueue::append_lent(const char *data, size_t len, axle_release_fn release, void *arg) {
  Segment *s = push();
  if (!s) {
    if (release) release(arg);
    return false;
  }
  s->ptr = data;
  s->len = len;
  s->release = release;
  s->release_arg = arg;
  pending_bytes_ += len;
  return true;
}

bool OutQueue::append_owned(void *block, size_t block_size, size_t len) {
  Segment *s = push();
  if (!s) {
    worker_.free(block, block_size);
    return false;
  }
  s->ptr = static_cast<const char *>(block);
  s->len = len;
  s->owned = block;
  s->owned_size = block_size;
  pending_bytes_ += len;
  return true;
}

bool OutQueue::append_file(int fd, uint64_t offset, uint64_t length) {
  Segment *s = push();
  if (!s) {
    ::close(fd);
    return false;
  }
  s->fd = fd;
  s->file_offset = offset;
  s->len = length;
  pending_bytes_ += length;
  return true;
}

bool OutQueue::flush(const axle_io_vtable_t *io, void *loop, void *io_conn) {
  if (in_flight_ || count_ == 0) return true;
  // The tail block stops taking bytes once part of it is in flight.
  if (tail_block_) {
    unref(tail_block_);
    tail_block_ = nullptr;
  }
  Segment &first = at(0);
  axle_iov_t *iov = worker_.iov_scratch;  // borrowed by send() for the call only
  if (first.fd >= 0) {
    in_flight_ = 1;
    if (first.len == 0) return io->send(loop, io_conn, iov, 0) == AXLE_OK;
    return io->sendfile(loop, io_conn, first.fd, first.file_offset, first.len) == AXLE_OK;
  }
  uint32_t n = 0;
  while (n < count_ && n < Worker::kMaxIov && at(n).fd < 0) {
    iov[n] = {at(n).ptr, at(n).len};
    ++n;
  }
  in_flight_ = n;
  return io->send(loop, io_conn, iov, n) == AXLE_OK;
}

void OutQueue::complete_in_flight() {
  for (uint32_t i = 0; i < in_flight_; ++i) {
    Segment &s = at(0);
    pending_bytes_ -= s.len;
    release(s);
    head_ = (head_ + 1) & (capacity_ - 1);
    --count_;
  }
  in_flight_ = 0;
  if (count_ == 0 && ring_) {  // idle connections hold no queue memory
    worker_.free(ring_, capacity_ * sizeof(Segment));
    ring_ = nullptr;
    capacity_ = head_ = 0;
  }
}

void OutQueue::clear() {
  while (count_) {
    release(at(0));
    head_ = (head_ + 1) & (capacity_ - 1);
    --count_;
  }
  in_flight_ = 0;
  pending_bytes_ = 0;
  if (tail_block_) {
    unref(tail_block_);
    tail_block_ = nullptr;
  }
  if (ring_) {
    worker_.free(ring_, capacity_ * sizeof(Segment));
    ring_ = nullptr;
    capacity_ = head_ = 0;
  }
}

void OutQueue::release(Segment &s) {
  if (s.block) unref(s.block);
  if (s.owned) worker_.free(s.owned, s.owned_size);
  if (s.release) s.release(s.release_arg);
  if (s.fd >= 0) ::close(s.fd);
  s = Segment();
}

void OutQueue::unref(Block *b) {
  if (--b->refs == 0) worker_.free(b, sizeof(Block) + b->capacity);
}

}  // namespace axle
