#include "loop_services.h"

#include "worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <new>

namespace axle {

// ---- TimerQueue ----

TimerQueue::Handle TimerQueue::handle_of(uint32_t index) const {
  return (static_cast<uint64_t>(owner_) << (kIndexBits + kGenBits)) |
         (static_cast<uint64_t>(slots_[index].gen) << kIndexBits) | (index + 1);
}

TimerQueue::Slot *TimerQueue::live(Handle h, uint32_t *index) {
  uint64_t i1 = h & ((1u << kIndexBits) - 1);
  if (i1 == 0 || i1 > slots_.size() || (h >> (kIndexBits + kGenBits)) != owner_) return nullptr;
  Slot &s = slots_[i1 - 1];
  if (s.heap_pos == kNotInHeap || ((h >> kIndexBits) & 0xffffffffu) != s.gen) return nullptr;
  *index = static_cast<uint32_t>(i1 - 1);
  return &s;
}

TimerQueue::Handle TimerQueue::start(uint64_t now_ms, uint64_t delay_ms, uint64_t repeat_ms, axle_task_fn fn,
                                     void *arg) {
  if (!fn || heap_.size() >= kMaxTimers) return 0;
  uint32_t index;
  try {
    // Geometric growth by hand: the push below and release()'s push onto
    // free_ (never more entries than slots) then cannot allocate.
    if (heap_.size() == heap_.capacity()) heap_.reserve(std::max<size_t>(64, heap_.size() * 2));
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      if (slots_.size() == free_.capacity()) free_.reserve(std::max<size_t>(64, slots_.size() * 2));
      slots_.emplace_back();
      index = static_cast<uint32_t>(slots_.size() - 1);
    }
  } catch (const std::bad_alloc &) {
    return 0;
  }
  Slot &s = slots_[index];
  s.deadline = now_ms + std::min(delay_ms, kMaxDelayMs);
  s.order = next_order_++;
  s.repeat = std::min(repeat_ms, kMaxDelayMs);
  s.fn = fn;
  s.arg = arg;
  heap_.push_back(index);
  s.heap_pos = static_cast<uint32_t>(heap_.size() - 1);
  sift_up(s.heap_pos);
  return handle_of(index);
}

bool TimerQueue::stop(Handle h) {
  uint32_t index;
  Slot *s = live(h, &index);
  if (!s) return false;
  remove_at(s->heap_pos);
  release(index);
  return true;
}

void TimerQueue::run_due(uint64_t now_ms) {
  uint64_t started_before = next_order_;
  while (!heap_.empty()) {
    uint32_t index = heap_[0];
    Slot &s = slots_[index];
    if (s.deadline > now_ms || s.order >= started_before) return;
    axle_task_fn fn = s.fn;
    void *arg = s.arg;
    if (s.repeat > 0) {
      // From its due time, on the same grid: a late worker skips the periods it missed.
      uint64_t missed = (now_ms - s.deadline) / s.repeat;
      s.deadline += (missed + 1) * s.repeat;
      sift_down(0);
    } else {
      remove_at(0);
      release(index);  // before fn: stopping itself from fn is a harmless no-op
    }
    fn(arg);  // may start and stop timers: `s` is not used after this
  }
}

uint64_t TimerQueue::next_deadline() const { return heap_.empty() ? UINT64_MAX : slots_[heap_[0]].deadline; }

void TimerQueue::clear() {
  for (uint32_t index : heap_) release(index);
  heap_.clear();
}

bool TimerQueue::less(uint32_t a, uint32_t b) const {
  const Slot &x = slots_[a], &y = slots_[b];
  return x.deadline != y.deadline ? x.deadline < y.deadline : x.order < y.order;
}

void TimerQueue::place(uint32_t pos, uint32_t index) {
  heap_[pos] = index;
  slots_[index].heap_pos = pos;
}

void TimerQueue::sift_up(uint32_t pos) {
  uint32_t index = heap_[pos];
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (!less(index, heap_[parent])) break;
    place(pos, heap_[parent]);
    pos = parent;
  }
  place(pos, index);
}

void TimerQueue::sift_down(uint32_t pos) {
  uint32_t index = heap_[pos];
  auto n = static_cast<uint32_t>(heap_.size());
  for (;;) {
    uint32_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && less(heap_[child + 1], heap_[child])) ++child;
    if (!less(heap_[child], index)) break;
    place(pos, heap_[child]);
    pos = child;
  }
  place(pos, index);
}

void TimerQueue::remove_at(uint32_t pos) {
  uint32_t last = heap_.back();
  heap_.pop_back();
  if (pos == heap_.size()) return;
  place(pos, last);
  sift_down(pos);
  sift_up(slots_[last].heap_pos);
}

void TimerQueue::release(uint32_t index) {
  Slot &s = slots_[index];
  s.heap_pos = kNotInHeap;
  s.fn = nullptr;
  s.arg = nullptr;
  ++s.gen;  // every handle to this slot is stale from now on
  free_.push_back(index);  // no allocation: start() reserved room for every slot
}

// ---- TaskQueue ----

TaskQueue::Push TaskQueue::push(Task task) {
  std::lock_guard lock(mutex_);
  if (closed_) return Push::kClosed;
  if (tasks_.size() >= kMaxTasks) return Push::kFull;
  try {
    tasks_.push_back(task);
  } catch (const std::bad_alloc &) {
    return Push::kFull;
  }
  return tasks_.size() == 1 ? Push::kQueuedWake : Push::kQueued;
}

void TaskQueue::take_all(std::vector<Task> &out) {
  out.clear();
  std::lock_guard lock(mutex_);
  tasks_.swap(out);
}

void TaskQueue::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

bool TaskQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

// ---- LoopServices ----

namespace {
std::atomic<uint32_t> g_next_owner{1};  // tells timer handles of different workers apart
}  // namespace

uint64_t monotonic_ms(bool round_up) {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t ns = static_cast<uint64_t>(ts.tv_nsec) + (round_up ? 999999u : 0u);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + ns / 1000000u;
}

LoopServices::LoopServices(Worker &worker)
    : worker_(worker), timers_(g_next_owner.fetch_add(1, std::memory_order_relaxed)) {}

bool LoopServices::on_thread() const { return Worker::current() == &worker_; }

LoopServices *LoopServices::current() {
  Worker *w = Worker::current();
  return w ? &w->loop_services : nullptr;
}

axle_timer_t *LoopServices::timer_start(uint64_t delay_ms, uint64_t repeat_ms, axle_task_fn fn, void *arg) {
  if (!on_thread()) {
    spdlog::error("timer_start on worker {} called from another thread: refused", worker_.index);
    return nullptr;
  }
  TimerQueue::Handle h = timers_.start(monotonic_ms(true), delay_ms, repeat_ms, fn, arg);
  if (h == 0) {
    spdlog::error("timer_start on worker {}: refused ({} timers, the bound is {}, or no fn)", worker_.index,
                  timers_.size(), TimerQueue::kMaxTimers);
    return nullptr;
  }
  arm();
  return reinterpret_cast<axle_timer_t *>(static_cast<uintptr_t>(h));
}

void LoopServices::timer_stop(axle_timer_t *timer) {
  if (!timer) return;
  // A live timer not found here was another worker's (wrong thread); a
  // stale handle of our own is the documented no-op.
  (void)timers_.stop(static_cast<TimerQueue::Handle>(reinterpret_cast<uintptr_t>(timer)));
  // No re-arm: an early on_timer finds nothing due and arms for the next one.
}

void LoopServices::run_timers(bool fired) {
  if (fired) armed_deadline_ = UINT64_MAX;  // arm again below
  uint64_t now = monotonic_ms();
  if (timers_.next_deadline() > now) return arm();
  timers_.run_due(now);
  arm();
}

void LoopServices::drop_timers() {
  timers_.clear();
  armed_deadline_ = UINT64_MAX;
}

void LoopServices::arm() {
  uint64_t next = timers_.next_deadline();
  const axle_io_vtable_t *io = worker_.gen.io_vt;
  // Only an earlier deadline needs the io module: a later one is found when
  // the armed one fires. An ABI 1.1 io module has no timer: on_tick runs them.
  if (next >= armed_deadline_ || !worker_.loop || !AXLE_STRUCT_HAS(io, axle_io_vtable_t, timer_arm) ||
      !io->timer_arm)
    return;
  uint64_t now = monotonic_ms();
  io->timer_arm(worker_.loop, next > now ? next - now : 0);
  armed_deadline_ = next;
}

axle_status_t LoopServices::post(axle_task_fn fn, void *arg) {
  if (!fn) return AXLE_ERR_INVALID;
  switch (tasks_.push({fn, arg})) {
    case TaskQueue::Push::kQueuedWake:
      worker_.wake();
      return AXLE_OK;
    case TaskQueue::Push::kQueued:
      return AXLE_OK;
    case TaskQueue::Push::kFull:
      return AXLE_AGAIN;
    case TaskQueue::Push::kClosed:
      break;
  }
  return AXLE_ERR_INVALID;
}

void LoopServices::run_posted() {
  tasks_.take_all(batch_);
  for (const TaskQueue::Task &t : batch_) t.fn(t.arg);  // a task posted meanwhile woke the loop again
  batch_.clear();
}

void LoopServices::stop_posting() {
  tasks_.close();
  run_posted();
}

}  // namespace axle
