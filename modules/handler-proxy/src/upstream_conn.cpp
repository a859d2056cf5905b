#include "upstream_conn.h"

#include <new>

namespace axle::proxy {

const axle_outgoing_events_t UpstreamConn::events = {
    .struct_size = sizeof(axle_outgoing_events_t),
    .on_connected = on_connected,
    .on_data = on_data,
    .on_eof = on_eof,
    .on_writable = on_writable,
};

UpstreamConn *UpstreamConn::open(const axle_host_api_t *api, axle_worker_t *worker, const axle_address_t &to,
                                 size_t server, ConnOwner *owner) {
  auto *c = new (std::nothrow) UpstreamConn(api, server, owner);
  if (!c) return nullptr;
  c->out_ = api->outgoing_connect(worker, &to, &events, c, nullptr);
  if (!c->out_) {
    delete c;
    return nullptr;
  }
  return c;
}

void UpstreamConn::close() {
  api_->outgoing_close(out_);
  delete this;
}

void UpstreamConn::on_connected(void *arg, int err) {
  auto *c = static_cast<UpstreamConn *>(arg);
  c->owner_->conn_connected(*c, err);
}
void UpstreamConn::on_data(void *arg, const char *data, size_t len) {
  auto *c = static_cast<UpstreamConn *>(arg);
  c->owner_->conn_data(*c, data, len);
}
void UpstreamConn::on_eof(void *arg, int err) {
  auto *c = static_cast<UpstreamConn *>(arg);
  c->owner_->conn_eof(*c, err);
}
void UpstreamConn::on_writable(void *arg) {
  auto *c = static_cast<UpstreamConn *>(arg);
  c->owner_->conn_writable(*c);
}

}  // namespace axle::proxy
