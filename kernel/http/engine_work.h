// What a connection holds only while it has work: input, output and a
// request whose body is arriving. A connection gives it back as soon as it is
// idle, so thousands of idle keep-alive connections cost only their core; the
// worker's EngineContext keeps a few whole blocks for the next requests.
// Internal to the engine (engine.cpp, engine_context.cpp).
#pragma once

#include "http/chunked.h"
#include "http/input_buffer.h"
#include "http/memory.h"
#include "http/out_queue.h"
#include "http/stored_head.h"

#include <cstdint>

namespace axle::http {

struct EngineWork {
  explicit EngineWork(Memory &memory) : out(memory), in(memory) {}
  OutQueue out;
  InputBuffer in;
  StoredHead *stored = nullptr;      // the head of a request whose body is arriving
  ChunkedDecoder chunked;
  uint64_t charged = 0;              // bytes counted against the budget
  uint32_t queued_responses = 0;     // since the output last drained
  EngineWork *next_spare = nullptr;  // in EngineContext::spare_work
};

}  // namespace axle::http
