// LSTM and GRU cells with sequence unrolling; backward() through the unrolled graph is BPTT.
// Gate layout follows PyTorch (LSTM: i, f, g, o; GRU: r, z, n), so weights can be ported.
// To reset the state at episode boundaries multiply it by a (1 - done) constant between steps.
#pragma once

#include <span>
#include <vector>

#include "nn/module.h"

namespace keel::nn {

struct RecurrentState {
  Var h;  // hidden × batch
  Var c;  // cell × batch (LSTM only)
};

class Lstm : public Module {
 public:
  Lstm() = default;
  // Weights and biases U(±1/sqrt(hidden)) like PyTorch.
  Lstm(int input, int hidden, Rng& rng);
  RecurrentState initial_state(Tape& t, Eigen::Index batch) const;
  RecurrentState step(Tape& t, Var x, const RecurrentState& s);
  // Runs the cell over xs (one Var per time step); returns the hidden outputs, and leaves the
  // final state in s.
  std::vector<Var> unroll(Tape& t, std::span<const Var> xs, RecurrentState& s);
  // No tape, for acting: updates h and c (hidden × batch) in place; allocates nothing once warm.
  void infer_step(const Eigen::MatrixXf& x, Eigen::MatrixXf& h, Eigen::MatrixXf& c);
  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;
  int hidden_size() const { return static_cast<int>(w_hh.value.cols()); }

  Parameter w_ih, w_hh, b_ih, b_hh;  // 4H×I, 4H×H, 4H×1, 4H×1

 private:
  Eigen::MatrixXf gates_;
};

class Gru : public Module {
 public:
  Gru() = default;
  Gru(int input, int hidden, Rng& rng);
  RecurrentState initial_state(Tape& t, Eigen::Index batch) const;
  RecurrentState step(Tape& t, Var x, const RecurrentState& s);
  std::vector<Var> unroll(Tape& t, std::span<const Var> xs, RecurrentState& s);
  // No tape, for acting: updates h (hidden × batch) in place; allocates nothing once warm.
  void infer_step(const Eigen::MatrixXf& x, Eigen::MatrixXf& h);
  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;
  int hidden_size() const { return static_cast<int>(w_hh.value.cols()); }

  Parameter w_ih, w_hh, b_ih, b_hh;  // 3H×I, 3H×H, 3H×1, 3H×1

 private:
  Eigen::MatrixXf gi_, gh_;
};

}  // namespace keel::nn
