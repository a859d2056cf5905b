#include "http/out_queue.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace axle::http {

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

OutQueue::~OutQueue() {
  clear();
  if (spare_block_) memory_.free(spare_block_, sizeof(Block) + spare_block_->capacity);
}

OutQueue::Segment *OutQueue::push() {
  if (count_ == capacity_) {
    uint32_t new_capacity = capacity_ ? capacity_ * 2 : kInitialSegments;
    auto *bigger = static_cast<Segment *>(memory_.alloc(new_capacity * sizeof(Segment)));
    if (!bigger) return nullptr;
    for (uint32_t i = 0; i < count_; ++i) new (&bigger[i]) Segment(at(i));
    if (ring_) memory_.free(ring_, capacity_ * sizeof(Segment));
    ring_ = bigger;
    capacity_ = new_capacity;
    head_ = 0;
  }
  Segment *s = new (&ring_[(head_ + count_) & (capacity_ - 1)]) Segment();
  ++count_;
  return s;
}

char *OutQueue::reserve(size_t n) {
  if (tail_block_ && tail_block_->capacity - tail_block_->used >= n) return tail_block_->data + tail_block_->used;
  if (tail_block_) unref(tail_block_);
  size_t cap = std::max<size_t>(kBlockBytes - sizeof(Block), n);
  if (spare_block_ && spare_block_->capacity >= cap) {
    tail_block_ = spare_block_;  // the last drained block, reused instead of allocating
    spare_block_ = nullptr;
    cap = tail_block_->capacity;
  } else {
    tail_block_ = static_cast<Block *>(memory_.alloc(sizeof(Block) + cap));
  }
  if (!tail_block_) return nullptr;
  tail_block_->refs = 1;  // the queue's own ref while it is the tail
  tail_block_->used = 0;
  tail_block_->capacity = static_cast<uint32_t>(cap);
  memory_bytes_ += sizeof(Block) + cap;
  return tail_block_->data;
}

bool OutQueue::commit(size_t n) {
  if (n == 0) return true;
  char *dst = tail_block_->data + tail_block_->used;
  tail_block_->used += static_cast<uint32_t>(n);
  pending_bytes_ += n;
  // Extend the last segment when it is the same block's bytes and not in flight.
  Segment *last = count_ > in_flight_ ? &at(count_ - 1) : nullptr;
  if (last && last->block == tail_block_ && last->ptr + last->len == dst) {
    last->len += n;
    return true;
  }
  Segment *s = push();
  if (!s) return false;
  s->ptr = dst;
  s->len = n;
  s->block = tail_block_;
  ++tail_block_->refs;
  return true;
}

bool OutQueue::append_copy(std::string_view bytes) {
  char *dst = reserve(bytes.size());
  if (!dst) return false;
  std::memcpy(dst, bytes.data(), bytes.size());
  return commit(bytes.size());
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
    memory_.free(block, block_size);
    return false;
  }
  s->ptr = static_cast<const char *>(block);
  s->len = len;
  s->owned = block;
  s->owned_size = block_size;
  pending_bytes_ += len;
  memory_bytes_ += block_size;
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
  ++files_;
  return true;
}

OutputRun OutQueue::next_run(axle_iov_t *iov, uint32_t max_iov, uint64_t file_step) {
  OutputRun run;
  if (in_flight_ || count_ == 0) return run;
  // The tail block stops taking bytes once part of it is in flight.
  if (tail_block_) {
    unref(tail_block_);
    tail_block_ = nullptr;
  }
  Segment &first = at(0);
  if (first.fd >= 0) {
    in_flight_ = 1;
    file_step_ = std::min(first.len, file_step);
    run.file_fd = first.fd;
    run.file_offset = first.file_offset;
    run.file_length = file_step_;
    return run;
  }
  uint32_t n = 0;
  while (n < count_ && n < max_iov && at(n).fd < 0) {
    iov[n] = {at(n).ptr, static_cast<size_t>(at(n).len)};
    ++n;
  }
  in_flight_ = n;
  run.iov = iov;
  run.iov_count = n;
  return run;
}

void OutQueue::complete_in_flight() {
  if (file_step_ && file_step_ < at(0).len) {
    // A step of a longer range: the segment stays, past what went out.
    Segment &s = at(0);
    s.file_offset += file_step_;
    s.len -= file_step_;
    pending_bytes_ -= file_step_;
    file_step_ = 0;
    in_flight_ = 0;
    return;
  }
  file_step_ = 0;
  for (uint32_t i = 0; i < in_flight_; ++i) {
    Segment &s = at(0);
    pending_bytes_ -= s.len;
    release(s);
    head_ = (head_ + 1) & (capacity_ - 1);
    --count_;
  }
  in_flight_ = 0;
  // The ring stays for the next response: it lives as long as the queue,
  // which an idle connection does not keep (see Engine::Work).
}

void OutQueue::clear() {
  while (count_) {
    release(at(0));
    head_ = (head_ + 1) & (capacity_ - 1);
    --count_;
  }
  in_flight_ = 0;
  file_step_ = 0;
  pending_bytes_ = 0;
  if (tail_block_) {
    unref(tail_block_);
    tail_block_ = nullptr;
  }
  if (ring_) {
    memory_.free(ring_, capacity_ * sizeof(Segment));
    ring_ = nullptr;
    capacity_ = head_ = 0;
  }
}

void OutQueue::release(Segment &s) {
  if (s.block) unref(s.block);
  if (s.owned) {
    memory_.free(s.owned, s.owned_size);
    memory_bytes_ -= s.owned_size;
  }
  if (s.release) s.release(s.release_arg);
  if (s.fd >= 0) {
    ::close(s.fd);
    --files_;
  }
  s = Segment();
}

void OutQueue::unref(Block *b) {
  if (--b->refs != 0) return;
  memory_bytes_ -= sizeof(Block) + b->capacity;
  // One standard block is kept for the next response: a fresh 4 KiB block
  // per response would cost an allocation and scatter the allocator's heap
  // between long-lived connection objects.
  if (!spare_block_ && b->capacity == kBlockBytes - sizeof(Block)) spare_block_ = b;
  else memory_.free(b, sizeof(Block) + b->capacity);
}

}  // namespace axle::http
