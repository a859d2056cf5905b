// The process-wide budget across workers (regression: idle workers kept
// their last grain, so the budget stayed spent while nothing was held).
#include "engine_driver.h"

using namespace axle;
using namespace axle::enginetest;

TEST_SUITE("engine") {

// Budget::charge keeps one grain of slack per worker for as long as the
// worker lives, even when it holds nothing, and exhausted() looks only at the
// shared counter. With max_buffered_bytes at its configured minimum (1 MiB =
// 4 grains) and 4 workers that have each buffered one body once, the shared
// counter stays at 4 grains forever: every later body that must be buffered
// is refused with 503 although the whole process holds nothing.
TEST_CASE("idle workers give their budget back, so a later body is buffered, not refused") {
  each_parser([&](const char *parser) {
    http::SharedBudget shared(4 * http::Budget::kGrain);  // max_buffered_bytes = 1 MiB
    const std::string head = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n";
    std::vector<std::unique_ptr<Harness>> workers;
    for (int i = 0; i < 4; ++i) {  // each worker serves one body that arrives in two reads
      workers.push_back(std::make_unique<Harness>(parser, Limits{}, Timeouts{}, &shared));
      Harness &w = *workers.back();
      w.send(head + "01234");
      w.send("56789");
      w.pump();
      REQUIRE(w.responses().responses.size() == 1);
      REQUIRE(w.engine().idle());
      REQUIRE(w.budget.held() == 0);
    }
    CHECK(shared.used() == 0);  // actual: 4 grains, held by workers that hold no byte
    Harness &w = *workers[0];
    w.new_engine();
    w.send(head + "01234");
    w.send("56789");
    w.pump();
    WireParse r = w.responses();
    REQUIRE(r.error.empty());
    REQUIRE(r.responses.size() == 2);
    CHECK(r.responses[1].status == 200);  // actual: 503
  });
}

}  // TEST_SUITE
