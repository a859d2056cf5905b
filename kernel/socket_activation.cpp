#include "socket_activation.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace axle {
namespace {

constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START
// More descriptors than any unit declares: a larger count is a broken
// environment, not sockets to serve.
constexpr int kMaxFds = 256;

bool parse_int(const char *text, long &out) {
  std::string_view s(text);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "";
}

// Checks one descriptor is what the kernel can serve on and names it.
bool inspect(int fd, ActivatedSocket &out, std::string &error) {
  std::string what = "socket activation: descriptor " + std::to_string(fd);
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    error = what + " is not open: " + std::strerror(errno);
    return false;
  }
  if (!S_ISSOCK(st.st_mode)) {
    error = what + " is not a socket";
    return false;
  }
  int type = 0, domain = 0, listening = 0;
  socklen_t len = sizeof type;
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  len = sizeof domain;
  ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
  len = sizeof listening;
  ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
  if (type != SOCK_STREAM || (domain != AF_INET && domain != AF_INET6)) {
    error = what + " is not a TCP stream socket (use ListenStream= with an IP address or port)";
    return false;
  }
  if (!listening) {
    error = what + " is not listening (Accept=yes is not supported: axle accepts itself)";
    return false;
  }
  sockaddr_storage ss{};
  socklen_t ss_len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &ss_len);
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port;
  if (domain == AF_INET6) {
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    port = ntohs(sin6->sin6_port);
    out.address = "[" + std::string(host) + "]:" + std::to_string(port);
  } else {
    auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
    ::inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    port = ntohs(sin->sin_port);
    out.address = std::string(host) + ":" + std::to_string(port);
  }
  // Every worker accepts on the same socket: a blocking one would park a
  // worker in accept() after another took the connection.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    error = what + ": fcntl: " + std::strerror(errno);
    return false;
  }
  out.fd = fd;
  return true;
}

}  // namespace

bool take_activated_sockets(std::vector<ActivatedSocket> &out, std::string &error) {
  std::string pid_text = env("LISTEN_PID"), fds_text = env("LISTEN_FDS"), names = env("LISTEN_FDNAMES");
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (fds_text.empty()) return true;
  long pid = 0, count = 0;
  // LISTEN_PID guards against variables inherited by a child of the
  // activated process: those sockets are not ours. Like sd_listen_fds(3),
  // no LISTEN_PID means no activation.
  if (pid_text.empty()) {
    spdlog::warn("socket activation: LISTEN_FDS is set without LISTEN_PID; ignored");
    return true;
  }
  if (!parse_int(pid_text.c_str(), pid)) {
    error = "socket activation: LISTEN_PID=\"" + pid_text + "\" is not a process id";
    return false;
  }
  if (pid != ::getpid()) return true;
  if (!parse_int(fds_text.c_str(), count) || count < 0 || count > kMaxFds) {
    error = "socket activation: LISTEN_FDS=\"" + fds_text + "\" is not a count from 0 to " + std::to_string(kMaxFds);
    return false;
  }
  std::vector<std::string> fd_names;
  for (size_t start = 0; !names.empty() && start <= names.size();) {
    size_t colon = names.find(':', start);
    if (colon == std::string::npos) colon = names.size();
    fd_names.push_back(names.substr(start, colon - start));
    start = colon + 1;
  }
  for (long i = 0; i < count; ++i) {
    ActivatedSocket s;
    if (static_cast<size_t>(i) < fd_names.size()) s.name = fd_names[i];
    if (!inspect(kFirstFd + static_cast<int>(i), s, error)) return false;
    out.push_back(std::move(s));
  }
  return true;
}

}  // namespace axle
