// Running mean and variance of observations (Chan et al. parallel update, in double), as
// Stable-Baselines3's VecNormalize keeps them; and a discounted-return scaler for rewards.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace keel::replay {
class ByteWriter;
class ByteReader;
}  // namespace keel::replay

namespace keel::agents {

class RunningMeanStd {
 public:
  explicit RunningMeanStd(int dim = 0);
  int dim() const { return static_cast<int>(mean_.size()); }
  // Adds the columns of x (dim × batch).
  void update(const Eigen::MatrixXf& x);
  // out = clip((x - mean) / sqrt(var + eps), -clip, clip), column by column.
  void normalize(const Eigen::MatrixXf& x, Eigen::MatrixXf& out, float clip = 10.f,
                 float eps = 1e-8f) const;
  Eigen::VectorXf mean() const { return mean_.cast<float>(); }
  Eigen::VectorXf var() const { return var_.cast<float>(); }
  double count() const { return count_; }
  void save(replay::ByteWriter& w) const;
  void load(replay::ByteReader& r);

 private:
  Eigen::VectorXd mean_, var_;
  double count_ = 1e-4;
};

// Scales rewards by the running standard deviation of the discounted return (VecNormalize's
// norm_reward): per env, ret = ret * gamma + r; reward / sqrt(var(ret) + eps), clipped.
class RewardScaler {
 public:
  RewardScaler(int num_envs = 1, double gamma = 0.99, float clip = 10.f);
  // Scales rewards in place; `done` resets the env's running return after use.
  void scale(Eigen::VectorXf& rewards, const uint8_t* terminated, const uint8_t* truncated);
  void save(replay::ByteWriter& w) const;
  void load(replay::ByteReader& r);

 private:
  Eigen::VectorXd returns_;
  RunningMeanStd stats_{1};
  double gamma_;
  float clip_;
};

}  // namespace keel::agents
