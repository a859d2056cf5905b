// The worker's timer heap and posted-task queue, without a loop: time is a
// number the test passes in.
#include "log_throttle.h"
#include "loop_services.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using axle::TaskQueue;
using axle::TimerQueue;

namespace {

// What fired, in order: each timer's arg points at one of these.
struct Probe {
  std::vector<int> *log;
  int id;
  TimerQueue *queue = nullptr;
  std::function<void()> then{};
};

void record(void *arg) {
  auto *p = static_cast<Probe *>(arg);
  p->log->push_back(p->id);
  if (p->then) p->then();
}

}  // namespace

TEST_SUITE("loop_services") {
  TEST_CASE("timers fire in deadline order, FIFO among equal deadlines, once") {
    TimerQueue q;
    std::vector<int> log;
    std::vector<Probe> p;
    for (int i = 0; i < 5; ++i) p.push_back({&log, i});
    q.start(1000, 30, 0, record, &p[0]);
    q.start(1000, 10, 0, record, &p[1]);
    q.start(1000, 20, 0, record, &p[2]);
    q.start(1000, 10, 0, record, &p[3]);
    q.start(1000, 0, 0, record, &p[4]);
    CHECK(q.next_deadline() == 1000);
    q.run_due(999);
    CHECK(log.empty());
    q.run_due(1010);
    CHECK(log == std::vector<int>{4, 1, 3});
    q.run_due(1100);
    CHECK(log == std::vector<int>{4, 1, 3, 2, 0});
    CHECK(q.size() == 0);
    CHECK(q.next_deadline() == UINT64_MAX);
    q.run_due(5000);
    CHECK(log.size() == 5);
  }

  TEST_CASE("stop removes a timer; stale handles (fired, stopped, cleared, foreign) are ignored") {
    TimerQueue q(1), other(2);
    std::vector<int> log;
    Probe a{&log, 1}, b{&log, 2}, c{&log, 3};
    TimerQueue::Handle ha = q.start(0, 10, 0, record, &a);
    TimerQueue::Handle hb = q.start(0, 20, 0, record, &b);
    REQUIRE(ha != 0);
    REQUIRE(hb != 0);
    CHECK(q.stop(ha));
    CHECK_FALSE(q.stop(ha));  // twice
    q.run_due(100);
    CHECK(log == std::vector<int>{2});
    CHECK_FALSE(q.stop(hb));  // fired one-shot
    // The slot is reused by a new timer: the old handle must not stop it.
    TimerQueue::Handle hc = q.start(100, 10, 0, record, &c);
    CHECK(hc != ha);
    CHECK(hc != hb);
    CHECK_FALSE(q.stop(ha));
    CHECK_FALSE(q.stop(hb));
    CHECK_FALSE(other.stop(hc));  // another worker's queue
    CHECK_FALSE(q.stop(0));
    CHECK_FALSE(q.stop(~0ull));
    q.clear();
    CHECK_FALSE(q.stop(hc));
    q.run_due(1000);
    CHECK(log == std::vector<int>{2});
  }

  TEST_CASE("a repeating timer re-schedules from its due time and skips missed periods") {
    TimerQueue q;
    std::vector<int> log;
    Probe a{&log, 7};
    TimerQueue::Handle h = q.start(0, 5, 10, record, &a);
    q.run_due(5);  // due at 5, next at 15
    CHECK(q.next_deadline() == 15);
    q.run_due(17);  // late by 2: next at 25, not 27
    CHECK(q.next_deadline() == 25);
    q.run_due(58);  // missed 25, 35, 45, 55: fires once, next at 65
    CHECK(log.size() == 3);
    CHECK(q.next_deadline() == 65);
    CHECK(q.stop(h));
    q.run_due(1000);
    CHECK(log.size() == 3);
  }

  TEST_CASE("a timer's fn may stop itself, stop others and start new ones") {
    TimerQueue q;
    std::vector<int> log;
    Probe self{&log, 1}, victim{&log, 2}, child{&log, 3};
    TimerQueue::Handle hs = 0, hv = 0;
    self.then = [&] {
      CHECK(q.stop(hs));  // a repeating timer, stopping itself from its fn
      CHECK(q.stop(hv));  // due in the same run, must not fire
      q.start(10, 0, 0, record, &child);  // due now, but waits for the next run
    };
    hs = q.start(0, 10, 10, record, &self);
    hv = q.start(0, 10, 0, record, &victim);
    q.run_due(10);
    CHECK(log == std::vector<int>{1});
    q.run_due(10);
    CHECK(log == std::vector<int>{1, 3});
    // A one-shot stopping itself from its fn: a harmless no-op.
    Probe once{&log, 4};
    TimerQueue::Handle ho = 0;
    once.then = [&] { CHECK_FALSE(q.stop(ho)); };
    ho = q.start(20, 0, 0, record, &once);
    q.run_due(20);
    CHECK(log.back() == 4);
    CHECK(q.size() == 0);
  }

  TEST_CASE("random starts and stops keep the heap ordered") {
    TimerQueue q;
    std::mt19937 rng(42);
    std::vector<int> log;
    std::vector<Probe> probes(2000);
    std::vector<uint64_t> delay_of(2000);
    std::vector<std::pair<TimerQueue::Handle, int>> live;  // handle, probe id
    for (int i = 0; i < 2000; ++i) {
      probes[i] = {&log, i};
      delay_of[i] = rng() % 500;
      live.push_back({q.start(0, delay_of[i], 0, record, &probes[i]), i});
      if (rng() % 3 == 0) {
        size_t k = rng() % live.size();
        CHECK(q.stop(live[k].first));
        live.erase(live.begin() + static_cast<long>(k));
      }
    }
    CHECK(q.size() == live.size());
    q.run_due(1000);
    REQUIRE(log.size() == live.size());
    // Every live timer fired once, in (deadline, start order) order.
    for (size_t k = 1; k < log.size(); ++k) {
      int a = log[k - 1], b = log[k];
      CHECK((delay_of[a] < delay_of[b] || (delay_of[a] == delay_of[b] && a < b)));
    }
    std::vector<int> fired = log, expected;
    for (auto &l : live) expected.push_back(l.second);
    std::sort(fired.begin(), fired.end());
    std::sort(expected.begin(), expected.end());
    CHECK(fired == expected);
  }

  TEST_CASE("the timer bound refuses start beyond kMaxTimers, and room comes back") {
    TimerQueue q;
    std::vector<int> log;
    Probe p{&log, 0};
    TimerQueue::Handle first = 0;
    for (uint32_t i = 0; i < TimerQueue::kMaxTimers; ++i) {
      TimerQueue::Handle h = q.start(0, 1000 + i, 0, record, &p);
      if (i == 0) first = h;
      if (h == 0) FAIL("refused below the bound at " << i);
    }
    CHECK(q.start(0, 1, 0, record, &p) == 0);
    CHECK(q.stop(first));
    CHECK(q.start(0, 1, 0, record, &p) != 0);
    CHECK(q.start(0, 1, 0, nullptr, &p) == 0);  // no fn
    q.clear();
    CHECK(q.size() == 0);
  }

  TEST_CASE("posted tasks: FIFO, one wake per batch, bound, close") {
    TaskQueue t;
    std::vector<int> ran;
    auto fn = [](void *arg) { (*static_cast<int *>(arg))++; };
    int counter = 0;
    CHECK(t.push({fn, &counter}) == TaskQueue::Push::kQueuedWake);
    CHECK(t.push({fn, &counter}) == TaskQueue::Push::kQueued);
    std::vector<TaskQueue::Task> batch;
    t.take_all(batch);
    CHECK(batch.size() == 2);
    for (auto &task : batch) task.fn(task.arg);
    CHECK(counter == 2);
    CHECK(t.push({fn, &counter}) == TaskQueue::Push::kQueuedWake);  // empty again: wake again
    for (size_t i = 1; i < TaskQueue::kMaxTasks; ++i) REQUIRE(t.push({fn, &counter}) == TaskQueue::Push::kQueued);
    CHECK(t.push({fn, &counter}) == TaskQueue::Push::kFull);
    t.close();
    CHECK(t.push({fn, &counter}) == TaskQueue::Push::kClosed);
    t.take_all(batch);  // queued before close: still handed out
    CHECK(batch.size() == TaskQueue::kMaxTasks);
  }

  TEST_CASE("posted tasks from many threads all arrive, each once") {
    TaskQueue t;
    constexpr int kThreads = 4, kEach = 5000;
    std::atomic<int> wakes{0};
    std::vector<std::thread> threads;
    for (int th = 0; th < kThreads; ++th)
      threads.emplace_back([&, th] {
        for (int i = 0; i < kEach; ++i) {
          auto *value = reinterpret_cast<void *>(static_cast<uintptr_t>(th * kEach + i + 1));
          TaskQueue::Push r;
          while ((r = t.push({[](void *) {}, value})) == TaskQueue::Push::kFull) std::this_thread::yield();
          if (r == TaskQueue::Push::kQueuedWake) ++wakes;
        }
      });
    std::vector<uintptr_t> seen;
    std::vector<TaskQueue::Task> batch;
    int batches = 0;
    while (seen.size() < kThreads * kEach) {
      t.take_all(batch);
      if (!batch.empty()) ++batches;
      for (auto &task : batch) seen.push_back(reinterpret_cast<uintptr_t>(task.arg));
    }
    for (auto &th : threads) th.join();
    std::sort(seen.begin(), seen.end());
    CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
    CHECK(seen.front() == 1);
    CHECK(seen.back() == kThreads * kEach);
    CHECK(wakes.load() == batches);  // one wake per non-empty batch, no lost wake
  }

  TEST_CASE("a log throttle gives at most one line a second, covering every event since the last") {
    axle::LogThrottle t;
    CHECK(t.take(0) == 0);  // nothing to report
    t.add();
    CHECK(t.take(5000) == 1);
    t.add();
    t.add();
    CHECK(t.take(5999) == 0);  // the last line is under a second old: the two wait
    t.add();
    CHECK(t.take(6000) == 3);
    CHECK(t.take(9000) == 0);  // all reported
  }
}
