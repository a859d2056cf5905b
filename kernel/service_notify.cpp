#include "service_notify.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace axle::service_notify {
namespace {

// One datagram per call: the manager reads each as a whole state update.
void send(const std::string &message) {
  const char *path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  // "/path" or "@abstract" (a leading NUL on the wire); too long: not a socket we can name.
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path) {
    spdlog::warn("NOTIFY_SOCKET={} is not a socket path; not notifying the service manager", path);
    return;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  if (::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr *>(&addr), addr_len) < 0)
    spdlog::warn("notifying the service manager at {}: {}", path, std::strerror(errno));
  ::close(fd);
}

std::string status_line(std::string_view text) {
  std::string line = "STATUS=";
  for (char c : text) line += c == '\n' ? ' ' : c;  // one line per field
  return line;
}

}  // namespace

void ready(std::string_view status) { send("READY=1\n" + status_line(status)); }

void reloading() {
  // systemd >= 253 wants the CLOCK_MONOTONIC time of the request beside it.
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t usec = static_cast<uint64_t>(now.tv_sec) * 1'000'000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void stopping() { send("STOPPING=1"); }

}  // namespace axle::service_notify
