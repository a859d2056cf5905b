// systemd socket activation: listening sockets handed to the process as
// descriptors 3.. with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES
// (sd_listen_fds(3)), read without libsystemd.
#pragma once

#include <string>
#include <vector>

namespace axle {

struct ActivatedSocket {
  int fd = -1;
  std::string name;     // from LISTEN_FDNAMES ("" when not given)
  std::string address;  // "127.0.0.1:8080" / "[::]:80" as bound, for the log
};

// Takes the sockets passed by the service manager. Returns false with error
// when LISTEN_FDS is set for this process but malformed, or a descriptor is
// not a listening TCP (IPv4/IPv6) stream socket. With no activation (no
// LISTEN_FDS, no LISTEN_PID, or LISTEN_PID naming another process) returns
// true and an empty list. The variables are cleared either way, so nothing this process
// starts inherits them; each socket taken is made non-blocking and close-on-exec.
bool take_activated_sockets(std::vector<ActivatedSocket> &out, std::string &error);

}  // namespace axle
