// The kTLS handover on a real loopback TCP connection: the transport's lower
// side writes to the server socket, an OpenSSL client reads the other end.
// Where the kernel has the tls ULP, sending must go to the kernel after the
// handshake (AXLE_TRANSPORT_KERNEL_TX) and the client must still decrypt
// every byte, send() and sendfile() alike. Elsewhere the same flow runs in
// user space and the test exits 77 (ctest: skipped) with the reason.
#define DOCTEST_CONFIG_IMPLEMENT
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <openssl/err.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "harness.h"
#include "test_certs.h"

namespace {

bool ulp_available(std::string *why) {
  std::ifstream f("/proc/sys/net/ipv4/tcp_available_ulp");
  const std::string list((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (list.find("tls") != std::string::npos) return true;
  *why = "kernel tls ULP not available (/proc/sys/net/ipv4/tcp_available_ulp: \"" +
         list.substr(0, list.find('\n')) + "\")";
  return false;
}

// A lower io connection on a real socket. Sends are written (blocking) when
// the test completes them, never inside the call.
struct SocketLower {
  int fd = -1;
  bool in_flight = false, closed = false;
  std::string bytes;  // an iov send, copied when completed
  std::vector<axle_iov_t> iov;
  int file_fd = -1;
  uint64_t file_offset = 0, file_length = 0;
  size_t plain_sends = 0, file_sends = 0;

  static SocketLower *of(void *p) { return static_cast<SocketLower *>(p); }
  static axle_status_t send(void *, void *c, const axle_iov_t *iov, uint32_t count) {
    SocketLower *l = of(c);
    if (l->in_flight) return AXLE_ERR_INVALID;
    l->in_flight = true;
    l->iov.assign(iov, iov + count);
    return AXLE_OK;
  }
  static axle_status_t sendfile(void *, void *c, int fd, uint64_t off, uint64_t len) {
    SocketLower *l = of(c);
    if (l->in_flight) return AXLE_ERR_INVALID;
    l->in_flight = true;
    l->file_fd = fd;
    l->file_offset = off;
    l->file_length = len;
    return AXLE_OK;
  }
  static void nop(void *, void *) {}
  static void close(void *, void *c) { of(c)->closed = true; }
  static axle_status_t shut(void *, void *c) { return ::shutdown(of(c)->fd, SHUT_WR) == 0 ? AXLE_OK : AXLE_ERR_IO; }

  // Writes what the socket takes of the send in flight; true when it is all written
  // (the caller then raises lower_sent). EAGAIN: the rest waits for a later turn.
  bool complete() {
    if (!in_flight) return false;
    if (file_fd >= 0) {
      while (file_length > 0) {
        off_t off = static_cast<off_t>(file_offset);
        const ssize_t n = ::sendfile(fd, file_fd, &off, file_length);
        if (n <= 0) return false;
        file_offset += static_cast<uint64_t>(n);
        file_length -= static_cast<uint64_t>(n);
      }
      file_fd = -1;
      ++file_sends;
    } else {
      for (axle_iov_t &v : iov)
        while (v.len > 0) {
          const ssize_t n = ::write(fd, v.base, v.len);
          if (n <= 0) return false;
          v.base = static_cast<const char *>(v.base) + n;
          v.len -= static_cast<size_t>(n);
        }
      ++plain_sends;
    }
    in_flight = false;
    return true;
  }
};

const axle_io_vtable_t kSocketLower = [] {
  axle_io_vtable_t v{};
  v.struct_size = sizeof v;
  v.send = SocketLower::send;
  v.sendfile = SocketLower::sendfile;
  v.recv_pause = SocketLower::nop;
  v.recv_resume = SocketLower::nop;
  v.close = SocketLower::close;
  v.shutdown_write = SocketLower::shut;
  return v;
}();

struct Upper {
  std::string data;
  int sents = 0, closed = 0;
};
void on_data(void *, void *c, const char *d, size_t n) { static_cast<Upper *>(c)->data.append(d, n); }
void on_eof(void *, void *, int) {}
void on_sent(void *, void *c, int) { static_cast<Upper *>(c)->sents++; }
void on_closed(void *, void *c) { static_cast<Upper *>(c)->closed++; }

void tcp_pair(int *server, int *client) {
  const int l = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(l, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
  REQUIRE(::listen(l, 1) == 0);
  REQUIRE(::getsockname(l, reinterpret_cast<sockaddr *>(&a), &len) == 0);
  *client = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(::connect(*client, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
  *server = ::accept(l, nullptr, nullptr);
  REQUIRE(*server >= 0);
  ::close(l);
  ::fcntl(*server, F_SETFL, O_NONBLOCK);
  ::fcntl(*client, F_SETFL, O_NONBLOCK);
}

bool g_kernel_tls = false;

}  // namespace

TEST_CASE("kTLS: after a TLS 1.3 AES-GCM handshake, send and sendfile go to the kernel and still decrypt") {
  fake::reset();
  axle_config_t cfg = harness::Server::config();
  cfg.bools["kernel_tls"] = true;
  cfg.strings["ciphersuites"] = "TLS_AES_128_GCM_SHA256";
  harness::Server server(cfg);
  REQUIRE(server.ok());
  const std::string describe = server.vt().describe(server.instance());
  CHECK(describe.find(g_kernel_tls ? "kernel TLS TX" : "tls ULP not available") != std::string::npos);

  int sfd = -1, cfd = -1;
  tcp_pair(&sfd, &cfd);
  SocketLower lower;
  lower.fd = sfd;
  Upper upper;
  axle_io_events_t events{};
  events.struct_size = sizeof events;
  events.on_data = on_data;
  events.on_eof = on_eof;
  events.on_sent = on_sent;
  events.on_closed = on_closed;
  axle_transport_conn_options_t opts{};
  opts.struct_size = sizeof opts;
  opts.role = AXLE_TRANSPORT_SERVER;
  opts.fd = sfd;
  opts.lower = &kSocketLower;
  opts.lower_loop = &lower;
  opts.lower_conn = &lower;
  opts.upper = &events;
  opts.conn_ctx = &upper;
  void *tconn = nullptr;
  axle_error_t err;
  REQUIRE(server.vt().conn_open(server.instance(), server.thread_ctx(), &opts, &tconn, &err) == AXLE_OK);

  SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(cctx, certs::pki().ca.c_str(), nullptr);
  SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, nullptr);
  SSL *client = SSL_new(cctx);
  SSL_set_fd(client, cfd);
  SSL_set_connect_state(client);
  std::string received;
  // One turn: the client reads and writes, the server reads its socket, the lower send completes.
  auto turn = [&] {
    ERR_clear_error();
    if (!SSL_is_init_finished(client)) SSL_do_handshake(client);
    char buf[16384];
    int n;
    while (SSL_is_init_finished(client) && (n = SSL_read(client, buf, sizeof buf)) > 0) received.append(buf, n);
    while ((n = static_cast<int>(::read(sfd, buf, sizeof buf))) > 0) server.vt().lower_data(tconn, buf, n);
    if (lower.complete()) server.vt().lower_sent(tconn, 0);
    pollfd fds[2] = {{cfd, POLLIN, 0}, {sfd, POLLIN, 0}};
    ::poll(fds, 2, 10);  // wait for the other end (not a threshold: the loops below count turns)
  };
  for (int i = 0; i < 2000 && !(SSL_is_init_finished(client) && !lower.in_flight); ++i) turn();
  REQUIRE(SSL_is_init_finished(client));

  axle_transport_info_t info{};
  info.struct_size = sizeof info;
  server.vt().conn_info(tconn, &info);
  CHECK(((info.flags & AXLE_TRANSPORT_KERNEL_TX) != 0) == g_kernel_tls);

  const std::string hello = "hello through the kernel";
  const axle_iov_t iov{hello.data(), hello.size()};
  REQUIRE(server.vt().stream->send(server.thread_ctx(), tconn, &iov, 1) == AXLE_OK);
  char path[] = "/tmp/axle-ktls-XXXXXX";
  const int file = mkstemp(path);
  std::string content(300 * 1024, 'k');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 23);
  REQUIRE(::write(file, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  for (int i = 0; i < 2000 && upper.sents < 1; ++i) turn();
  REQUIRE(server.vt().stream->sendfile(server.thread_ctx(), tconn, file, 0, content.size()) == AXLE_OK);
  for (int i = 0; i < 5000 && received.size() < hello.size() + content.size(); ++i) turn();
  CHECK(upper.sents == 2);
  CHECK(received.size() == hello.size() + content.size());
  const bool same = received == hello + content;  // not printed: 300 KiB
  CHECK(same);
  if (g_kernel_tls) CHECK(lower.file_sends == 1);  // zero-copy: the file went down as a sendfile

  SSL_write(client, "up", 2);  // receiving stays in user space
  for (int i = 0; i < 2000 && upper.data.size() < 2; ++i) turn();
  CHECK(upper.data == "up");
  CHECK(fake::counter("axle_tls_kernel_tx_total") == (g_kernel_tls ? 1 : 0));

  server.vt().stream->close(server.thread_ctx(), tconn);
  for (int i = 0; i < 100 && !lower.closed; ++i) turn();
  CHECK(lower.closed);
  server.vt().lower_closed(tconn);
  CHECK(upper.closed == 1);
  SSL_set_shutdown(client, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(client);
  SSL_CTX_free(cctx);
  ::close(file);
  unlink(path);
  ::close(sfd);
  ::close(cfd);
}

int main(int argc, char **argv) {
  std::string why;
  g_kernel_tls = ulp_available(&why);
  doctest::Context context(argc, argv);
  const int rc = context.run();
  if (rc != 0 || context.shouldExit()) return rc;
  if (!g_kernel_tls) {
    std::printf("SKIPPED kTLS handover: %s (the same flow ran in user-space TLS and passed)\n", why.c_str());
    return 77;
  }
  return 0;
}
