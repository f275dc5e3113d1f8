// Module: something with named parameters (trained) and buffers (state that is saved but not
// trained, e.g. BatchNorm running statistics). Linear, the basic layer, lives here too.
//
// A module lists its tensors through visit_parameters / visit_buffers; composite modules forward
// the visit to their children with a dotted prefix ("layers.0.weight"). Parameter pointers stay
// valid as long as the module is not moved.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "nn/init.h"
#include "nn/tape.h"

namespace keel {
class Rng;
}

namespace keel::nn {

class Module {
 public:
  using ParamVisitor = std::function<void(const std::string& name, Parameter& p)>;
  using BufferVisitor = std::function<void(const std::string& name, Eigen::MatrixXf& b)>;

  virtual ~Module() = default;

  virtual void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) = 0;
  virtual void visit_buffers(const BufferVisitor& /*fn*/, const std::string& /*prefix*/ = {}) {}
  // Train/eval mode (BatchNorm, Dropout). Composite modules forward it to their children.
  virtual void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }

  std::vector<Parameter*> parameters();
  std::vector<std::pair<std::string, Parameter*>> named_parameters();
  std::vector<std::pair<std::string, Eigen::MatrixXf*>> named_buffers();
  Eigen::Index num_parameters();
  void zero_grad();

 protected:
  bool training_ = true;
};

// y = W x + b with W out × in and b out × 1.
class Linear : public Module {
 public:
  Linear() = default;
  // Weight from `init` with `gain`, bias zero.
  Linear(int in, int out, Rng& rng, InitKind init = InitKind::kOrthogonal, float gain = 1.f);

  Var forward(Tape& t, Var x) { return forward_impl(t, x); }
  // No tape: out = W x + b (out is resized; no allocation once it has the right shape).
  void infer(const Eigen::MatrixXf& x, Eigen::MatrixXf& out) const;

  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;
  int in_features() const { return static_cast<int>(weight.value.cols()); }
  int out_features() const { return static_cast<int>(weight.value.rows()); }

  Parameter weight, bias;

 private:
  Var forward_impl(Tape& t, Var x);
};

}  // namespace keel::nn
