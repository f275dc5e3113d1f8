// Network plumbing shared by the continuous off-policy agents (SAC, TD3, DDPG):
//   torch_mlp       an Mlp initialised as PyTorch's nn.Linear (what SB3's actors and critics get)
//   infer           no-tape forward into a caller's workspace (one workspace per batch size, so
//                   acting on 1 observation and training on 256 never reallocate)
//   forward_frozen  a forward on a tape with the weights as constants: gradients reach the input
//                   (the action in an actor loss) but no weight gradient is computed for the critic
//   stack_rows      [obs; action] as one critic input, without a tape
//   TargetNet       Polyak averaging over cached parameter pairs (no lookups, no allocation)
#pragma once

#include <utility>
#include <vector>

#include <Eigen/Core>

#include "core/rng.h"
#include "nn/activation.h"
#include "nn/mlp.h"

namespace keel::agents {

// {in, hidden..., out}
std::vector<int> layer_sizes(int in, const std::vector<int>& hidden, int out);

nn::Mlp torch_mlp(const std::vector<int>& sizes, nn::Activation hidden, nn::Activation output,
                  Rng& rng);

// Per-layer buffers of a no-tape forward.
using MlpWorkspace = std::vector<Eigen::MatrixXf>;
const Eigen::MatrixXf& infer(nn::Mlp& net, const Eigen::MatrixXf& x, MlpWorkspace& ws);

nn::Var forward_frozen(nn::Tape& t, nn::Mlp& net, nn::Var x);

// out = [top; bottom] (same number of columns).
void stack_rows(const Eigen::MatrixXf& top, const Eigen::MatrixXf& bottom, Eigen::MatrixXf& out);

class TargetNet {
 public:
  TargetNet() = default;
  // Both modules must outlive this and have the same architecture (checked).
  TargetNet(nn::Module& online, nn::Module& target);
  void polyak(float tau);  // target ← tau·online + (1 − tau)·target
  void copy() { polyak(1.f); }

 private:
  std::vector<std::pair<nn::Parameter*, nn::Parameter*>> pairs_;  // (online, target)
};

}  // namespace keel::agents
