// The admin listener: the admin endpoint (admin.h) on a loopback address,
// served by its own thread so it never touches a worker. One poll loop over
// non-blocking sockets serves up to kMaxClients at once, each with its own
// deadline, so a slow or silent client holds one slot and nothing else.
#pragma once

#include "admin.h"
#include "config.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace axle {

class AdminServer {
 public:
  static constexpr size_t kMaxClients = 16;      // past it a new client gets 503 and a close
  static constexpr int kRequestTimeoutMs = 5000;  // accept to the last byte of the request
  static constexpr int kWriteTimeoutMs = 5000;    // the answer, once it is ready
  static constexpr int kLingerMs = 500;           // reading what the client still sends after the answer

  explicit AdminServer(AdminHandlers handlers) : handlers_(std::move(handlers)) {}
  ~AdminServer();

  // Binds and starts the thread; the bound address goes to the log.
  bool start(const ListenAddress &address, std::string &error);

 private:
  using Clock = std::chrono::steady_clock;
  enum class Phase { Reading, Writing, Lingering };
  struct Client {
    Client(int fd, Clock::time_point deadline) : fd(fd), deadline(deadline) {}
    int fd;
    Clock::time_point deadline;
    Phase phase = Phase::Reading;
    AdminRequestReader reader;
    std::string out;  // the answer; at most a /generations document
    size_t sent = 0;
  };

  void serve();
  void accept_clients(Clock::time_point now);
  // Each returns false once the client is done and its socket may close.
  bool on_event(Client &client, short revents, Clock::time_point now);
  bool read_request(Client &client);
  bool answer(Client &client, const AdminResponse &response);
  bool write_answer(Client &client, Clock::time_point now);

  AdminHandlers handlers_;
  std::vector<Client> clients_;  // at most kMaxClients
  std::string busy_;             // the 503 sent past kMaxClients, built once
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd that ends the thread
  std::thread thread_;
};

}  // namespace axle
