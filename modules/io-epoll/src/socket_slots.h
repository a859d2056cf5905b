// The io slots that are plain socket calls (peer/local address, TCP options,
// the address an outgoing connect goes to), shared by the two socket
// backends: io-uring compiles this header too. The callers check their own
// connection state first.
#pragma once

#include <axle/io.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace axle::io_socket {

// getpeername/getsockname as an axle_address_t. The struct is new in 1.1, so
// the caller's copy must hold every field.
inline axle_status_t address(int fd, axle_conn_end_t end, axle_address_t *out) {
  if (!out || !AXLE_STRUCT_HAS(out, axle_address_t, addr) || (end != AXLE_CONN_PEER && end != AXLE_CONN_LOCAL))
    return AXLE_ERR_INVALID;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  auto *sa = reinterpret_cast<sockaddr *>(&ss);
  int rc = end == AXLE_CONN_PEER ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len);
  if (rc != 0) return AXLE_ERR_IO;
  out->family = AXLE_ADDR_NONE;
  out->port = 0;
  std::memset(out->addr, 0, sizeof out->addr);
  if (ss.ss_family == AF_INET) {
    const auto *in = reinterpret_cast<const sockaddr_in *>(&ss);
    out->family = AXLE_ADDR_IPV4;
    out->port = ntohs(in->sin_port);
    std::memcpy(out->addr, &in->sin_addr, 4);
  } else if (ss.ss_family == AF_INET6) {
    const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(&ss);
    out->family = AXLE_ADDR_IPV6;
    out->port = ntohs(in6->sin6_port);
    std::memcpy(out->addr, &in6->sin6_addr, 16);
  }
  return AXLE_OK;
}

// A direct setsockopt: one cheap syscall, and the host asks at most once per connection.
inline axle_status_t option(int fd, axle_conn_option_t option, int64_t value) {
  int name;
  switch (option) {
    case AXLE_CONN_OPT_NODELAY:
      name = TCP_NODELAY;
      break;
    case AXLE_CONN_OPT_QUICKACK:
      name = TCP_QUICKACK;
      break;
    default:
      return AXLE_ERR_UNSUPPORTED;
  }
  if (value != 0 && value != 1) return AXLE_ERR_INVALID;
  int v = static_cast<int>(value);
  if (::setsockopt(fd, IPPROTO_TCP, name, &v, sizeof v) == 0) return AXLE_OK;
  // Not a TCP socket (e.g. a Unix socket handed over as a listener).
  return errno == EOPNOTSUPP || errno == ENOPROTOOPT ? AXLE_ERR_UNSUPPORTED : AXLE_ERR_IO;
}

// A sockaddr for a literal axle_address_t (1.2 connect); false for an unknown family.
inline bool to_sockaddr(const axle_address_t &to, sockaddr_storage &ss, socklen_t &len) {
  ss = {};
  if (to.family == AXLE_ADDR_IPV4) {
    auto *in = reinterpret_cast<sockaddr_in *>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(to.port);
    std::memcpy(&in->sin_addr, to.addr, 4);
    len = sizeof *in;
    return true;
  }
  if (to.family == AXLE_ADDR_IPV6) {
    auto *in6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(to.port);
    std::memcpy(&in6->sin6_addr, to.addr, 16);
    len = sizeof *in6;
    return true;
  }
  return false;
}

}  // namespace axle::io_socket
