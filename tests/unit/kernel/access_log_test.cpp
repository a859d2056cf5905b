// The access log's file writer: lines reach the file, a reopen after a
// rename (log rotation) starts a new file, the descriptor is O_APPEND and
// close-on-exec, and an unopenable path is a clear error.
#include "access_log.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;

namespace {

std::string read(const fs::path &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The writer is a background thread: wait (bounded) until the file holds `want`.
std::string read_eventually(const fs::path &path, const std::string &want) {
  std::string text;
  for (int i = 0; i < 400 && (text = read(path)) != want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  return text;
}

// The flags of this process's descriptor open on `path`; -1 if there is none.
int fd_flags(const fs::path &path, int cmd) {
  for (const auto &entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(entry.path(), ec) == path) return ::fcntl(std::stoi(entry.path().filename()), cmd);
  }
  return -1;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/axle-access-log-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_SUITE("access_log") {

TEST_CASE("lines are appended, and a reopen after a rename starts a new file") {
  TempDir dir;
  const fs::path file = dir.path / "access.log", rotated = dir.path / "access.log.1";
  std::ofstream(file) << "kept\n";  // appended to, never truncated
  std::string error;
  auto log = axle::AccessLog::open(file.string(), error);
  REQUIRE_MESSAGE(log, error);
  CHECK(axle::AccessLog::open(file.string(), error) == log);  // one writer per path

  const int fl = fd_flags(file, F_GETFL), fd = fd_flags(file, F_GETFD);
  REQUIRE(fl != -1);
  CHECK((fl & O_APPEND) != 0);
  CHECK((fd & FD_CLOEXEC) != 0);

  log->write("one");
  log->write("two");
  CHECK(read_eventually(file, "kept\none\ntwo\n") == "kept\none\ntwo\n");
  fs::rename(file, rotated);
  axle::AccessLog::reopen_all();
  log->write("three");
  log.reset();  // the last line goes out when the writer lets go of the file
  CHECK(read_eventually(file, "three\n") == "three\n");
  CHECK(read(rotated) == "kept\none\ntwo\n");
}

TEST_CASE("a path that cannot be opened is an error naming it") {
  TempDir dir;
  const fs::path file = dir.path / "missing-dir" / "access.log";
  std::string error;
  CHECK_FALSE(axle::AccessLog::open(file.string(), error));
  CHECK(error == "access log " + file.string() + ": No such file or directory");
}

}  // TEST_SUITE
