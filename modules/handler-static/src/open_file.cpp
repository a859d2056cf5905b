#include "open_file.h"

#include "http_date.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <iterator>
#include <new>

namespace axle::static_handler {
namespace {

constexpr uint64_t kOpenFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY |
                                // A FIFO or device in the tree must not block the worker in open();
                                // cleared again once the file is known to be regular.
                                O_NONBLOCK;

bool same_time(const timespec &a, const timespec &b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

// Reads exactly size bytes from offset 0; false on a short read or error.
bool read_all(int fd, char *buf, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, buf + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Blob *Blob::create(size_t size) {
  void *mem = ::operator new(sizeof(Blob) + size, std::nothrow);
  return mem ? new (mem) Blob(size) : nullptr;
}

void Blob::unref(void *blob) {
  auto *b = static_cast<Blob *>(blob);
  if (--b->refs_ == 0) {
    b->~Blob();
    ::operator delete(b);
  }
}

FileIdentity FileIdentity::of(const struct stat &st) {
  return {st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
}

bool FileIdentity::operator==(const FileIdentity &o) const {
  return dev == o.dev && ino == o.ino && size == o.size && same_time(mtime, o.mtime) && same_time(ctime, o.ctime);
}

int open_beneath_stat(int root_fd, const char *name, int &fd, struct stat &st) {
  open_how how{};
  how.flags = kOpenFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  fd = static_cast<int>(::syscall(SYS_openat2, root_fd, name, &how, sizeof how));
  if (fd < 0) return errno;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    fd = -1;
    return e;
  }
  return 0;
}

OpenFile &OpenFile::operator=(OpenFile &&o) noexcept {
  if (this == &o) return *this;
  reset();
  fd = o.fd;
  blob = o.blob;
  id = o.id;
  size = o.size;
  mtime_sec = o.mtime_sec;
  content_type = o.content_type;
  variants = o.variants;
  etag_len = o.etag_len;
  has_last_modified = o.has_last_modified;
  std::copy(std::begin(o.etag), std::end(o.etag), etag);
  std::copy(std::begin(o.last_modified), std::end(o.last_modified), last_modified);
  o.fd = -1;
  o.blob = nullptr;
  return *this;
}

void OpenFile::reset() {
  if (fd >= 0) ::close(fd);
  fd = -1;
  if (blob) Blob::unref(blob);
  blob = nullptr;
}

int make_open_file(int fd, const struct stat &st, std::string_view type, bool keep_in_memory, OpenFile &out) {
  out.reset();
  // Back to blocking mode: some sendfile/io_uring paths treat O_NONBLOCK on a
  // regular file as "fail with EAGAIN instead of reading from disk". Of the
  // flags F_SETFL can change, O_NONBLOCK is the only one set, so 0 clears it.
  if (::fcntl(fd, F_SETFL, 0) != 0) {
    const int e = errno;
    ::close(fd);
    return e;
  }
  out.fd = fd;
  out.id = FileIdentity::of(st);
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_sec = st.st_mtim.tv_sec;
  out.content_type = type;
  out.variants = 0;
  // Strong validator: size and nanosecond mtime change with any write that
  // could change the bytes.
  const uint64_t mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000u +
                            static_cast<uint64_t>(st.st_mtim.tv_nsec);
  out.etag_len = static_cast<uint8_t>(
      std::snprintf(out.etag, sizeof out.etag, "\"%" PRIx64 "-%" PRIx64 "\"", out.size, mtime_ns));
  out.has_last_modified = format_http_date(out.mtime_sec, out.last_modified);

  if (keep_in_memory && out.size > 0) {
    Blob *blob = Blob::create(out.size);
    struct stat after;
    // The bytes are kept only if the file did not change while they were
    // read; otherwise the descriptor serves and the next revalidation reloads.
    if (blob && read_all(fd, blob->data(), out.size) && ::fstat(fd, &after) == 0 &&
        FileIdentity::of(after) == out.id) {
      out.blob = blob;
      ::close(out.fd);
      out.fd = -1;
    } else if (blob) {
      Blob::unref(blob);
    }
  }
  return 0;
}

}  // namespace axle::static_handler
