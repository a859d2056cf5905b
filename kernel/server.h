// The process: listening sockets, the serving generation, reloads and the
// signal-driven lifecycle.
#pragma once

#include "admin_server.h"
#include "config.h"
#include "generation.h"
#include "worker.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace axle {

class Server {
 public:
  // config_path: file to re-read on SIGHUP (empty: embedded default, no reload).
  // listen_override: addresses from --listen, kept across reloads.
  Server(Config config, std::string config_path, std::vector<ListenAddress> listen_override);
  ~Server();

  // Binds, starts the first generation and serves until SIGTERM/SIGINT.
  // Returns the process exit code.
  int run();

  // Builds (and destroys) a generation without serving: what --check does.
  static bool check(const Config &config, std::string &error);

  // Re-reads the config file and swaps generations. Returns "" on success,
  // else why the running generation keeps serving. Any thread.
  std::string reload();
  // Live generations as JSON, for the admin endpoint. Any thread.
  nlohmann::json generations_json();
  // The admin endpoint's rules from the config in force. Any thread.
  AdminPolicy admin_policy();

 private:
  bool open_listeners(std::string &error);
  // "listening on http://..." or "https://... (transport: describe)", one line each.
  void log_listeners(const Generation &gen) const;
  // The body of reload(): "" once the new generation serves, else why not.
  std::string swap_generation();
  void reap_retired(bool wait);
  void refuse_new_clients(const Generation &gen);

  Config config_;
  std::string config_path_;
  std::vector<ListenAddress> listen_override_;
  std::vector<Listener> listeners_;
  bool activated_ = false;  // listeners_ came from systemd socket activation, not server.listen
  std::unique_ptr<Generation> current_;
  std::vector<std::unique_ptr<Generation>> retired_;  // draining, destroyed once their workers end
  std::atomic<uint32_t> open_connections_{0};
  http::SharedBudget budget_{0};  // memory held for clients, all generations together
  uint64_t next_generation_id_ = 1;
  std::mutex reload_mutex_;  // one reload at a time (SIGHUP and admin)
  std::mutex state_mutex_;   // guards current_, retired_, config_ for readers off the main thread
  std::unique_ptr<AdminServer> admin_;
};

}  // namespace axle
