#include "admin_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace axle {

AdminServer::~AdminServer() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  for (Client &c : clients_) ::close(c.fd);
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
  listen_fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr *>(&ss), len) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    error = "admin listen " + address.text() + ": " + std::strerror(errno);
    return false;
  }
  sockaddr_storage actual{};
  socklen_t actual_len = sizeof actual;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&actual), &actual_len);
  uint16_t port = v6 ? ntohs(reinterpret_cast<sockaddr_in6 *>(&actual)->sin6_port)
                     : ntohs(reinterpret_cast<sockaddr_in *>(&actual)->sin_port);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  clients_.reserve(kMaxClients);
  AdminResponse busy = admin_error(503, "too many admin clients; try again");
  busy.headers.emplace_back("Retry-After", "1");
  busy_ = admin_serialize(busy);
  thread_ = std::thread([this] { serve(); });
  spdlog::info("admin listening on http://{}:{}", v6 ? "[" + address.host + "]" : address.host, port);
  return true;
}

void AdminServer::serve() {
  std::vector<pollfd> fds;
  while (true) {
    fds.assign({{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    Clock::time_point now = Clock::now();
    int timeout = -1;
    for (const Client &c : clients_) {
      fds.push_back({c.fd, static_cast<short>(c.phase == Phase::Writing ? POLLOUT : POLLIN), 0});
      auto left = std::chrono::ceil<std::chrono::milliseconds>(c.deadline - now).count();
      int ms = static_cast<int>(std::max<int64_t>(left, 0));
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("admin: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents) return;
    now = Clock::now();
    // fds[i + 2] is clients_[i]: handle them before accepting changes the list.
    size_t kept = 0;
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (on_event(clients_[i], fds[i + 2].revents, now)) {
        if (kept != i) clients_[kept] = std::move(clients_[i]);
        ++kept;
      } else {
        ::close(clients_[i].fd);
      }
    }
    clients_.erase(clients_.begin() + static_cast<ptrdiff_t>(kept), clients_.end());
    if (fds[1].revents) accept_clients(now);
  }
}

void AdminServer::accept_clients(Clock::time_point now) {
  // At most a backlog's worth per wakeup, so clients already in keep their turn.
  for (int n = 0; n < 64; ++n) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN, or an aborted connection: nothing to do either way
    if (clients_.size() >= kMaxClients) {
      // Fits in any socket buffer: a send that cannot block, then close.
      (void)!::send(fd, busy_.data(), busy_.size(), MSG_NOSIGNAL);
      ::shutdown(fd, SHUT_WR);
      ::close(fd);
      continue;
    }
    clients_.emplace_back(fd, now + std::chrono::milliseconds(kRequestTimeoutMs));
  }
}

bool AdminServer::on_event(Client &client, short revents, Clock::time_point now) {
  if (revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)) {
    bool alive = client.phase == Phase::Writing ? write_answer(client, now) : read_request(client);
    if (!alive) return false;
  }
  if (now < client.deadline) return true;
  if (client.phase == Phase::Reading) {
    // Best effort: the client stopped sending, it may still read.
    std::string out = admin_serialize(
        admin_error(408, "request not complete within " + std::to_string(kRequestTimeoutMs / 1000) + " s"));
    (void)!::send(client.fd, out.data(), out.size(), MSG_NOSIGNAL);
  }
  return false;
}

bool AdminServer::read_request(Client &client) {
  char buf[4096];
  ssize_t n = ::recv(client.fd, buf, sizeof buf, 0);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  if (n == 0) return false;  // peer closed (or, lingering, finished)
  if (client.phase == Phase::Lingering) return true;
  switch (client.reader.feed(std::string_view(buf, static_cast<size_t>(n)))) {
    case AdminRequestReader::State::NeedMore:
      return true;
    case AdminRequestReader::State::Error:
      return answer(client, admin_error(client.reader.error_status(), client.reader.error_message()));
    case AdminRequestReader::State::Done:
      break;
  }
  const AdminRequest &request = client.reader.request();
  try {
    AdminResponse response = admin_answer(request, handlers_);
    spdlog::debug("admin: {} {} -> {}", request.method, request.target, response.status);
    return answer(client, response);
  } catch (const std::exception &e) {
    spdlog::error("admin: {} {}: {}", request.method, request.target, e.what());
    return answer(client, admin_error(500, "internal error; see the server log"));
  }
}

bool AdminServer::answer(Client &client, const AdminResponse &response) {
  // Now, not the loop's time: a reload may just have taken seconds.
  Clock::time_point now = Clock::now();
  client.out = admin_serialize(response);
  client.phase = Phase::Writing;
  client.deadline = now + std::chrono::milliseconds(kWriteTimeoutMs);
  return write_answer(client, now);
}

bool AdminServer::write_answer(Client &client, Clock::time_point now) {
  while (client.sent < client.out.size()) {
    ssize_t n = ::send(client.fd, client.out.data() + client.sent, client.out.size() - client.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    client.sent += static_cast<size_t>(n);
  }
  // Closing with unread input would reset the connection and could destroy
  // the answer in flight: half-close, then read what is left for a moment.
  ::shutdown(client.fd, SHUT_WR);
  client.phase = Phase::Lingering;
  client.out.clear();
  client.deadline = std::min(client.deadline, now + std::chrono::milliseconds(kLingerMs));
  return true;
}

}  // namespace axle
