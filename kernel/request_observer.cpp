#include "request_observer.h"

#include "connection.h"
#include "host_api.h"
#include "worker.h"

namespace axle {

void RequestObserver::request_done(void *conn, const http::RequestRecord &rec) {
  uint64_t elapsed_ns = host_api()->now_ns() - rec.started_ns;
  if (gen_.metrics_vt && !rec.refused) {  // refusals count as parse errors instead
    axle_request_record_t r{sizeof r, rec.route_id, rec.status, elapsed_ns, rec.bytes_in, rec.bytes_out};
    gen_.metrics_vt->request_done(metrics_ctx_, &r);
  }
  if (gen_.access_log) {
    char peer[64];
    http::format_access_line(line_, static_cast<Connection *>(conn)->peer_text(peer), date_.clf_view(), rec,
                             elapsed_ns);
    gen_.access_log->write(line_);
  }
}

void RequestObserver::parse_error(uint16_t status) {
  if (gen_.metrics_vt) gen_.metrics_vt->parse_error(metrics_ctx_, status);
}

void RequestObserver::timeout(uint8_t kind) {
  if (gen_.metrics_vt) gen_.metrics_vt->timeout(metrics_ctx_, static_cast<axle_timeout_kind_t>(kind));
}

}  // namespace axle
