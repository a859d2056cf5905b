#include "file_cache.h"

#include <algorithm>
#include <cerrno>

namespace axle::static_handler {

FileCache::FileCache(const CacheLimits &limits, const CacheMetrics &metrics) : limits_(limits), metrics_(metrics) {
  // A file larger than the whole byte budget could never be held.
  limits_.memory_max_bytes = std::min(limits_.memory_max_bytes, limits_.memory_cache_bytes);
  slots_.resize(limits_.entries);
  free_.reserve(limits_.entries);
  for (uint32_t i = limits_.entries; i-- > 0;) free_.push_back(i);
  index_.reserve(limits_.entries);  // no rehash on the request path
}

FileCache::~FileCache() {
  for (const Slot &s : slots_)
    if (s.used) account(s.file, -1);
}

void FileCache::account(const OpenFile &f, int sign) {
  if (f.fd >= 0) metrics_.add(metrics_.open_fds, sign);
  if (f.blob) {
    const auto size = static_cast<int64_t>(f.blob->size());
    bytes_ = sign > 0 ? bytes_ + static_cast<uint64_t>(size) : bytes_ - static_cast<uint64_t>(size);
    metrics_.add(metrics_.memory_bytes, sign * size);
  }
}

void FileCache::evict(uint32_t slot) {
  Slot &s = slots_[slot];
  index_.erase(s.name);
  account(s.file, -1);
  s.file.reset();  // a response still sending the bytes keeps its own reference
  s.name.clear();
  s.used = false;
  s.referenced = false;
  free_.push_back(slot);
}

uint32_t FileCache::take_slot() {
  // Every slot is used here; a full turn clears every bit, so this ends
  // within two turns.
  while (free_.empty()) {
    const uint32_t i = hand_;
    hand_ = (hand_ + 1) % limits_.entries;
    if (slots_[i].referenced)
      slots_[i].referenced = false;
    else
      evict(i);
  }
  const uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

bool FileCache::make_room_for_bytes(uint64_t size) {
  // Same CLOCK hand, over the entries that hold bytes; bounded by two turns.
  for (size_t steps = 0; bytes_ + size > limits_.memory_cache_bytes && steps < 2 * slots_.size(); ++steps) {
    const uint32_t i = hand_;
    hand_ = (hand_ + 1) % limits_.entries;
    Slot &s = slots_[i];
    if (!s.used || !s.file.blob) continue;
    if (s.referenced)
      s.referenced = false;
    else
      evict(i);
  }
  return bytes_ + size <= limits_.memory_cache_bytes;
}

int FileCache::get(const char *name, size_t len, uint64_t now_ns, const FileSource &source, OpenFile &scratch,
                   const OpenFile **out) {
  if (limits_.entries == 0) {
    const int r = source.load(name, len, 0, scratch);
    *out = &scratch;
    return r;
  }
  const std::string_view key(name, len);
  if (auto it = index_.find(key); it != index_.end()) {
    const uint32_t i = it->second;
    Slot &s = slots_[i];
    int r = 0;
    if (now_ns - s.checked_ns >= limits_.valid_ns) {
      r = source.check(name, s.file.id, s.file.variants);
      if (r == 0) s.checked_ns = now_ns;
    }
    if (r == 0) {
      s.referenced = true;
      metrics_.add(metrics_.hits, 1);
      *out = &s.file;
      return 0;
    }
    evict(i);  // changed, deleted, no longer reachable below the root
    if (r != ESTALE) {
      metrics_.add(metrics_.misses, 1);
      return r;
    }
  }

  metrics_.add(metrics_.misses, 1);
  OpenFile loaded;
  if (const int r = source.load(name, len, limits_.memory_max_bytes, loaded); r != 0) return r;
  if (loaded.blob && !make_room_for_bytes(loaded.blob->size())) {
    // Unreachable while memory_max_bytes <= memory_cache_bytes, kept as the bound's guard.
    scratch = std::move(loaded);
    *out = &scratch;
    return 0;
  }
  std::string owned_name(key);  // allocated before a slot is taken: a throw leaves the cache as it was
  const uint32_t i = take_slot();
  Slot &s = slots_[i];
  s.name = std::move(owned_name);
  try {
    index_.emplace(s.name, i);
  } catch (...) {
    s.name.clear();
    free_.push_back(i);  // within the reserved capacity: no throw
    throw;
  }
  s.file = std::move(loaded);
  s.checked_ns = now_ns;
  s.referenced = false;
  s.used = true;
  account(s.file, +1);
  *out = &s.file;
  return 0;
}

}  // namespace axle::static_handler
