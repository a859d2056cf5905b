#include "server.h"

#include "privileges.h"
#include "service_notify.h"
#include "socket_activation.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace axle {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Applies one optional socket option and reports a refusal once, at bind time.
void tune(int fd, int level, int name, const char *label, std::optional<int> value) {
  if (!value) return;
  int v = *value;
  if (::setsockopt(fd, level, name, &v, sizeof v) != 0)
    spdlog::warn("socket option {}={} refused by the kernel: {}", label, v, errno_text());
}

// What a listening socket passes on to the connections it accepts; applied
// to inherited (socket-activated) listeners too.
void tune_listener(int fd, const SocketOptions &so) {
  tune(fd, SOL_SOCKET, SO_RCVBUF, "recv_buffer", so.recv_buffer);
  tune(fd, SOL_SOCKET, SO_SNDBUF, "send_buffer", so.send_buffer);
  tune(fd, SOL_SOCKET, SO_BUSY_POLL, "busy_poll_us", so.busy_poll_us);
  tune(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, "defer_accept_s", so.defer_accept_s);
  // Accepted sockets inherit TCP_NODELAY from the listener on Linux.
  if (so.tcp_nodelay) tune(fd, IPPROTO_TCP, TCP_NODELAY, "tcp_nodelay", *so.tcp_nodelay ? 1 : 0);
}

int open_listener(const ListenAddress &addr, const SocketOptions &so, std::string &bound, std::string &error) {
  sockaddr_storage ss{};
  socklen_t len;
  bool v6 = addr.host.find(':') != std::string::npos;
  if (v6) {
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(addr.port);
    if (::inet_pton(AF_INET6, addr.host.c_str(), &sin6->sin6_addr) != 1) {
      error = "listen " + addr.text() + ": not a numeric IPv6 address";
      return -1;
    }
    len = sizeof(sockaddr_in6);
  } else {
    auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(addr.port);
    if (::inet_pton(AF_INET, addr.host.c_str(), &sin->sin_addr) != 1) {
      error = "listen " + addr.text() + ": not a numeric IPv4 address";
      return -1;
    }
    len = sizeof(sockaddr_in);
  }
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "listen " + addr.text() + ": socket: " + errno_text();
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (v6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (so.reuse_port) tune(fd, SOL_SOCKET, SO_REUSEPORT, "reuse_port", 1);
  tune_listener(fd, so);
  if (::bind(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0) {
    int bind_errno = errno;
    error = "listen " + addr.text() + ": bind: " + errno_text();
    if (bind_errno == EACCES) error += privileged_port_hint(addr.port);
    ::close(fd);
    return -1;
  }
  if (::listen(fd, static_cast<int>(so.backlog)) != 0) {
    error = "listen " + addr.text() + ": listen: " + errno_text();
    ::close(fd);
    return -1;
  }
  // Report the real port when 0 asked the kernel to pick one.
  sockaddr_storage actual{};
  socklen_t actual_len = sizeof actual;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&actual), &actual_len);
  uint16_t port = v6 ? ntohs(reinterpret_cast<sockaddr_in6 *>(&actual)->sin6_port)
                     : ntohs(reinterpret_cast<sockaddr_in *>(&actual)->sin_port);
  bound = (v6 ? "[" + addr.host + "]" : addr.host) + ":" + std::to_string(port);
  return fd;
}

// Every module of a generation with its version, for the "serving" log line:
// "io=epoll 1.0.0 allocator=malloc 1.0.0 ... handler=static 1.2.0 handler=echo 1.0.0".
// Labelled by the [modules] key that chose it (the alloc kind's key is "allocator").
std::string module_list(Generation &gen) {
  std::string out;
  for (ModuleInstance *m : gen.all_instances()) {
    std::string kind = m->library->kind_name();
    if (!out.empty()) out += ' ';
    out += (kind == "alloc" ? "allocator" : kind) + "=" + m->desc().name + " " + m->desc().version;
  }
  return out;
}

}  // namespace

Server::Server(Config config, std::string config_path, std::vector<ListenAddress> listen_override)
    : config_(std::move(config)), config_path_(std::move(config_path)), listen_override_(std::move(listen_override)) {
  if (!listen_override_.empty()) config_.listen = listen_override_;
}

Server::~Server() {
  if (current_) {
    current_->drain(0, true);
    current_.reset();
  }
  reap_retired(true);
  for (const Listener &l : listeners_) ::close(l.fd);
}

// Shutting down: new clients get "connection refused" at once instead of
// waiting in the listen queue until drain_ms. The listeners are shut (not
// closed: the io modules registered them) once the workers stopped watching
// them, so no worker reads the shut socket as an accept failure; a worker
// that does not get there within a second does not hold the refusal back.
void Server::refuse_new_clients(const Generation &gen) {
  for (int waited_ms = 0; waited_ms < 1000 && !gen.workers_stopped_accepting(); ++waited_ms) ::usleep(1000);
  for (const Listener &l : listeners_) ::shutdown(l.fd, SHUT_RD);
}

bool Server::check(const Config &config, std::string &error) {
  return Generation::build(config, 0, error) != nullptr;  // build() turns exceptions into error
}

bool Server::open_listeners(std::string &error) {
  // Sockets passed by systemd (deploy/axle.socket) replace [server] listen.
  std::vector<ActivatedSocket> inherited;
  if (!take_activated_sockets(inherited, error)) return false;
  if (!inherited.empty()) {
    activated_ = true;
    spdlog::info("socket activation: {} listening socket(s) from the service manager replace [server] listen",
                 inherited.size());
    for (const ActivatedSocket &s : inherited) {
      tune_listener(s.fd, config_.sockets);
      listeners_.push_back(Listener{s.fd, static_cast<uint32_t>(listeners_.size()), s.address});
    }
  } else {
    for (const ListenAddress &addr : config_.listen) {
      Listener l;
      l.id = static_cast<uint32_t>(listeners_.size());
      l.fd = open_listener(addr, config_.sockets, l.address, error);
      if (l.fd < 0) return false;
      listeners_.push_back(l);
    }
  }
  // [tls] listen is always bound here: inherited sockets are cleartext ones.
  for (size_t i = 0; i < config_.tls_listen.size(); ++i) {
    Listener l;
    l.id = static_cast<uint32_t>(listeners_.size());
    l.tls_index = static_cast<int32_t>(i);
    l.fd = open_listener(config_.tls_listen[i], config_.sockets, l.address, error);
    if (l.fd < 0) return false;
    listeners_.push_back(l);
  }
  return true;
}

void Server::log_listeners(const Generation &gen) const {
  for (const Listener &l : listeners_) {
    if (l.tls_index < 0) spdlog::info("listening on http://{}", l.address);
    else spdlog::info("listening on https://{} ({})", l.address, gen.transport_description());
  }
}

int Server::run() {
  // Signals are taken synchronously by this thread; workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::string error;
  // Bind while still privileged, then become [server] user/group before any
  // module is loaded: what a reload (as that user) reads, the start reads too.
  if (!open_listeners(error) || !drop_privileges(config_.run_as, error)) {
    spdlog::error("{}", error);
    return 1;
  }
  if (!config_.run_as.empty())
    spdlog::info("running as uid {} gid {}{}", ::getuid(), ::getgid(),
                 config_.run_as.user.empty() ? "" : " (" + config_.run_as.user + ")");
  auto gen = Generation::build(config_, next_generation_id_++, error);
  if (!gen) {
    spdlog::error("{}", error);  // starts with the config file's name
    return 1;
  }
  budget_.set_limit(config_.limits.max_buffered_bytes);
  if (!gen->start_workers(listeners_, open_connections_, budget_, error)) {
    spdlog::error("{}", error);
    return 1;
  }
  current_ = std::move(gen);
  log_listeners(*current_);
  if (config_.admin_listen) {
    admin_ = std::make_unique<AdminServer>(AdminHandlers{[this] { return generations_json(); },
                                                         [this] { return reload(); }, [this] { return admin_policy(); }});
    if (!admin_->start(*config_.admin_listen, error)) {
      spdlog::error("{}", error);
      current_->drain(0, true);
      return 1;
    }
  }
  spdlog::info("generation {} serving: {}", current_->id, module_list(*current_));
  service_notify::ready("generation " + std::to_string(current_->id) + " serving on " +
                        std::to_string(listeners_.size()) + " listener(s)");

  while (true) {
    timespec tick{0, 200'000'000};
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGHUP) {
      reload();
    } else if (sig == SIGUSR1) {
      spdlog::info("SIGUSR1: reopening access logs");
      AccessLog::reopen_all();
    } else if (sig == SIGTERM || sig == SIGINT) {
      break;
    }
    reap_retired(false);
  }

  service_notify::stopping();
  spdlog::info("shutting down: finishing in-flight requests (at most {} ms)", config_.timeouts.drain_ms);
  // A second signal while draining ends the process at once.
  struct sigaction now{};
  now.sa_handler = [](int) { ::_exit(1); };
  for (int s : {SIGTERM, SIGINT}) sigaction(s, &now, nullptr);
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  admin_.reset();  // no reload may start while shutting down
  {
    std::lock_guard state_lock(state_mutex_);
    current_->drain(config_.timeouts.drain_ms, true);
    refuse_new_clients(*current_);
    retired_.push_back(std::move(current_));
  }
  reap_retired(true);
  spdlog::info("stopped");
  return 0;
}

std::string Server::reload() {
  std::lock_guard reload_lock(reload_mutex_);
  service_notify::reloading();
  std::string why;
  // Nothing on the way to a new generation may end the process: any
  // exception (bad_alloc, a thread the system refuses) refuses the reload.
  try {
    why = swap_generation();
  } catch (const std::exception &e) {
    why = std::string("unexpected error: ") + e.what();
  }
  if (!why.empty()) spdlog::error("reload failed, generation {} keeps serving: {}", current_->id, why);
  service_notify::ready(why.empty() ? "generation " + std::to_string(current_->id) + " serving"
                                    : "reload failed, generation " + std::to_string(current_->id) +
                                          " keeps serving: " + why);
  return why;
}

std::string Server::swap_generation() {
  if (config_path_.empty()) return "running on the embedded default config: there is no file to re-read";
  std::string error;
  auto config = load_config_file(config_path_, error);
  if (!config) return error;
  if (!listen_override_.empty()) config->listen = listen_override_;
  std::vector<std::string> old_addrs, new_addrs;
  for (const auto &a : config_.listen) old_addrs.push_back(a.text());
  for (const auto &a : config->listen) new_addrs.push_back(a.text());
  // Inherited sockets stand in for server.listen, which then does not matter.
  if (old_addrs != new_addrs && !activated_) return config_path_ + ": server.listen changed; that needs a restart";
  old_addrs.clear();
  new_addrs.clear();
  for (const auto &a : config_.tls_listen) old_addrs.push_back(a.text());
  for (const auto &a : config->tls_listen) new_addrs.push_back(a.text());
  if (old_addrs != new_addrs) return config_path_ + ": tls.listen changed; that needs a restart";
  if (config->run_as.user != config_.run_as.user || config->run_as.group != config_.run_as.group)
    return config_path_ + ": server.user or server.group changed; that needs a restart";
  {
    // Room for the generation about to retire, taken while nothing runs yet:
    // once the new workers serve, the swap below must not throw.
    std::lock_guard state_lock(state_mutex_);
    retired_.reserve(retired_.size() + 1);
  }
  auto gen = Generation::build(*config, next_generation_id_, error);
  if (!gen) return error;  // starts with the config file's name
  // Every generation shares the one budget; a reload may move its limit.
  budget_.set_limit(config->limits.max_buffered_bytes);
  if (!gen->start_workers(listeners_, open_connections_, budget_, error)) {
    budget_.set_limit(config_.limits.max_buffered_bytes);
    return config_path_ + ": " + error;
  }
  ++next_generation_id_;
  spdlog::info("generation {} serving: {}; generation {} draining", gen->id, module_list(*gen), current_->id);
  if (gen->transport_vt) spdlog::info("generation {} serves [tls] listen with {}", gen->id, gen->transport_description());
  std::lock_guard state_lock(state_mutex_);
  current_->drain(config->timeouts.drain_ms, false);
  retired_.push_back(std::move(current_));
  current_ = std::move(gen);
  config_ = std::move(*config);
  return "";
}

nlohmann::json Server::generations_json() {
  std::lock_guard state_lock(state_mutex_);
  auto describe = [](Generation &g, const char *state) {
    nlohmann::json modules = nlohmann::json::array();
    for (ModuleInstance *m : g.all_instances()) {
      const axle_module_descriptor_t &d = m->desc();
      modules.push_back({{"kind", m->library->kind_name()},
                         {"name", d.name},
                         {"version", d.version},
                         {"abi", std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor)},
                         {"file", m->library->path()},
                         {"unloadable", m->library->unloadable()}});
    }
    return nlohmann::json{{"id", g.id},
                          {"state", state},
                          {"connections", g.connection_count()},
                          {"worker_connections", g.worker_connection_counts()},
                          {"modules", std::move(modules)}};
  };
  nlohmann::json generations = nlohmann::json::array();
  if (current_) generations.push_back(describe(*current_, "serving"));
  for (auto &g : retired_) generations.push_back(describe(*g, "draining"));
  return nlohmann::json{{"generations", std::move(generations)}};
}

AdminPolicy Server::admin_policy() {
  std::lock_guard state_lock(state_mutex_);
  return AdminPolicy{config_.admin_hosts, config_.admin_token};
}

void Server::reap_retired(bool wait) {
  while (true) {
    std::unique_ptr<Generation> done;
    {
      std::lock_guard state_lock(state_mutex_);
      for (auto it = retired_.begin(); it != retired_.end(); ++it) {
        if (wait || (*it)->workers_finished()) {
          done = std::move(*it);
          retired_.erase(it);
          break;
        }
      }
    }
    if (!done) return;
    uint64_t id = done->id;
    done.reset();  // joins its workers, destroys instances, unloads libraries
    spdlog::info("generation {} retired", id);
  }
}

}  // namespace axle
