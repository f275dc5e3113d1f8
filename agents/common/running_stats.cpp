#include "agents/common/running_stats.h"

#include <cmath>

#include "replay/checkpoint.h"

namespace keel::agents {

RunningMeanStd::RunningMeanStd(int dim)
    : mean_(Eigen::VectorXd::Zero(dim)), var_(Eigen::VectorXd::Ones(dim)) {}

void RunningMeanStd::update(const Eigen::MatrixXf& x) {
  const double n = static_cast<double>(x.cols());
  if (n == 0) return;
  const Eigen::MatrixXd xd = x.cast<double>();
  const Eigen::VectorXd batch_mean = xd.rowwise().mean();
  const Eigen::VectorXd batch_var =
      (xd.colwise() - batch_mean).array().square().rowwise().sum() / n;
  const Eigen::VectorXd delta = batch_mean - mean_;
  const double total = count_ + n;
  mean_ += delta * (n / total);
  const Eigen::VectorXd m2 =
      var_ * count_ + batch_var * n + delta.array().square().matrix() * (count_ * n / total);
  var_ = m2 / total;
  count_ = total;
}

void RunningMeanStd::normalize(const Eigen::MatrixXf& x, Eigen::MatrixXf& out, float clip,
                               float eps) const {
  const Eigen::ArrayXf m = mean_.cast<float>().array();
  const Eigen::ArrayXf inv = (var_.cast<float>().array() + eps).sqrt().inverse();
  out.resize(x.rows(), x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    out.col(j) = ((x.col(j).array() - m) * inv).cwiseMax(-clip).cwiseMin(clip).matrix();
}

void RunningMeanStd::save(replay::ByteWriter& w) const {
  w.put<int64_t>(mean_.size());
  w.bytes(mean_.data(), sizeof(double) * mean_.size());
  w.bytes(var_.data(), sizeof(double) * var_.size());
  w.put<double>(count_);
}

void RunningMeanStd::load(replay::ByteReader& r) {
  r.expect_equal<int64_t>("normalizer size", mean_.size(), r.get<int64_t>());
  r.bytes(mean_.data(), sizeof(double) * mean_.size());
  r.bytes(var_.data(), sizeof(double) * var_.size());
  count_ = r.get<double>();
}

RewardScaler::RewardScaler(int num_envs, double gamma, float clip)
    : returns_(Eigen::VectorXd::Zero(num_envs)), gamma_(gamma), clip_(clip) {}

void RewardScaler::scale(Eigen::VectorXf& rewards, const uint8_t* terminated,
                         const uint8_t* truncated) {
  returns_ = returns_ * gamma_ + rewards.cast<double>();
  stats_.update(returns_.cast<float>().transpose());
  const float inv = 1.0f / std::sqrt(stats_.var()(0) + 1e-8f);
  for (Eigen::Index i = 0; i < rewards.size(); ++i) {
    rewards(i) = std::min(std::max(rewards(i) * inv, -clip_), clip_);
    if (terminated[i] || truncated[i]) returns_(i) = 0.0;
  }
}

void RewardScaler::save(replay::ByteWriter& w) const {
  w.put<int64_t>(returns_.size());
  w.bytes(returns_.data(), sizeof(double) * returns_.size());
  stats_.save(w);
}

void RewardScaler::load(replay::ByteReader& r) {
  r.expect_equal<int64_t>("reward scaler envs", returns_.size(), r.get<int64_t>());
  r.bytes(returns_.data(), sizeof(double) * returns_.size());
  stats_.load(r);
}

}  // namespace keel::agents
