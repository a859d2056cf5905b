#include "admin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace axle {
namespace {

constexpr size_t kMaxRequestBytes = 8192;
constexpr int kClientTimeoutMs = 2000;

void send_all(int fd, const std::string &bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void respond(int fd, int status, const char *reason, const std::string &body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body;
  send_all(fd, out);
}

std::string json_string(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

AdminServer::~AdminServer() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

bool AdminServer::start(const ListenAddress &address, std::string &error) {
  bool v6 = address.host.find(':') != std::string::npos;
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(address.port);
    ::inet_pton(AF_INET6, address.host.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto *a = reinterpret_cast<sockaddr_in *>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(address.port);
    ::inet_pton(AF_INET, address.host.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  listen_fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr *>(&ss), len) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    error = "admin listen " + address.text() + ": " + std::strerror(errno);
    return false;
  }
  sockaddr_storage actual{};
  socklen_t actual_len = sizeof actual;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&actual), &actual_len);
  uint16_t port = v6 ? ntohs(reinterpret_cast<sockaddr_in6 *>(&actual)->sin6_port)
                     : ntohs(reinterpret_cast<sockaddr_in *>(&actual)->sin_port);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { serve(); });
  spdlog::info("admin listening on http://{}:{}", v6 ? "[" + address.host + "]" : address.host, port);
  return true;
}

void AdminServer::serve() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    timeval tv{kClientTimeoutMs / 1000, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    answer(client);
    ::close(client);
  }
}

void AdminServer::answer(int client) {
  std::string request;
  char buf[2048];
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (request.size() > kMaxRequestBytes) return respond(client, 431, "Request Header Fields Too Large", "{}");
    ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n <= 0) return;  // timeout or peer gone
    request.append(buf, static_cast<size_t>(n));
  }
  std::string line = request.substr(0, request.find("\r\n"));
  if (line.rfind("GET /generations ", 0) == 0) {
    return respond(client, 200, "OK", handlers_.generations_json());
  }
  if (line.rfind("POST /reload ", 0) == 0) {
    std::string failure = handlers_.reload();
    if (failure.empty()) return respond(client, 200, "OK", "{\"reloaded\":true}");
    return respond(client, 409, "Conflict", "{\"reloaded\":false,\"error\":" + json_string(failure) + "}");
  }
  if (line.rfind("GET ", 0) == 0 || line.rfind("POST ", 0) == 0)
    return respond(client, 404, "Not Found", "{\"error\":\"try GET /generations or POST /reload\"}");
  respond(client, 405, "Method Not Allowed", "{\"error\":\"GET /generations or POST /reload\"}");
}

std::string json_quote(const std::string &s) { return json_string(s); }

}  // namespace axle
