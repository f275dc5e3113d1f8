// Training-step and inference cost of keel::nn against a hand-written Eigen MLP (the floor).
// One step = forward, MSE loss, backward, Adam update. Run single-threaded:
//   build-nn/bench/nn/nn_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "core/fpu.h"
#include "core/rng.h"
#include "nn/mlp.h"
#include "nn/ops.h"
#include "nn/optim.h"

namespace {

using Eigen::MatrixXf;

struct Arch {
  std::vector<int> sizes;
  bool relu;
};
const Arch kArchs[] = {{{8, 64, 64, 4}, false}, {{24, 256, 256, 4}, true}};

MatrixXf random_matrix(int r, int c, keel::Rng& rng) {
  MatrixXf m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m(i) = static_cast<float>(rng.uniform(-1, 1));
  return m;
}

// The floor: explicit forward/backward with preallocated buffers and the same Adam update.
class HandMlp {
 public:
  HandMlp(const Arch& a, keel::Rng& rng) : relu_(a.relu) {
    const size_t n = a.sizes.size() - 1;
    for (size_t l = 0; l < n; ++l) {
      w_.push_back(random_matrix(a.sizes[l + 1], a.sizes[l], rng) * 0.2f);
      b_.push_back(MatrixXf::Zero(a.sizes[l + 1], 1));
    }
    gw_ = mw_ = vw_ = w_;
    gb_ = mb_ = vb_ = b_;
    for (auto* v : {&mw_, &vw_})
      for (auto& m : *v) m.setZero();
    for (auto* v : {&mb_, &vb_})
      for (auto& m : *v) m.setZero();
    h_.resize(n + 1);
    d_.resize(n);
  }

  void forward(const MatrixXf& x) {
    const size_t n = w_.size();
    const MatrixXf* in = &x;
    for (size_t l = 0; l < n; ++l) {
      MatrixXf& out = h_[l + 1];
      out.resize(w_[l].rows(), x.cols());
      out.noalias() = w_[l] * *in;
      out.colwise() += b_[l].col(0);
      if (l + 1 < n) {
        if (relu_)
          out = out.array().max(0.f);
        else
          out = out.array().tanh();
      }
      in = &out;
    }
  }

  float train_step(const MatrixXf& x, const MatrixXf& y) {
    forward(x);
    const size_t n = w_.size();
    MatrixXf& d = d_[n - 1];
    d = h_[n] - y;
    const float loss = d.squaredNorm() / static_cast<float>(d.size());
    d *= 2.f / static_cast<float>(d.size());
    for (size_t l = n; l-- > 0;) {
      const MatrixXf& in = l == 0 ? x : h_[l];
      gw_[l].noalias() = d_[l] * in.transpose();
      gb_[l] = d_[l].rowwise().sum();
      if (l > 0) {
        d_[l - 1].noalias() = w_[l].transpose() * d_[l];
        if (relu_)
          d_[l - 1] = (h_[l].array() > 0.f).select(d_[l - 1].array(), 0.f);
        else
          d_[l - 1].array() *= 1.f - h_[l].array().square();
      }
    }
    ++t_;
    const float bc1 = 1.f - std::pow(0.9f, static_cast<float>(t_));
    const float bc2 = 1.f - std::pow(0.999f, static_cast<float>(t_));
    const float step = 1e-3f / bc1, inv = 1.f / std::sqrt(bc2);
    auto adam = [&](MatrixXf& p, const MatrixXf& g, MatrixXf& m, MatrixXf& v) {
      m.array() = 0.9f * m.array() + 0.1f * g.array();
      v.array() = 0.999f * v.array() + 0.001f * g.array().square();
      p.array() -= step * m.array() / (v.array().sqrt() * inv + 1e-8f);
    };
    for (size_t l = 0; l < n; ++l) {
      adam(w_[l], gw_[l], mw_[l], vw_[l]);
      adam(b_[l], gb_[l], mb_[l], vb_[l]);
    }
    return loss;
  }

  const MatrixXf& infer(const MatrixXf& x) {
    forward(x);
    return h_.back();
  }

 private:
  bool relu_;
  std::vector<MatrixXf> w_, b_, gw_, gb_, mw_, vw_, mb_, vb_, h_, d_;
  int t_ = 0;
};

void BM_HandStep(benchmark::State& state) {
  keel::ScopedFlushDenormals ftz;
  const Arch& a = kArchs[state.range(0)];
  const int batch = static_cast<int>(state.range(1));
  keel::Rng rng(1);
  HandMlp net(a, rng);
  const MatrixXf x = random_matrix(a.sizes.front(), batch, rng);
  const MatrixXf y = random_matrix(a.sizes.back(), batch, rng);
  for (auto _ : state) benchmark::DoNotOptimize(net.train_step(x, y));
}

void BM_KeelStep(benchmark::State& state) {
  keel::ScopedFlushDenormals ftz;
  const Arch& a = kArchs[state.range(0)];
  const int batch = static_cast<int>(state.range(1));
  keel::Rng rng(1);
  keel::nn::Mlp net(a.sizes, a.relu ? "relu" : "tanh", "identity", rng);
  keel::nn::Adam opt(net.parameters(), {.lr = 1e-3f});
  const MatrixXf x = random_matrix(a.sizes.front(), batch, rng);
  const MatrixXf y = random_matrix(a.sizes.back(), batch, rng);
  keel::nn::Tape tape;
  for (auto _ : state) {
    tape.clear();
    opt.zero_grad();
    keel::nn::Var loss =
        keel::nn::mse(net.forward(tape, tape.constant_ref(x)), tape.constant_ref(y));
    tape.backward(loss);
    opt.step();
    benchmark::DoNotOptimize(loss.item());
  }
}

void BM_HandInfer(benchmark::State& state) {
  keel::ScopedFlushDenormals ftz;
  const Arch& a = kArchs[state.range(0)];
  keel::Rng rng(1);
  HandMlp net(a, rng);
  const MatrixXf x = random_matrix(a.sizes.front(), 1, rng);
  for (auto _ : state) benchmark::DoNotOptimize(net.infer(x).data());
}

void BM_KeelInfer(benchmark::State& state) {
  keel::ScopedFlushDenormals ftz;
  const Arch& a = kArchs[state.range(0)];
  keel::Rng rng(1);
  keel::nn::Mlp net(a.sizes, a.relu ? "relu" : "tanh", "identity", rng);
  const MatrixXf x = random_matrix(a.sizes.front(), 1, rng);
  for (auto _ : state) benchmark::DoNotOptimize(net.infer(x).data());
}

void step_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"arch", "batch"});
  for (int arch : {0, 1})
    for (int batch : {64, 256, 4096}) b->Args({arch, batch});
  b->Unit(benchmark::kMicrosecond);
}

void infer_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"arch"});
  b->Arg(0)->Arg(1);
  b->Unit(benchmark::kNanosecond);
}

BENCHMARK(BM_HandStep)->Apply(step_args);
BENCHMARK(BM_KeelStep)->Apply(step_args);
BENCHMARK(BM_HandInfer)->Apply(infer_args);
BENCHMARK(BM_KeelInfer)->Apply(infer_args);

}  // namespace

BENCHMARK_MAIN();
