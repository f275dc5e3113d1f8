#include "replay/rate_limiter.h"

#include <limits>
#include <string>

#include "core/error.h"

namespace keel::replay {
namespace {
using Clock = std::chrono::steady_clock;

// Waits on cv until ok() or closed or the deadline; returns the status and adds the waited time.
template <class Ok>
WaitStatus wait_for(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                    std::chrono::nanoseconds timeout, const bool& closed, Ok ok, int64_t& waits,
                    int64_t& timeouts, double& seconds) {
  if (closed) return WaitStatus::kClosed;
  if (ok()) return WaitStatus::kOk;
  ++waits;
  const auto start = Clock::now();
  auto pred = [&] { return closed || ok(); };
  bool done;
  if (timeout == kWaitForever) {
    cv.wait(lock, pred);
    done = true;
  } else {
    done = cv.wait_until(lock, start + timeout, pred);
  }
  seconds += std::chrono::duration<double>(Clock::now() - start).count();
  if (closed) return WaitStatus::kClosed;
  if (!done) {
    ++timeouts;
    return WaitStatus::kTimeout;
  }
  return WaitStatus::kOk;
}
}  // namespace

RateLimiter::RateLimiter(RateLimiterConfig config) : config_(config) {
  if (config.min_size_to_sample < 1) {
    throw Error("rate limiter", "min_size_to_sample must be >= 1", ">= 1",
                std::to_string(config.min_size_to_sample));
  }
  if (config.samples_per_insert > 0.0 && !(config.tolerance >= 0.0)) {
    throw Error("rate limiter", "tolerance must be >= 0", ">= 0", std::to_string(config.tolerance));
  }
}

double RateLimiter::min_diff() const {
  if (config_.samples_per_insert <= 0.0) return -std::numeric_limits<double>::infinity();
  return static_cast<double>(config_.min_size_to_sample) * config_.samples_per_insert -
         config_.tolerance;
}

double RateLimiter::max_diff() const {
  if (config_.samples_per_insert <= 0.0) return std::numeric_limits<double>::infinity();
  return static_cast<double>(config_.min_size_to_sample) * config_.samples_per_insert +
         config_.tolerance;
}

double RateLimiter::diff() const {
  std::lock_guard lock(mu_);
  return static_cast<double>(c_.inserted) * config_.samples_per_insert -
         static_cast<double>(c_.sampled);
}

bool RateLimiter::insert_ok(int64_t n) const {
  if (config_.samples_per_insert <= 0.0) return true;
  const double d = static_cast<double>(reserved_ + n) * config_.samples_per_insert -
                   static_cast<double>(c_.sampled);
  return d <= max_diff();
}

bool RateLimiter::sample_ok(int64_t n) const {
  if (c_.inserted < config_.min_size_to_sample) return false;
  if (config_.samples_per_insert <= 0.0) return true;
  const double d = static_cast<double>(c_.inserted) * config_.samples_per_insert -
                   static_cast<double>(c_.sampled + n);
  return d >= min_diff();
}

WaitStatus RateLimiter::acquire_insert(int64_t n, std::chrono::nanoseconds timeout) {
  std::unique_lock lock(mu_);
  ++c_.insert_calls;
  const WaitStatus s = wait_for(
      lock, insert_cv_, timeout, closed_, [&] { return insert_ok(n); }, c_.insert_waits,
      c_.insert_timeouts, c_.insert_wait_seconds);
  if (s == WaitStatus::kOk) reserved_ += n;
  return s;
}

void RateLimiter::commit_insert(int64_t n) {
  {
    std::lock_guard lock(mu_);
    c_.inserted += n;
  }
  sample_cv_.notify_all();
}

WaitStatus RateLimiter::acquire_sample(int64_t n, std::chrono::nanoseconds timeout) {
  WaitStatus s;
  {
    std::unique_lock lock(mu_);
    ++c_.sample_calls;
    s = wait_for(
        lock, sample_cv_, timeout, closed_, [&] { return sample_ok(n); }, c_.sample_waits,
        c_.sample_timeouts, c_.sample_wait_seconds);
    if (s == WaitStatus::kOk) c_.sampled += n;
  }
  if (s == WaitStatus::kOk) insert_cv_.notify_all();
  return s;
}

void RateLimiter::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  insert_cv_.notify_all();
  sample_cv_.notify_all();
}

bool RateLimiter::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

ReplayCounters RateLimiter::counters() const {
  std::lock_guard lock(mu_);
  return c_;
}

void RateLimiter::restore(int64_t inserted, int64_t sampled) {
  {
    std::lock_guard lock(mu_);
    c_ = ReplayCounters{};
    c_.inserted = inserted;
    c_.sampled = sampled;
    reserved_ = inserted;
  }
  insert_cv_.notify_all();
  sample_cv_.notify_all();
}

}  // namespace keel::replay
