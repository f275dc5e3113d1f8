// V-trace (Espeholt et al. 2018, "IMPALA", section 4.1): off-policy corrected value targets and
// policy-gradient advantages for a trajectory acted by a behaviour policy μ and learned by π.
//
// For one env's T steps, with ρ_t = min(ρ̄, π(a_t|x_t)/μ(a_t|x_t)), c_t = λ min(c̄, π/μ) and
//   δ_t = ρ_t (r_t + γ V_next_t − V(x_t)),
//   v_t = V(x_t) + δ_t + γ c_t (1 − done_t) (v_{t+1} − V(x_{t+1})),   v_T − V(x_T) = 0,
// that is v_s = V(x_s) + Σ_{t=s}^{e} γ^{t−s} (Π_{i=s}^{t−1} c_i) δ_t with e the first step ≥ s
// that ends an episode (or T − 1). V_next_t is the value of what follows step t: V(x_{t+1}) inside
// an episode, the bootstrap V(x_T) after the last step, V(final observation) where the time limit
// truncated the episode, 0 where it terminated. The policy-gradient advantage is
//   A_t = ρ_t (r_t + γ v_next_t − V(x_t)),  v_next_t = v_{t+1} inside an episode, else V_next_t.
// λ < 1 (as in RLlib's V-trace) shortens the traces like GAE's λ: on-policy (ρ = c = 1 before λ),
// v_s − V(x_s) is then exactly the GAE(γ, λ) advantage of step s.
#pragma once

#include <cstdint>

namespace keel::agents {

struct VtraceParams {
  double gamma = 0.99;
  double rho_bar = 1.0;  // clips ρ in δ_t and in the advantage
  double c_bar = 1.0;    // clips the trace c_t
  double lambda = 1.0;   // scales the trace c_t (1: the paper's V-trace)
};

// One env's trajectory; element t of every array sits at [t · stride]. log_rhos = log π − log μ.
// done_t: step t ended the episode (terminated or truncated). Writes vs and pg_advantages.
void vtrace(int steps, int64_t stride, const float* log_rhos, const float* rewards,
            const float* values, const float* next_values, const uint8_t* done,
            const VtraceParams& p, float* vs, float* pg_advantages);

}  // namespace keel::agents
