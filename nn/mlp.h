// Mlp: a stack of Linear layers with one activation between them and an optional output
// activation. Built from sizes and activation names, e.g.
//   Mlp net({8, 64, 64, 4}, "tanh", "identity", rng);
#pragma once

#include <Eigen/Core>
#include <string_view>
#include <vector>

#include "nn/activation.h"
#include "nn/module.h"

namespace keel::nn {

struct MlpSpec {
  std::vector<int> sizes;  // input, hidden..., output (at least 2 entries)
  Activation activation = Activation::kTanh;
  Activation output_activation = Activation::kIdentity;
  InitKind init = InitKind::kOrthogonal;
  float hidden_gain = 1.41421356f;  // sqrt(2), the PPO default for hidden layers
  float output_gain = 1.f;          // PPO uses 0.01 for policy heads, 1 for value heads
};

class Mlp : public Module {
 public:
  Mlp() = default;
  Mlp(const MlpSpec& spec, Rng& rng);
  Mlp(std::vector<int> sizes, std::string_view activation, std::string_view output_activation,
      Rng& rng);

  // On a tape: returns the output Var (out_features × batch).
  Var forward(Tape& t, Var x);
  // No tape, for acting. Returns a reference to an internal buffer valid until the next call;
  // after the first call with a given batch size it allocates nothing.
  const Eigen::MatrixXf& infer(const Eigen::MatrixXf& x);
  void infer(const Eigen::MatrixXf& x, Eigen::MatrixXf& out);

  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;

  const MlpSpec& spec() const { return spec_; }
  int in_features() const { return spec_.sizes.front(); }
  int out_features() const { return spec_.sizes.back(); }
  std::vector<Linear>& layers() { return layers_; }

 private:
  MlpSpec spec_;
  std::vector<Linear> layers_;
  std::vector<Eigen::MatrixXf> buffers_;  // per-layer inference outputs
};

}  // namespace keel::nn
