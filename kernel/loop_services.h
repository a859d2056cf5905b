// Loop services of one worker (ABI 1.2 host_api timer_start, timer_stop,
// worker_post): a timer queue and a queue of posted tasks, plus the glue that
// arms the io module's loop timer for the earliest deadline. Outgoing
// connections are in outgoing.h.
#pragma once

#include <axle/module.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace axle {

class Worker;

// Timers of one worker: an indexed min-heap by (deadline, start order), so a
// stop removes its entry at once and the heap never holds stale entries.
// Handles are slot index + generation (+ an owner tag), never pointers: a
// stale handle (fired one-shot, stopped, cleared) is recognised and ignored.
// Not thread-safe: the worker's thread only. No I/O, no clock: callers pass now.
class TimerQueue {
 public:
  using Handle = uint64_t;  // 0 = none
  // Bound on live timers per worker: start() refuses beyond it.
  static constexpr uint32_t kMaxTimers = 1u << 20;
  // Longer delays and periods are clamped to this (no deadline overflow): a year.
  static constexpr uint64_t kMaxDelayMs = 365ull * 24 * 3600 * 1000;

  // owner_tag: mixed into every handle (its low 11 bits) so another queue's
  // handle is told apart.
  explicit TimerQueue(uint32_t owner_tag = 0) : owner_(owner_tag & kOwnerMask) {}

  // fn(arg) once at now_ms + delay_ms, then every repeat_ms if repeat_ms > 0.
  // 0 when the bound is reached or out of memory.
  Handle start(uint64_t now_ms, uint64_t delay_ms, uint64_t repeat_ms, axle_task_fn fn, void *arg);
  // False when h is not a live timer of this queue (already fired, stopped, foreign).
  bool stop(Handle h);
  // Runs every timer due at now_ms, earliest first. A repeating timer is
  // re-scheduled from its due time (missed periods are skipped, not fired in
  // a burst), before its fn runs. Timers started by a fn wait for the next call.
  void run_due(uint64_t now_ms);
  // Earliest deadline, UINT64_MAX when there is no timer.
  uint64_t next_deadline() const;
  size_t size() const { return heap_.size(); }
  // Drops every timer without firing; their handles go stale.
  void clear();

 private:
  static constexpr uint32_t kIndexBits = 21;  // index + 1, up to kMaxTimers
  static constexpr uint32_t kGenBits = 32;
  static constexpr uint32_t kOwnerMask = (1u << (64 - kIndexBits - kGenBits)) - 1;
  static constexpr uint32_t kNotInHeap = UINT32_MAX;
  struct Slot {
    uint64_t deadline = 0;
    uint64_t order = 0;  // start order: FIFO among equal deadlines
    uint64_t repeat = 0;
    axle_task_fn fn = nullptr;
    void *arg = nullptr;
    uint32_t gen = 0;
    uint32_t heap_pos = kNotInHeap;
  };
  Handle handle_of(uint32_t index) const;
  Slot *live(Handle h, uint32_t *index);
  bool less(uint32_t a, uint32_t b) const;
  void place(uint32_t pos, uint32_t index);
  void sift_up(uint32_t pos);
  void sift_down(uint32_t pos);
  void remove_at(uint32_t pos);
  void release(uint32_t index);

  uint32_t owner_;
  uint64_t next_order_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;  // slot indices free for reuse
  std::vector<uint32_t> heap_;  // slot indices
};

// Tasks posted to one worker from any thread, run on the worker's thread.
class TaskQueue {
 public:
  // Bound on queued tasks: push() answers kFull beyond it.
  static constexpr size_t kMaxTasks = 65536;
  struct Task {
    axle_task_fn fn;
    void *arg;
  };
  enum class Push {
    kQueued,      // a wake is already pending
    kQueuedWake,  // first task since the last take_all: the caller wakes the loop
    kFull,
    kClosed
  };
  Push push(Task task);
  // Moves every queued task to out (cleared first), in posting order.
  void take_all(std::vector<Task> &out);
  // From now on push() answers kClosed; queued tasks stay for take_all.
  void close();
  bool closed() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Task> tasks_;
  bool closed_ = false;
};

// One worker's timers and posted tasks, as the host API reaches them.
class LoopServices {
 public:
  explicit LoopServices(Worker &worker);

  // Called on the worker's own thread (Worker::current() is this worker).
  bool on_thread() const;
  // The calling worker thread's services (timer_stop has no worker
  // argument), or null on any other thread.
  static LoopServices *current();

  // host_api timer_start / timer_stop (worker thread).
  axle_timer_t *timer_start(uint64_t delay_ms, uint64_t repeat_ms, axle_task_fn fn, void *arg);
  void timer_stop(axle_timer_t *timer);
  // Runs the due timers and arms the loop timer for the next one. fired:
  // from io on_timer (the armed timer elapsed); else from on_tick, where
  // timers fire with an io module of ABI 1.1 (no timer_arm).
  void run_timers(bool fired);
  // The loop is gone: timers are dropped without firing.
  void drop_timers();

  // host_api worker_post (any thread).
  axle_status_t post(axle_task_fn fn, void *arg);
  // io on_wake: runs the tasks queued so far (at most kMaxTasks).
  void run_posted();
  // The worker stops: refuse new posts (AXLE_ERR_INVALID), run the queued ones.
  void stop_posting();

 private:
  void arm();

  Worker &worker_;
  TimerQueue timers_;
  TaskQueue tasks_;
  std::vector<TaskQueue::Task> batch_;  // reused by run_posted
  uint64_t armed_deadline_ = UINT64_MAX;  // what the io module's timer is armed for
};

// Monotonic milliseconds, precise (timers are ms-accurate; the coarse clock is
// not). round_up: a timer starts from the next whole millisecond, so
// truncating "now" never makes it fire early.
uint64_t monotonic_ms(bool round_up = false);

}  // namespace axle
