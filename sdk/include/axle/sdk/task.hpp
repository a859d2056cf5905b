// axle C++ SDK: Task, the return type of a coroutine handler and of any
// helper coroutine it awaits.
//
// A Task starts suspended and owns its frame: destroying the Task destroys
// the frame (running the destructors of its locals, so timers stop and
// outgoing connections close). `co_await task` runs it to completion and
// gives back its exception, if any. Nothing here is thread-safe: a request's
// coroutines all run on its worker's thread.
#pragma once

#include <coroutine>
#include <exception>
#include <utility>

namespace axle::sdk {

class [[nodiscard]] Task {
 public:
  struct promise_type {
    std::exception_ptr error;
    std::coroutine_handle<> continuation;  // who awaits this task; none for the handler's own

    Task get_return_object() noexcept { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    // Hands control back to the awaiting coroutine, or to whoever resumed us.
    auto final_suspend() noexcept {
      struct Final {
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
          auto next = h.promise().continuation;
          return next ? next : std::noop_coroutine();
        }
        void await_resume() noexcept {}
      };
      return Final{};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;  // empty: owns no frame
  Task(Task &&other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task &operator=(Task &&other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  Task(const Task &) = delete;
  Task &operator=(const Task &) = delete;
  ~Task() { reset(); }

  // Runs the task inside the awaiting coroutine; rethrows its exception.
  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle h;
      bool await_ready() noexcept { return !h || h.done(); }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        h.promise().continuation = awaiting;
        return h;
      }
      void await_resume() {
        if (h && h.promise().error) std::rethrow_exception(h.promise().error);
      }
    };
    return Awaiter{h_};
  }

  // For the SDK's glue: the frame, still owned by this Task.
  Handle handle() const noexcept { return h_; }

 private:
  explicit Task(Handle h) noexcept : h_(h) {}
  void reset() noexcept {
    if (h_) std::exchange(h_, {}).destroy();
  }

  Handle h_{};
};

}  // namespace axle::sdk
