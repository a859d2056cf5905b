// Running as an unprivileged user: [server] user/group are looked up when the
// config is parsed (so --check refuses a name that does not exist) and taken
// on once the listening sockets are bound.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>

namespace axle {

// The identity [server] user/group resolve to. Empty names: keep the current one.
struct RunAs {
  std::string user, group;
  uid_t uid = 0;
  gid_t gid = 0;  // the group's, else the user's primary group
  bool empty() const { return user.empty() && group.empty(); }
};

// Resolves the names through the system's user database; false with error
// ("no such user \"x\"") when one does not exist.
bool resolve_run_as(RunAs &who, std::string &error);

// Becomes `who`: supplementary groups, then gid, then uid (after setuid no
// other call would be allowed), and checks root cannot be regained. Not
// root: succeeds only when already running as `who` (e.g. User= in the unit).
bool drop_privileges(const RunAs &who, std::string &error);

// Why binding a privileged port failed, for the bind error: what to grant.
std::string privileged_port_hint(uint16_t port);

}  // namespace axle
