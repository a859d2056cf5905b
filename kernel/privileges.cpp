#include "privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace axle {
namespace {

std::string errno_text() { return std::strerror(errno); }

// getpwnam_r/getgrnam_r with a buffer that grows to this bound; a database
// entry larger than this is not a real account.
constexpr size_t kMaxEntryBytes = 1 << 20;

}  // namespace

bool resolve_run_as(RunAs &who, std::string &error) {
  std::vector<char> buf(4096);
  if (!who.user.empty()) {
    passwd pw{}, *found = nullptr;
    int rc;
    while ((rc = ::getpwnam_r(who.user.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
           buf.size() < kMaxEntryBytes)
      buf.resize(buf.size() * 2);
    if (!found) {
      error = "no such user \"" + who.user + "\"" + (rc ? std::string(" (") + std::strerror(rc) + ")" : "");
      return false;
    }
    who.uid = pw.pw_uid;
    who.gid = pw.pw_gid;
  }
  if (!who.group.empty()) {
    group gr{}, *found = nullptr;
    int rc;
    while ((rc = ::getgrnam_r(who.group.c_str(), &gr, buf.data(), buf.size(), &found)) == ERANGE &&
           buf.size() < kMaxEntryBytes)
      buf.resize(buf.size() * 2);
    if (!found) {
      error = "no such group \"" + who.group + "\"" + (rc ? std::string(" (") + std::strerror(rc) + ")" : "");
      return false;
    }
    who.gid = gr.gr_gid;
  }
  return true;
}

bool drop_privileges(const RunAs &who, std::string &error) {
  if (who.empty()) return true;
  uid_t want_uid = who.user.empty() ? ::getuid() : who.uid;
  if (::geteuid() != 0) {
    if (::getuid() == want_uid && ::geteuid() == want_uid && ::getgid() == who.gid && ::getegid() == who.gid)
      return true;
    error = "[server] user/group: switching to " + (who.user.empty() ? "" : "user " + who.user + " ") +
            (who.group.empty() ? "" : "group " + who.group + " ") + "needs root (running as uid " +
            std::to_string(::geteuid()) + ")";
    return false;
  }
  // The user's own supplementary groups, none of root's; with only a group
  // named, that group alone.
  int rc = who.user.empty() ? ::setgroups(1, &who.gid) : ::initgroups(who.user.c_str(), who.gid);
  if (rc != 0) {
    error = "setgroups: " + errno_text();
    return false;
  }
  if (::setresgid(who.gid, who.gid, who.gid) != 0) {
    error = "setgid(" + std::to_string(who.gid) + "): " + errno_text();
    return false;
  }
  if (::setresuid(want_uid, want_uid, want_uid) != 0) {
    error = "setuid(" + std::to_string(want_uid) + "): " + errno_text();
    return false;
  }
  // A process that could become root again has dropped nothing.
  if (want_uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0)) {
    error = "still able to regain root after setuid(" + std::to_string(want_uid) + "); refusing to serve";
    return false;
  }
  return true;
}

std::string privileged_port_hint(uint16_t port) {
  int first_free = 1024;
  std::ifstream sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  sysctl >> first_free;
  if (port >= first_free || ::geteuid() == 0) return "";
  return " (ports below " + std::to_string(first_free) +
         " need root or the CAP_NET_BIND_SERVICE capability: AmbientCapabilities=CAP_NET_BIND_SERVICE in "
         "the systemd unit (deploy/axle.service), or setcap cap_net_bind_service=+ep on the binary)";
}

}  // namespace axle
