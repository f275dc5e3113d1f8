#include "nn/recurrent.h"

#include <cmath>

#include "core/rng.h"
#include "nn/ops.h"

namespace keel::nn {
namespace {
Parameter uniform_param(int rows, int cols, float bound, Rng& rng) {
  Eigen::MatrixXf m(rows, cols);
  init_uniform(m, -bound, bound, rng);
  return Parameter(std::move(m));
}
}  // namespace

Lstm::Lstm(int input, int hidden, Rng& rng) {
  const float k = 1.f / std::sqrt(static_cast<float>(hidden));
  w_ih = uniform_param(4 * hidden, input, k, rng);
  w_hh = uniform_param(4 * hidden, hidden, k, rng);
  b_ih = uniform_param(4 * hidden, 1, k, rng);
  b_hh = uniform_param(4 * hidden, 1, k, rng);
}

RecurrentState Lstm::initial_state(Tape& t, Eigen::Index batch) const {
  const int h = static_cast<int>(w_hh.value.cols());
  return {t.constant(Eigen::MatrixXf::Zero(h, batch)), t.constant(Eigen::MatrixXf::Zero(h, batch))};
}

RecurrentState Lstm::step(Tape& t, Var x, const RecurrentState& s) {
  const int h = hidden_size();
  Var gates = linear(x, t.param(w_ih), t.param(b_ih)) + linear(s.h, t.param(w_hh), t.param(b_hh));
  Var i = sigmoid(slice(gates, 0, h));
  Var f = sigmoid(slice(gates, h, h));
  Var g = tanh(slice(gates, 2 * h, h));
  Var o = sigmoid(slice(gates, 3 * h, h));
  Var c = f * s.c + i * g;
  return {o * tanh(c), c};
}

std::vector<Var> Lstm::unroll(Tape& t, std::span<const Var> xs, RecurrentState& s) {
  std::vector<Var> out;
  out.reserve(xs.size());
  for (const Var& x : xs) {
    s = step(t, x, s);
    out.push_back(s.h);
  }
  return out;
}

void Lstm::infer_step(const Eigen::MatrixXf& x, Eigen::MatrixXf& h, Eigen::MatrixXf& c) {
  const int hs = hidden_size();
  gates_.resize(4 * hs, x.cols());
  gates_.noalias() = w_ih.value * x;
  gates_.noalias() += w_hh.value * h;
  gates_.colwise() += (b_ih.value + b_hh.value).col(0);
  auto sig = [](auto v) { return 0.5f * (0.5f * v).tanh() + 0.5f; };
  auto i = sig(gates_.middleRows(0, hs).array());
  auto f = sig(gates_.middleRows(hs, hs).array());
  auto g = gates_.middleRows(2 * hs, hs).array().tanh();
  auto o = sig(gates_.middleRows(3 * hs, hs).array());
  c.array() = f * c.array() + i * g;
  h.array() = o * c.array().tanh();
}

void Lstm::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  fn(prefix + "w_ih", w_ih);
  fn(prefix + "w_hh", w_hh);
  fn(prefix + "b_ih", b_ih);
  fn(prefix + "b_hh", b_hh);
}

Gru::Gru(int input, int hidden, Rng& rng) {
  const float k = 1.f / std::sqrt(static_cast<float>(hidden));
  w_ih = uniform_param(3 * hidden, input, k, rng);
  w_hh = uniform_param(3 * hidden, hidden, k, rng);
  b_ih = uniform_param(3 * hidden, 1, k, rng);
  b_hh = uniform_param(3 * hidden, 1, k, rng);
}

RecurrentState Gru::initial_state(Tape& t, Eigen::Index batch) const {
  const int h = static_cast<int>(w_hh.value.cols());
  Var zero = t.constant(Eigen::MatrixXf::Zero(h, batch));
  return {zero, zero};
}

RecurrentState Gru::step(Tape& t, Var x, const RecurrentState& s) {
  const int h = hidden_size();
  Var gi = linear(x, t.param(w_ih), t.param(b_ih));
  Var gh = linear(s.h, t.param(w_hh), t.param(b_hh));
  Var r = sigmoid(slice(gi, 0, h) + slice(gh, 0, h));
  Var z = sigmoid(slice(gi, h, h) + slice(gh, h, h));
  Var n = tanh(slice(gi, 2 * h, h) + r * slice(gh, 2 * h, h));
  Var hn = n + z * (s.h - n);  // (1 - z) ⊙ n + z ⊙ h
  return {hn, hn};
}

std::vector<Var> Gru::unroll(Tape& t, std::span<const Var> xs, RecurrentState& s) {
  std::vector<Var> out;
  out.reserve(xs.size());
  for (const Var& x : xs) {
    s = step(t, x, s);
    out.push_back(s.h);
  }
  return out;
}

void Gru::infer_step(const Eigen::MatrixXf& x, Eigen::MatrixXf& h) {
  const int hs = hidden_size();
  gi_.resize(3 * hs, x.cols());
  gh_.resize(3 * hs, x.cols());
  gi_.noalias() = w_ih.value * x;
  gi_.colwise() += b_ih.value.col(0);
  gh_.noalias() = w_hh.value * h;
  gh_.colwise() += b_hh.value.col(0);
  auto sig = [](auto v) { return 0.5f * (0.5f * v).tanh() + 0.5f; };
  // r overwrites gi's r rows; n is formed in gi's n rows; then h = n + z (h − n).
  gi_.middleRows(0, hs).array() =
      sig(gi_.middleRows(0, hs).array() + gh_.middleRows(0, hs).array());
  gi_.middleRows(hs, hs).array() =
      sig(gi_.middleRows(hs, hs).array() + gh_.middleRows(hs, hs).array());
  gi_.middleRows(2 * hs, hs).array() =
      (gi_.middleRows(2 * hs, hs).array() +
       gi_.middleRows(0, hs).array() * gh_.middleRows(2 * hs, hs).array())
          .tanh();
  h.array() = gi_.middleRows(2 * hs, hs).array() +
              gi_.middleRows(hs, hs).array() * (h.array() - gi_.middleRows(2 * hs, hs).array());
}

void Gru::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  fn(prefix + "w_ih", w_ih);
  fn(prefix + "w_hh", w_hh);
  fn(prefix + "b_ih", b_ih);
  fn(prefix + "b_hh", b_hh);
}

}  // namespace keel::nn
