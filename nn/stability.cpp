#include "nn/stability.h"

#include <cmath>

#include "core/error.h"

namespace keel::nn {

float global_grad_norm(const std::vector<Parameter*>& params) {
  double sq = 0;
  for (const Parameter* p : params) sq += static_cast<double>(p->grad.squaredNorm());
  return static_cast<float>(std::sqrt(sq));
}

float clip_grad_norm(const std::vector<Parameter*>& params, float max_norm) {
  const float norm = global_grad_norm(params);
  const float coef = max_norm / (norm + 1e-6f);
  if (coef < 1.f)
    for (Parameter* p : params) p->grad *= coef;
  return norm;
}

float clip_grad_value(const std::vector<Parameter*>& params, float clip) {
  const float norm = global_grad_norm(params);
  for (Parameter* p : params) p->grad = p->grad.array().max(-clip).min(clip).matrix();
  return norm;
}

namespace {
template <class T>
void check_same(const std::vector<std::pair<std::string, T*>>& a,
                const std::vector<std::pair<std::string, T*>>& b, const char* where) {
  if (a.size() != b.size())
    throw Error(where, "modules have different numbers of tensors", std::to_string(a.size()),
                std::to_string(b.size()));
  for (size_t i = 0; i < a.size(); ++i) {
    const Eigen::MatrixXf& x = [&]() -> const Eigen::MatrixXf& {
      if constexpr (std::is_same_v<T, Parameter>)
        return a[i].second->value;
      else
        return *a[i].second;
    }();
    const Eigen::MatrixXf& y = [&]() -> const Eigen::MatrixXf& {
      if constexpr (std::is_same_v<T, Parameter>)
        return b[i].second->value;
      else
        return *b[i].second;
    }();
    if (a[i].first != b[i].first || x.rows() != y.rows() || x.cols() != y.cols())
      throw Error(where, "modules have different architectures",
                  a[i].first + " " + std::to_string(x.rows()) + "x" + std::to_string(x.cols()),
                  b[i].first + " " + std::to_string(y.rows()) + "x" + std::to_string(y.cols()));
  }
}
}  // namespace

void hard_copy(Module& src, Module& dst) {
  polyak_update(src, dst, 1.f);
}

void polyak_update(Module& src, Module& dst, float tau) {
  const auto ps = src.named_parameters(), pd = dst.named_parameters();
  const auto bs = src.named_buffers(), bd = dst.named_buffers();
  check_same(ps, pd, "nn::polyak_update");
  check_same(bs, bd, "nn::polyak_update");
  for (size_t i = 0; i < ps.size(); ++i) {
    if (tau == 1.f)
      pd[i].second->value = ps[i].second->value;
    else
      pd[i].second->value = tau * ps[i].second->value + (1.f - tau) * pd[i].second->value;
  }
  for (size_t i = 0; i < bs.size(); ++i) *bd[i].second = *bs[i].second;
}

namespace {
Eigen::Index count_nonfinite(const Eigen::MatrixXf& m) {
  return m.size() - (m.array().isFinite()).count();
}
}  // namespace

FiniteReport check_finite(float loss,
                          const std::vector<std::pair<std::string, Parameter*>>& params) {
  if (!std::isfinite(loss)) return {false, "loss is " + std::to_string(loss)};
  for (const auto& [name, p] : params) {
    if (Eigen::Index n = count_nonfinite(p->grad))
      return {false, "gradient of " + name + " has " + std::to_string(n) + " non-finite of " +
                         std::to_string(p->grad.size()) + " elements"};
    if (Eigen::Index n = count_nonfinite(p->value))
      return {false, "parameter " + name + " has " + std::to_string(n) + " non-finite of " +
                         std::to_string(p->value.size()) + " elements"};
  }
  return {};
}

FiniteReport check_finite(float loss, Module& module) {
  return check_finite(loss, module.named_parameters());
}

}  // namespace keel::nn
