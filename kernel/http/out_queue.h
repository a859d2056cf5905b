// A connection's outgoing bytes: a FIFO of segments (engine-owned bytes,
// module-lent bytes, file ranges) sent in order with vectored writes. Memory
// comes from the worker's allocator and is returned as soon as the queue
// drains, so an idle connection holds none. The queue does no I/O: the
// connection glue takes a run with next_run() and reports it done.
#pragma once

#include "http/memory.h"

#include <axle/io.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace axle::http {

// One write the glue must perform: iovecs, or a file range.
struct OutputRun {
  const axle_iov_t *iov = nullptr;  // points into the caller's scratch
  uint32_t iov_count = 0;
  int file_fd = -1;                 // >= 0: a file range instead of iovecs
  uint64_t file_offset = 0, file_length = 0;
  bool empty() const { return iov_count == 0 && file_fd < 0; }
};

class OutQueue {
 public:
  explicit OutQueue(Memory &memory) : memory_(memory) {}
  ~OutQueue();
  OutQueue(const OutQueue &) = delete;
  OutQueue &operator=(const OutQueue &) = delete;

  // Contiguous room for n bytes at the tail, written by the caller and then
  // committed (commit(k) with k <= n). nullptr on out of memory.
  char *reserve(size_t n);
  bool commit(size_t n);
  // Copies bytes at the tail. False on out of memory.
  bool append_copy(std::string_view bytes);
  // Queues module bytes; release(arg) runs once they are sent or dropped
  // (also when this fails).
  bool append_lent(const char *data, size_t len, axle_release_fn release, void *arg);
  // Queues an allocator block the queue now owns (freed after sending).
  bool append_owned(void *block, size_t block_size, size_t len);
  // Queues a file range; the queue owns fd from now on (closes it).
  bool append_file(int fd, uint64_t offset, uint64_t length);

  bool empty() const { return count_ == 0; }
  bool in_flight() const { return in_flight_ > 0; }
  uint64_t pending_bytes() const { return pending_bytes_; }
  // Bytes of memory the queue holds for this connection (copies and owned
  // blocks, not lent bytes or files) and open files: what flow control bounds.
  uint64_t memory_bytes() const { return memory_bytes_; }
  uint32_t open_files() const { return files_; }

  // The next run to write, marked in flight; empty if one is already in
  // flight or nothing is queued. iov_scratch: max_iov entries, borrowed.
  // A file range goes out in steps of at most file_step bytes (the caller's
  // choice, kFileStepMin to kFileStepMax), so every step that completes is
  // progress the write timeout can see and no single sendfile spans an
  // unbounded length.
  OutputRun next_run(axle_iov_t *iov_scratch, uint32_t max_iov, uint64_t file_step = kFileStepMin);
  // The run in flight was written: release it (or, for a file step, advance
  // past it).
  void complete_in_flight();
  static constexpr uint64_t kFileStepMin = 64 * 1024;
  static constexpr uint64_t kFileStepMax = 1024 * 1024;
  // Drops everything (connection closing); releases lent memory.
  void clear();

 private:
  struct Block;  // refcounted chunk of engine-owned bytes
  struct Segment {
    const char *ptr = nullptr;
    uint64_t len = 0;
    Block *block = nullptr;          // engine-owned bytes: one ref on the block
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

  Memory &memory_;
  Segment *ring_ = nullptr;
  uint32_t capacity_ = 0, head_ = 0, count_ = 0, in_flight_ = 0;
  uint32_t files_ = 0;
  uint64_t file_step_ = 0;  // length of the file step in flight, 0 when the run is iovecs
  uint64_t pending_bytes_ = 0, memory_bytes_ = 0;
  Block *tail_block_ = nullptr;  // where copies are written; holds its own ref
  Block *spare_block_ = nullptr;  // a drained block kept for the next response (not in memory_bytes_)
};

}  // namespace axle::http
