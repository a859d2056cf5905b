#include "http/engine.h"
#include "http/engine_work.h"

#include <new>

namespace axle::http {

EngineContext::EngineContext(const Limits &limits, const Timeouts &timeouts, ParserRef parser, Memory &memory,
                             Budget &budget, Dispatcher &dispatcher, const HttpDate &date, uint64_t (*now_ms)(),
                             uint64_t (*now_ns)())
    : limits(limits),
      timeouts(timeouts),
      parser(parser),
      memory(memory),
      budget(budget),
      dispatcher(dispatcher),
      date(date),
      now_ms(now_ms),
      now_ns(now_ns),
      response(memory) {
  parse_limits = {sizeof(axle_parse_limits_t), limits.max_head_bytes, limits.max_target_bytes, limits.max_headers};
  headers.resize(limits.max_headers);
}

EngineContext::~EngineContext() { release_spare_work(); }

EngineWork *EngineContext::take_work() {
  if (EngineWork *spare = spare_work) {
    spare_work = spare->next_spare;
    --spare_count;
    return spare;
  }
  void *mem = memory.alloc(sizeof(EngineWork));
  return mem ? new (mem) EngineWork(memory) : nullptr;
}

void EngineContext::give_back(EngineWork *w) {
  if (spare_count < kSpareWork) {
    w->next_spare = spare_work;  // kept whole, with its output ring
    spare_work = w;
    ++spare_count;
    return;
  }
  w->~EngineWork();
  memory.free(w, sizeof(EngineWork));
}

void EngineContext::release_spare_work() {
  spare_count = 0;
  while (spare_work) {
    EngineWork *w = spare_work;
    spare_work = w->next_spare;
    w->~EngineWork();
    memory.free(w, sizeof(EngineWork));
  }
}

}  // namespace axle::http
