// Optimizers over a list of Parameters: SGD (momentum, Nesterov), Adam, AdamW, RMSprop.
// Update rules follow PyTorch's documented algorithms; RMSprop can also put epsilon inside the
// square root as TensorFlow does. All state (moments, step count) is allocated up front and exposed
// by name through visit_state() so checkpoints can save and restore it exactly.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "nn/tape.h"

namespace keel::nn {

class Optimizer {
 public:
  using StateVisitor = std::function<void(const std::string& name, Eigen::MatrixXf& m)>;

  Optimizer(std::vector<Parameter*> params, float lr);
  virtual ~Optimizer() = default;

  virtual void step() = 0;  // applies one update from the parameters' grads; step_count() += 1
  void zero_grad();
  virtual std::string_view kind() const = 0;  // "sgd", "adam", "adamw", "rmsprop"
  virtual void visit_state(const StateVisitor& fn) = 0;

  float lr() const { return lr_; }
  void set_lr(float lr) { lr_ = lr; }
  int64_t step_count() const { return step_; }
  void set_step_count(int64_t s) { step_ = s; }
  const std::vector<Parameter*>& params() const { return params_; }

 protected:
  std::vector<Eigen::MatrixXf> zeros_like_params(float fill = 0.f) const;
  std::vector<Parameter*> params_;
  float lr_;
  int64_t step_ = 0;
};

struct SgdOptions {
  float lr = 1e-2f;
  float momentum = 0.f;
  float dampening = 0.f;
  bool nesterov = false;
  float weight_decay = 0.f;  // L2: g += wd · p
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<Parameter*> params, const SgdOptions& o = {});
  void step() override;
  std::string_view kind() const override { return "sgd"; }
  void visit_state(const StateVisitor& fn) override;
  const SgdOptions& options() const { return o_; }

 private:
  SgdOptions o_;
  std::vector<Eigen::MatrixXf> buf_;
};

struct AdamOptions {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.f;  // Adam: L2 added to the gradient; AdamW: decoupled p -= lr·wd·p
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Parameter*> params, const AdamOptions& o = {});
  void step() override;
  std::string_view kind() const override { return decoupled_ ? "adamw" : "adam"; }
  void visit_state(const StateVisitor& fn) override;
  const AdamOptions& options() const { return o_; }

 protected:
  Adam(std::vector<Parameter*> params, const AdamOptions& o, bool decoupled);

 private:
  AdamOptions o_;
  bool decoupled_ = false;
  std::vector<Eigen::MatrixXf> m_, v_;
};

// AdamW (Loshchilov & Hutter): weight decay applied to the parameters, not the gradient.
class AdamW : public Adam {
 public:
  AdamW(std::vector<Parameter*> params, const AdamOptions& o = {0.001f, 0.9f, 0.999f, 1e-8f, 0.01f})
      : Adam(std::move(params), o, true) {}
};

enum class EpsPlacement {
  kOutsideSqrt,  // PyTorch: g / (sqrt(v) + eps)
  kInsideSqrt,   // TensorFlow: g / sqrt(v + eps)
};

struct RmspropOptions {
  float lr = 1e-2f;
  float alpha = 0.99f;  // smoothing constant (TensorFlow's rho / decay)
  float eps = 1e-8f;
  float momentum = 0.f;
  bool centered = false;
  EpsPlacement eps_placement = EpsPlacement::kOutsideSqrt;
  float initial_square_avg = 0.f;  // TF1 and SB3's RMSpropTFLike start at 1
  float weight_decay = 0.f;        // L2
};

class Rmsprop : public Optimizer {
 public:
  Rmsprop(std::vector<Parameter*> params, const RmspropOptions& o = {});
  void step() override;
  std::string_view kind() const override { return "rmsprop"; }
  void visit_state(const StateVisitor& fn) override;
  const RmspropOptions& options() const { return o_; }

 private:
  RmspropOptions o_;
  std::vector<Eigen::MatrixXf> square_avg_, grad_avg_, buf_;
};

}  // namespace keel::nn
