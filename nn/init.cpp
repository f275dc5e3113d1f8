#include "nn/init.h"

#include <Eigen/QR>
#include <cmath>

#include "core/rng.h"

namespace keel::nn {

void init_orthogonal(Eigen::MatrixXf& w, float gain, Rng& rng) {
  const Eigen::Index rows = w.rows(), cols = w.cols();
  if (w.size() == 0) return;
  // Work in double on the tall orientation, like torch (transposes when rows < cols).
  const bool transpose = rows < cols;
  const Eigen::Index r = transpose ? cols : rows, c = transpose ? rows : cols;
  Eigen::MatrixXd a(r, c);
  for (Eigen::Index j = 0; j < c; ++j)
    for (Eigen::Index i = 0; i < r; ++i) a(i, j) = rng.normal();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(r, c);
  const Eigen::MatrixXd rmat = qr.matrixQR().topRows(c).template triangularView<Eigen::Upper>();
  for (Eigen::Index j = 0; j < c; ++j)
    if (rmat(j, j) < 0) q.col(j) *= -1.0;
  if (transpose) q.transposeInPlace();
  w = (q * gain).cast<float>();
}

void init_uniform(Eigen::MatrixXf& w, float lo, float hi, Rng& rng) {
  for (Eigen::Index j = 0; j < w.cols(); ++j)
    for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = static_cast<float>(rng.uniform(lo, hi));
}

namespace {
void init_normal(Eigen::MatrixXf& w, double stddev, Rng& rng) {
  for (Eigen::Index j = 0; j < w.cols(); ++j)
    for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = static_cast<float>(rng.normal() * stddev);
}
}  // namespace

void init_xavier_uniform(Eigen::MatrixXf& w, float gain, Rng& rng) {
  const float a = gain * std::sqrt(6.f / static_cast<float>(w.rows() + w.cols()));
  init_uniform(w, -a, a, rng);
}
void init_xavier_normal(Eigen::MatrixXf& w, float gain, Rng& rng) {
  init_normal(w, gain * std::sqrt(2.0 / static_cast<double>(w.rows() + w.cols())), rng);
}
void init_kaiming_uniform(Eigen::MatrixXf& w, float gain, Rng& rng) {
  const float a = gain * std::sqrt(3.f / static_cast<float>(w.cols()));
  init_uniform(w, -a, a, rng);
}
void init_kaiming_normal(Eigen::MatrixXf& w, float gain, Rng& rng) {
  init_normal(w, gain / std::sqrt(static_cast<double>(w.cols())), rng);
}
void init_constant(Eigen::MatrixXf& w, float value) {
  w.setConstant(value);
}

void init_weight(Eigen::MatrixXf& w, InitKind kind, float gain, Rng& rng) {
  switch (kind) {
    case InitKind::kOrthogonal:
      init_orthogonal(w, gain, rng);
      break;
    case InitKind::kXavierUniform:
      init_xavier_uniform(w, gain, rng);
      break;
    case InitKind::kXavierNormal:
      init_xavier_normal(w, gain, rng);
      break;
    case InitKind::kKaimingUniform:
      init_kaiming_uniform(w, gain, rng);
      break;
    case InitKind::kKaimingNormal:
      init_kaiming_normal(w, gain, rng);
      break;
  }
}

}  // namespace keel::nn
