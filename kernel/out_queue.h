// A connection's outgoing bytes: a FIFO of segments (kernel-owned bytes,
// module-lent bytes, file ranges) sent in order with vectored writes. Memory
// comes from the worker's allocator module and is returned as soon as the
// queue drains, so an idle connection holds none.
#pragma once

#include <axle/io.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace axle {

class Worker;

class OutQueue {
 public:
  explicit OutQueue(Worker &worker) : worker_(worker) {}
  ~OutQueue();
  OutQueue(const OutQueue &) = delete;
  OutQueue &operator=(const OutQueue &) = delete;

  // Copies bytes into kernel-owned memory at the tail. False on out of memory.
  bool append_copy(std::string_view bytes);
  // Queues module bytes; release(arg) runs once they are sent or dropped.
  bool append_lent(const char *data, size_t len, axle_release_fn release, void *arg);
  // Queues an allocator block the queue now owns (freed after sending).
  bool append_owned(void *block, size_t block_size, size_t len);
  // Queues a file range; the queue owns fd from now on (closes it).
  bool append_file(int fd, uint64_t offset, uint64_t length);

  bool empty() const { return count_ == 0; }
  bool in_flight() const { return in_flight_ > 0; }
  size_t pending_bytes() const { return pending_bytes_; }

  // Submits the next run of segments to the io module if nothing is in
  // flight. Returns false if the io module refused (connection is broken).
  bool flush(const axle_io_vtable_t *io, void *loop, void *io_conn);
  // The in-flight run finished: release it.
  void complete_in_flight();
  // Drops everything (connection closing); releases lent memory.
  void clear();

 private:
  struct Block;  // refcounted chunk of kernel-owned bytes
  struct Segment {
    const char *ptr = nullptr;
    size_t len = 0;
    Block *block = nullptr;          // kernel-owned bytes: one ref on the block
    void *owned = nullptr;           // allocator block to free after sending
    size_t owned_size = 0;
    axle_release_fn release = nullptr;
    void *release_arg = nullptr;
    int fd = -1;                     // file segment when >= 0
    uint64_t file_offset = 0;
  };
  Segment *push();
  void release(Segment &s);
  void unref(Block *b);
  Segment &at(uint32_t i) { return ring_[(head_ + i) & (capacity_ - 1)]; }

  Worker &worker_;
  Segment *ring_ = nullptr;
  uint32_t capacity_ = 0, head_ = 0, count_ = 0, in_flight_ = 0;
  size_t pending_bytes_ = 0;
  Block *tail_block_ = nullptr;  // where append_copy writes; holds its own ref
};

}  // namespace axle
