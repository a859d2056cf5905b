// The HTTP/1.1 engine for one connection: parses every complete request in
// what arrived (pipelining), applies the framing rules once for every parser
// module, dispatches to handlers, and queues all responses of a read for one
// vectored write.
#pragma once

#include "out_queue.h"

#include <axle/parser.h>
#include <netinet/in.h>

#include <cstdint>
#include <string_view>

namespace axle {

class Worker;

class Connection {
 public:
  Connection(Worker &worker, void *io_conn, int fd);
  ~Connection();

  // io events (loop thread).
  void on_data(const char *data, size_t len);
  void on_eof(int err);
  void on_sent(int err);
  // Timeout check, called on every tick.
  void on_tick(uint64_t now_ms);
  // Worker is draining: close after the current (or next) response; an idle
  // connection is closed at once if close_idle.
  void begin_drain(bool close_idle);
  // Asks the io module to close; on_closed follows.
  void close();

  // Records the client address for the access log (one syscall per connection).
  void remember_peer();

  Connection *prev = nullptr, *next = nullptr;  // worker's list of open connections

 private:
  enum class Phase : uint8_t { Head, Body, Closing };
  enum class BodyKind : uint8_t { None, Length, Chunked };
  enum class ChunkState : uint8_t { Size, Data, DataEnd, Trailers, Done };

  // Parses and serves what `buf` holds; returns bytes consumed.
  size_t process(const char *buf, size_t len);
  // Continues a request whose head is in in_ and whose body is arriving.
  // Returns false to stop processing (waiting, or the connection failed).
  bool continue_body();
  bool decode_chunks();
  // Framing and semantics of a parsed head: sets body_kind_, body_length_,
  // keep_alive_, expect_continue_; on violation returns the status to send.
  uint16_t check_head(const axle_request_head_t &head);
  void dispatch(const axle_request_head_t &head, std::string_view body, size_t bytes_in);
  void queue_response(const axle_request_head_t &head, uint32_t route_id, uint64_t started_ns, size_t bytes_in);
  // Queues a small error response; returns its size in bytes.
  size_t queue_error(uint16_t status, bool close_after, std::string_view allow = {});
  void fail(uint16_t status);  // error response, then close
  // A request refused before reaching a handler: count it, log it, fail().
  void reject(uint16_t status, const axle_request_head_t *head, size_t bytes_in);
  // Metrics and access log for one answered request (head may be null).
  void finish_request(const axle_request_head_t *head, uint32_t route_id, uint16_t status, size_t bytes_in,
                      size_t bytes_out, uint64_t started_ns);
  void append_peer_address(std::string &out) const;
  void flush();
  void after_output_drained();
  void set_deadline(uint32_t ms, uint8_t kind);

  bool buffer_append(const char *data, size_t len);
  void buffer_consume(size_t n);
  void buffer_release();

  Worker &worker_;
  void *io_conn_;
  int fd_;
  OutQueue out_;

  // Unconsumed input; null while the connection is idle.
  char *in_ = nullptr;
  size_t in_len_ = 0, in_cap_ = 0;

  Phase phase_ = Phase::Head;
  BodyKind body_kind_ = BodyKind::None;
  ChunkState chunk_state_ = ChunkState::Size;
  uint64_t body_length_ = 0;   // Length: bytes expected; Chunked: decoded so far
  uint64_t chunk_left_ = 0;
  size_t head_len_ = 0;        // head bytes at the start of in_ while in Body
  size_t chunk_scan_ = 0;      // Chunked: next raw byte to decode (offset in in_)
  size_t queued_responses_ = 0;

  bool keep_alive_ = true;
  bool expect_continue_ = false;
  bool close_after_write_ = false;
  bool peer_eof_ = false;
  bool closing_ = false;
  bool recv_paused_ = false;
  uint8_t timeout_kind_ = 0;   // axle_timeout_kind_t of the running deadline, 0 = none
  uint64_t deadline_ms_ = 0;
  union {
    sockaddr_in v4;
    sockaddr_in6 v6;
  } peer_{};  // filled only when an access log is on
};

}  // namespace axle
