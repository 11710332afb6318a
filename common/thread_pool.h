#pragma once
// A fixed-size thread pool with a bounded task queue. Used for work that must stay off the
// consensus thread and use every core: batch signature verification, mempool admission checks.
//
// Bounds: `workers` threads, at most `max_queued` tasks waiting. Submit blocks while the queue is
// full (backpressure); TrySubmit returns false instead, so a caller can shed load or run the task
// itself. Shutdown (also run by the destructor) stops accepting tasks, runs every task already
// queued, and joins the workers. Tasks must not throw. A task must not wait for another task of
// the same pool (with every worker waiting, nothing would run).

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/assert.h"

namespace gongshe {

class ThreadPool {
 public:
  // `nice` (0 to 19) lowers the workers' scheduling priority below the creating thread's (Linux:
  // per thread; their niceness is the creator's plus `nice`, at most 19), so that bulk work yields
  // the CPU to latency-critical threads of the process, such as a consensus loop, however the
  // process itself was started.
  ThreadPool(size_t workers, size_t max_queued, int nice = 0) : max_queued_(max_queued) {
    GS_ASSERT(workers > 0);
    GS_ASSERT(max_queued > 0);
    GS_ASSERT(nice >= 0 && nice <= 19);
    threads_.reserve(workers);
    for (size_t i = 0; i < workers; ++i) {
      threads_.emplace_back([this, nice] {
        if (nice > 0) LowerPriority(nice);
        RunWorker();
      });
    }
  }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  ~ThreadPool() { Shutdown(); }

  size_t workers() const { return threads_.size(); }

  // Queues `task`, waiting while the queue is full. False (task dropped) once shut down.
  bool Submit(std::function<void()> task) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return stopping_ || queue_.size() < max_queued_; });
    if (stopping_) return false;
    Enqueue(std::move(task));
    return true;
  }

  // Queues `task` if there is room now. False (task dropped) if the queue is full or shut down.
  bool TrySubmit(std::function<void()> task) {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    Enqueue(std::move(task));
    return true;
  }

  // Like TrySubmit, but `task` runs before every task already waiting: for latency-critical work
  // (a block's signature checks) that must not wait behind a backlog.
  bool TrySubmitFirst(std::function<void()> task) {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    GS_ASSERT(task);
    queue_.push_front(std::move(task));
    not_empty_.notify_one();
    return true;
  }

  // Idempotent. Must not be called from one of the pool's own tasks.
  void Shutdown() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  // Adds `nice` to the calling thread's niceness (inherited from the creating thread), capped at
  // 19. Best effort: a refused change leaves the worker at the creator's priority.
  static void LowerPriority(int nice) {
    const auto tid = static_cast<id_t>(::gettid());
    errno = 0;
    const int current = ::getpriority(PRIO_PROCESS, tid);  // -1 is a valid niceness: check errno
    if (errno != 0) return;
    (void)::setpriority(PRIO_PROCESS, tid, std::min(19, current + nice));
  }

  // Requires mu_ held.
  void Enqueue(std::function<void()> task) {
    GS_ASSERT(task);
    GS_ASSERT(queue_.size() < max_queued_);
    queue_.push_back(std::move(task));
    not_empty_.notify_one();
  }

  void RunWorker() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        not_empty_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        // Drain what was accepted before stopping: a submitted task always runs.
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      not_full_.notify_one();
      task();
    }
  }

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gongshe
