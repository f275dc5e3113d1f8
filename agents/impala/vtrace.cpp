#include "agents/impala/vtrace.h"

#include <algorithm>
#include <cmath>

namespace keel::agents {

void vtrace(int steps, int64_t stride, const float* log_rhos, const float* rewards,
            const float* values, const float* next_values, const uint8_t* done,
            const VtraceParams& p, float* vs, float* pg_advantages) {
  const double g = p.gamma;
  double acc = 0.0;  // v_{t+1} − V(x_{t+1}); 0 after the last step (v_T = V(x_T))
  for (int t = steps - 1; t >= 0; --t) {
    const int64_t i = t * stride;
    const double ratio = std::exp(static_cast<double>(log_rhos[i]));
    const double rho = std::min(p.rho_bar, ratio), c = p.lambda * std::min(p.c_bar, ratio);
    const double delta = rho * (rewards[i] + g * next_values[i] - values[i]);
    acc = delta + (done[i] ? 0.0 : g * c * acc);
    vs[i] = static_cast<float>(values[i] + acc);
  }
  for (int t = 0; t < steps; ++t) {
    const int64_t i = t * stride;
    const double rho = std::min(p.rho_bar, std::exp(static_cast<double>(log_rhos[i])));
    const double v_next = (t + 1 < steps && !done[i]) ? vs[i + stride] : next_values[i];
    pg_advantages[i] = static_cast<float>(rho * (rewards[i] + g * v_next - values[i]));
  }
}

}  // namespace keel::agents
