// After warm-up, no-tape inference and a full training step (tape forward, loss, backward, Adam)
// allocate nothing. This binary interposes malloc to count allocations.
#include <atomic>
#include <cstdlib>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "nn/mlp.h"
#include "nn/ops.h"
#include "nn/optim.h"

// Eigen allocates with std::malloc (not operator new), so the whole malloc family is interposed;
// operator new in libstdc++ goes through malloc as well.
namespace {
std::atomic<long> g_allocations{0};
}

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t s) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, s);
}
void* realloc(void* p, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void free(void* p) {
  __libc_free(p);
}
}

namespace keel::nn {
namespace {

TEST(Allocations, InferenceAllocatesNothingAfterWarmup) {
  Rng rng(1);
  Mlp net({8, 64, 64, 4}, "tanh", "identity", rng);
  Eigen::MatrixXf obs = Eigen::MatrixXf::Random(8, 1);
  Eigen::MatrixXf out(4, 1);
  net.infer(obs, out);  // warm-up
  const long before = g_allocations.load();
  float acc = 0;
  for (int i = 0; i < 100; ++i) {
    obs(0, 0) = static_cast<float>(i) * 0.01f;
    net.infer(obs, out);
    acc += out(0, 0);
    acc += net.infer(obs)(1, 0);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_TRUE(std::isfinite(acc));
  // Sanity check that the counter works at all.
  const long c0 = g_allocations.load();
  Eigen::MatrixXf tmp(3, 3);
  tmp.setZero();
  EXPECT_GT(g_allocations.load() - c0, 0);
}

TEST(Allocations, TrainingStepAllocatesNothingAfterWarmup) {
  Rng rng(2);
  Mlp net({8, 64, 64, 4}, "tanh", "identity", rng);
  Adam opt(net.parameters(), {.lr = 1e-3f});
  const Eigen::MatrixXf x = Eigen::MatrixXf::Random(8, 32);
  const Eigen::MatrixXf y = Eigen::MatrixXf::Random(4, 32);
  Tape t;
  auto step = [&] {
    t.clear();
    opt.zero_grad();
    Var loss = mse(net.forward(t, t.constant_ref(x)), t.constant_ref(y));
    t.backward(loss);
    opt.step();
    return loss.item();
  };
  step();
  step();
  const long before = g_allocations.load();
  float acc = 0;
  for (int i = 0; i < 20; ++i) acc += step();
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_TRUE(std::isfinite(acc));
}

}  // namespace
}  // namespace keel::nn
