// One regular file below the root, opened the only way this module opens
// files (openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), with what
// serving it needs: identity for revalidation, validators, content type and,
// for a small file, its bytes.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace axle::static_handler {

// Bytes of a small file, shared by the cache entry holding them and every
// response still sending them: a response keeps them alive after the entry
// was evicted or reloaded. Reference counts are touched on the owning
// worker's thread only (the host calls release on the thread that lent).
class Blob {
 public:
  static Blob *create(size_t size);  // one reference; nullptr when out of memory
  void ref() { ++refs_; }
  static void unref(void *blob);  // an axle_release_fn
  char *data() { return reinterpret_cast<char *>(this + 1); }
  size_t size() const { return size_; }

 private:
  explicit Blob(size_t size) : size_(size) {}
  uint32_t refs_ = 1;
  size_t size_;
};

// open_file's answers besides 0 and an errno.
inline constexpr int kNotRegular = -1;  // a FIFO, device or socket: served as 404

// What identifies one version of a file: a replaced, rewritten or touched
// file differs in at least one field.
struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  timespec ctime{};
  static FileIdentity of(const struct stat &st);
  bool operator==(const FileIdentity &o) const;
};

// Opens `name` (NUL-terminated, relative) below root_fd, non-blocking, and
// fstats it. 0 with fd and st set; else an errno, with nothing left open.
int open_beneath_stat(int root_fd, const char *name, int &fd, struct stat &st);

// A file ready to serve. Owns its descriptor (-1 for a file held in memory)
// and one reference to its bytes; movable, not copyable.
struct OpenFile {
  int fd = -1;
  Blob *blob = nullptr;  // set when the whole file is in memory
  FileIdentity id;
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  std::string_view content_type;  // from the route's MimeTypes, which outlive every OpenFile
  uint8_t variants = 0;            // precompressed variants present beside it (accept_encoding.h)
  uint8_t etag_len = 0;
  bool has_last_modified = false;
  char etag[48];           // "<hex size>-<hex mtime ns>", quoted
  char last_modified[29];  // IMF-fixdate

  OpenFile() = default;
  OpenFile(OpenFile &&o) noexcept { *this = static_cast<OpenFile &&>(o); }
  OpenFile &operator=(OpenFile &&o) noexcept;
  OpenFile(const OpenFile &) = delete;
  OpenFile &operator=(const OpenFile &) = delete;
  ~OpenFile() { reset(); }
  void reset();  // closes the descriptor, drops the bytes

  std::string_view etag_view() const { return {etag, etag_len}; }
  std::string_view last_modified_view() const { return {last_modified, has_last_modified ? sizeof last_modified : 0}; }
};

// Makes `out` serve the regular file open as `fd` (taken over) with status
// `st`: clears O_NONBLOCK, fills validators, and when keep_in_memory reads
// the whole file into a Blob and closes the descriptor (falling back to the
// descriptor if the file changed size while read or memory ran out).
// 0, or an errno (fd closed).
int make_open_file(int fd, const struct stat &st, std::string_view content_type, bool keep_in_memory, OpenFile &out);

}  // namespace axle::static_handler
