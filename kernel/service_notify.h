// The sd_notify(3) protocol without libsystemd: state datagrams ("READY=1",
// "RELOADING=1", "STOPPING=1", "STATUS=...") to the AF_UNIX socket named by
// $NOTIFY_SOCKET, for Type=notify units. No-op when the variable is unset.
#pragma once

#include <string_view>

namespace axle::service_notify {

// The server serves (first start, or a reload finished either way); status
// is the line `systemctl status` shows.
void ready(std::string_view status);
// A reload began; ready() follows when it is over.
void reloading();
// Shutdown began: listeners closed, in-flight requests finishing.
void stopping();

}  // namespace axle::service_notify
