// The admin listener: a small control-plane HTTP endpoint on a loopback
// address, served by its own thread so it never touches a worker.
//   GET  /generations   live generations, their modules and connections (JSON)
//   POST /reload        re-read the config file and swap generations
#pragma once

#include "config.h"

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace axle {

// s as a JSON string literal, quotes included.
std::string json_quote(const std::string &s);

class AdminServer {
 public:
  struct Handlers {
    std::function<std::string()> generations_json;
    // Returns "" on success, else the reason the running generation stayed.
    std::function<std::string()> reload;
  };

  AdminServer(Handlers handlers) : handlers_(std::move(handlers)) {}
  ~AdminServer();

  // Binds and starts the thread; the bound address goes to the log.
  bool start(const ListenAddress &address, std::string &error);

 private:
  void serve();
  void answer(int client);

  Handlers handlers_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd that ends the thread
  std::thread thread_;
};

}  // namespace axle
