/* The floor: the least an HTTP/1.1 keep-alive server can do on one core.
 * One epoll loop; counts request ends ("\r\n\r\n", no bodies) in what it
 * reads and writes one fixed response per request in a single write. No
 * parsing, no routing, no headers beyond the minimum: whatever a real server
 * costs above this row is the price of being a real server.
 *   floor [PORT]      (0 or none: any free port; prints the one it got) */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char kResponse[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npong";
enum { kMaxEvents = 256, kBufSize = 16384, kMaxConns = 65536 };
/* Per connection: how many bytes of "\r\n\r\n" the previous read ended with. */
static unsigned char matched[kMaxConns];

int main(int argc, char **argv) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(argc > 1 ? atoi(argv[1]) : 0)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 4096) ||
      getsockname(lfd, (struct sockaddr *)&addr, &len)) {
    perror("floor: listen");
    return 1;
  }
  fprintf(stderr, "listening on http://127.0.0.1:%d\n", ntohs(addr.sin_port));
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, events[kMaxEvents];
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  static char in[kBufSize], out[kBufSize / 4 * sizeof kResponse];
  for (;;) {
    int n = epoll_wait(ep, events, kMaxEvents, -1);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (c >= kMaxConns) { close(c); continue; }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          matched[c] = 0;
          ev = (struct epoll_event){.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
        continue;
      }
      ssize_t got = read(fd, in, sizeof in);
      if (got <= 0) { close(fd); continue; } /* EOF, error, or a spurious wake-up we don't bother telling apart */
      size_t requests = 0, m = matched[fd];
      for (ssize_t k = 0; k < got; ++k) {
        char want = (m & 1) ? '\n' : '\r';
        m = in[k] == want ? m + 1 : (in[k] == '\r');
        if (m == 4) { ++requests; m = 0; }
      }
      matched[fd] = (unsigned char)m;
      size_t bytes = requests * (sizeof kResponse - 1);
      for (size_t r = 0; r < requests; ++r) memcpy(out + r * (sizeof kResponse - 1), kResponse, sizeof kResponse - 1);
      /* A 16 KiB read holds at most ~4k requests and their responses fit the
       * socket buffer of a client that waits for them; a short write would
       * mean a misbehaving client, so it is dropped. */
      if (bytes && write(fd, out, bytes) != (ssize_t)bytes) close(fd);
    }
  }
}
