// The engine's Observer in the server: feeds the metrics module and writes
// the access log, for one worker.
#pragma once

#include "generation.h"
#include "http/access_record.h"
#include "http/dispatcher.h"
#include "http/http_date.h"

#include <string>

namespace axle {

class RequestObserver final : public http::Observer {
 public:
  // metrics_ctx: the metrics module's context on this worker (unused without one).
  RequestObserver(const Generation &gen, void *metrics_ctx, const http::HttpDate &date)
      : gen_(gen), metrics_ctx_(metrics_ctx), date_(date) {}

  // conn: the Connection the record is about (for the client address).
  void request_done(void *conn, const http::RequestRecord &rec) override;
  void parse_error(uint16_t status) override;
  void timeout(uint8_t kind) override;

 private:
  const Generation &gen_;
  void *metrics_ctx_;
  const http::HttpDate &date_;
  std::string line_;  // scratch for the access log
};

}  // namespace axle
