// The open-file cache of one static route on one worker: recently served
// files by name, with their descriptor or (small files) their bytes. Used by
// a single worker thread, so no lock. Bounded in entries and in bytes held;
// CLOCK eviction. An entry is trusted for `valid_ns` after it was opened or
// last checked; after that the next request re-opens the name the same
// confined way and compares identities, so a changed, deleted or escaping
// file is noticed within the validity.
#pragma once

#include "open_file.h"

#include <axle/module.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace axle::static_handler {

struct CacheLimits {
  uint32_t entries = 0;             // 0 = no cache
  uint64_t valid_ns = 0;            // trust an entry this long without a syscall
  uint64_t memory_max_bytes = 0;    // files up to this size are held as bytes
  uint64_t memory_cache_bytes = 0;  // bytes held by one cache's entries at most
};

// Module metrics the caches update (null members when the host has none).
struct CacheMetrics {
  const axle_host_api_t *host = nullptr;
  axle_metric_t *hits = nullptr;
  axle_metric_t *misses = nullptr;
  axle_metric_t *open_fds = nullptr;      // gauge: descriptors held by caches
  axle_metric_t *memory_bytes = nullptr;  // gauge: file bytes held by caches
  void add(axle_metric_t *m, int64_t delta) const {
    if (m) host->metric_add(m, delta);
  }
};

// How the cache opens a name it does not hold (or must revalidate): the
// route's confined open plus whatever it adds (content type, variant probe).
class FileSource {
 public:
  // Opens `name` into `out`, keeping the bytes of a file of at most
  // memory_max bytes. 0, an errno, EISDIR for a directory or kNotRegular.
  virtual int load(const char *name, size_t name_len, uint64_t memory_max, OpenFile &out) const = 0;
  // Re-opens `name` and tells whether it is still `id`: 0 if so, ESTALE if
  // it changed (then the caller loads it again), or the open's error.
  virtual int check(const char *name, const FileIdentity &id, uint8_t variants) const = 0;

 protected:
  ~FileSource() = default;
};

class FileCache {
 public:
  FileCache(const CacheLimits &limits, const CacheMetrics &metrics);
  ~FileCache();
  FileCache(const FileCache &) = delete;
  FileCache &operator=(const FileCache &) = delete;

  // The file for `name` (NUL-terminated at name[len]), from the cache when
  // it is there and valid. 0 with *out pointing at the cached entry (valid
  // until the next call), or an errno / kNotRegular / EISDIR (nothing is
  // cached for such a name, and a cached one is evicted). Without a cache
  // (entries = 0) the file is loaded into `scratch`, as a descriptor, and
  // *out points there.
  int get(const char *name, size_t len, uint64_t now_ns, const FileSource &source, OpenFile &scratch,
          const OpenFile **out);

  size_t size() const { return index_.size(); }

 private:
  struct Slot {
    std::string name;
    OpenFile file;
    uint64_t checked_ns = 0;
    bool referenced = false;  // CLOCK bit: set on use, cleared as the hand passes
    bool used = false;
  };
  void account(const OpenFile &f, int sign);
  void evict(uint32_t slot);
  uint32_t take_slot();  // a free slot, evicting by CLOCK when full
  bool make_room_for_bytes(uint64_t size);

  CacheLimits limits_;
  CacheMetrics metrics_;
  std::vector<Slot> slots_;  // limits_.entries of them
  std::vector<uint32_t> free_;
  // Name (a view of its slot's name: slots_ never moves) -> slot; at most
  // limits_.entries names.
  std::unordered_map<std::string_view, uint32_t> index_;
  uint32_t hand_ = 0;
  uint64_t bytes_ = 0;  // Blob bytes held by entries, <= memory_cache_bytes
};

}  // namespace axle::static_handler
