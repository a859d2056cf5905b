// axle C++ SDK: an outgoing TCP connection of a coroutine handler, through
// the serving io module (host outgoing_*).
//
//   axle::sdk::Outgoing conn = co_await ex.connect(axle::sdk::address("127.0.0.1", 9000));
//   co_await conn.send("PING\r\n");
//   while (auto bytes = co_await conn.read()) { ... }   // nullopt: the peer closed
//
// An Outgoing belongs to the request that opened it (keep it in the
// coroutine, not in the route object): its destructor closes the connection,
// so destroying the coroutine frame (on abort) closes it too. Connect, send
// and read throw Error on failure.
#pragma once

#include <axle/module.h>
#include <axle/sdk/driver.hpp>
#include <axle/sdk/error.hpp>

#include <arpa/inet.h>

#include <coroutine>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace axle::sdk {

// A literal IPv4 or IPv6 address and port; throws Error(AXLE_ERR_INVALID) if
// `ip` is not one.
inline axle_address_t address(const std::string &ip, uint16_t port) {
  axle_address_t a{};
  a.struct_size = sizeof a;
  a.port = port;
  if (inet_pton(AF_INET, ip.c_str(), a.addr) == 1) {
    a.family = AXLE_ADDR_IPV4;
  } else if (inet_pton(AF_INET6, ip.c_str(), a.addr) == 1) {
    a.family = AXLE_ADDR_IPV6;
  } else {
    throw Error(AXLE_ERR_INVALID, "not a literal IP address: " + ip);
  }
  return a;
}

namespace detail {

// The connection's state, the events' arg: on the heap so Outgoing can move.
struct OutgoingState {
  // Above this many received and unread bytes the connection is paused.
  static constexpr size_t max_unread = 64 * 1024;

  enum class Wait { none, connect, send, read };

  Driver *driver;
  axle_outgoing_t *conn = nullptr;
  Wait wait = Wait::none;
  std::coroutine_handle<> waiter;
  int connect_err = 0;
  std::string unread;  // bounded by max_unread plus one on_data call
  bool paused = false;
  bool eof = false;
  int eof_err = 0;
  std::string_view send_rest;  // the awaiting send's bytes not yet taken
  axle_status_t send_status = AXLE_OK;

  explicit OutgoingState(Driver &d) : driver(&d) {}
  OutgoingState(const OutgoingState &) = delete;
  OutgoingState &operator=(const OutgoingState &) = delete;
  ~OutgoingState() {
    if (conn) driver->api()->outgoing_close(conn);  // no event after this
  }

  bool push_send() {
    return push_pieces(send_rest, send_status, [&](std::string_view piece) {
      return driver->api()->outgoing_send(conn, piece.data(), piece.size());
    });
  }
  void wake(Wait event) {
    if (wait != event) return;
    wait = Wait::none;
    driver->resume(waiter);  // may destroy this
  }

  static void on_connected(void *arg, int err) {
    auto *s = static_cast<OutgoingState *>(arg);
    s->connect_err = err;
    s->wake(Wait::connect);
  }
  static void on_data(void *arg, const char *data, size_t len) {
    auto *s = static_cast<OutgoingState *>(arg);
    s->unread.append(data, len);
    if (s->unread.size() >= max_unread && !s->paused) {
      s->paused = true;
      s->driver->api()->outgoing_pause(s->conn, 1);
    }
    s->wake(Wait::read);
  }
  static void on_eof(void *arg, int err) {
    auto *s = static_cast<OutgoingState *>(arg);
    s->eof = true;
    s->eof_err = err;
    s->wake(Wait::read);
  }
  static void on_writable(void *arg) {
    auto *s = static_cast<OutgoingState *>(arg);
    if (s->wait == Wait::send && s->push_send()) s->wake(Wait::send);
  }
  static constexpr axle_outgoing_events_t events{
      .struct_size = sizeof(axle_outgoing_events_t),
      .on_connected = on_connected,
      .on_data = on_data,
      .on_eof = on_eof,
      .on_writable = on_writable,
  };
};

}  // namespace detail

class Outgoing {
 public:
  class Connect;
  Outgoing(Outgoing &&) noexcept = default;
  Outgoing &operator=(Outgoing &&) noexcept = default;

  // `co_await conn.send(bytes)`: queues them all (copied by the host),
  // waiting while the connection's output is at its bound. `bytes` must stay
  // valid until the co_await returns (a temporary in the same expression is).
  [[nodiscard]] auto send(std::string_view bytes) {
    struct Awaiter {
      detail::OutgoingState *s;
      bool await_ready() {
        s->driver->check_can_wait("send");
        s->send_status = AXLE_OK;
        return s->push_send();
      }
      void await_suspend(std::coroutine_handle<> h) {
        s->waiter = h;
        s->wait = detail::OutgoingState::Wait::send;
      }
      void await_resume() const { check(s->send_status, "outgoing send failed"); }
    };
    live().send_rest = bytes;
    return Awaiter{s_.get()};
  }

  // `co_await conn.read()`: the bytes received since the last read (at most
  // about 64 KiB), or nullopt once the peer closed. Throws if the connection failed.
  [[nodiscard]] auto read() {
    struct Awaiter {
      detail::OutgoingState *s;
      bool await_ready() const {
        s->driver->check_can_wait("read");
        return !s->unread.empty() || s->eof;
      }
      void await_suspend(std::coroutine_handle<> h) {
        s->waiter = h;
        s->wait = detail::OutgoingState::Wait::read;
      }
      std::optional<std::string> await_resume() {
        if (!s->unread.empty()) {
          std::string out = std::exchange(s->unread, {});
          if (s->paused) {
            s->paused = false;
            s->driver->api()->outgoing_pause(s->conn, 0);
          }
          return out;
        }
        if (s->eof_err) throw Error(AXLE_ERR_IO, std::string("outgoing connection failed: ") + std::strerror(s->eof_err));
        return std::nullopt;
      }
    };
    return Awaiter{&live()};
  }

  // Half-closes after the queued bytes; reading goes on.
  void shutdown_write() { check(s_->driver->api()->outgoing_shutdown_write(live().conn), "outgoing shutdown refused"); }

 private:
  explicit Outgoing(std::unique_ptr<detail::OutgoingState> s) : s_(std::move(s)) {}
  detail::OutgoingState &live() {
    if (!s_) throw Error(AXLE_ERR_INVALID, "outgoing connection used after it was moved from");
    return *s_;
  }

  std::unique_ptr<detail::OutgoingState> s_;
};

// `co_await ex.connect(to)` gives a connected Outgoing, or throws.
class [[nodiscard]] Outgoing::Connect {
 public:
  Connect(detail::Driver &driver, const axle_address_t &to) : s_(std::make_unique<detail::OutgoingState>(driver)), to_(to) {}

  bool await_ready() const {
    s_->driver->check_can_wait("connect");
    return false;
  }
  bool await_suspend(std::coroutine_handle<> h) {
    s_->waiter = h;
    // No axle_error_t exists inside a handler: the host accepts NULL (its error_set ignores it).
    const axle_host_api_t *api = s_->driver->api();
    if (!AXLE_STRUCT_HAS(api, axle_host_api_t, outgoing_close) || !api->outgoing_connect)
      return false;  // a host without outgoing connections
    s_->conn = api->outgoing_connect(s_->driver->worker(), &to_, &detail::OutgoingState::events, s_.get(), nullptr);
    if (!s_->conn) return false;
    s_->wait = detail::OutgoingState::Wait::connect;
    return true;
  }
  Outgoing await_resume() {
    if (!s_->conn) throw Error(AXLE_ERR_IO, "outgoing connection refused");
    if (s_->connect_err)
      throw Error(AXLE_ERR_IO, std::string("outgoing connection failed: ") + std::strerror(s_->connect_err));
    return Outgoing(std::move(s_));
  }

 private:
  std::unique_ptr<detail::OutgoingState> s_;
  axle_address_t to_;
};

}  // namespace axle::sdk
