// Training-stability primitives: gradient clipping, target-network updates, finite checks.
#pragma once

#include <string>
#include <vector>

#include "nn/module.h"

namespace keel::nn {

// sqrt(Σ‖grad‖²) over all parameters (accumulated in double).
float global_grad_norm(const std::vector<Parameter*>& params);
// Scales all gradients by max_norm / (norm + 1e-6) when that is < 1 (PyTorch's clip_grad_norm_).
// Returns the norm before clipping.
float clip_grad_norm(const std::vector<Parameter*>& params, float max_norm);
// Clamps every gradient element to [−clip, clip]. Returns the global norm before clipping.
float clip_grad_value(const std::vector<Parameter*>& params, float clip);

// Target networks. Both modules must have the same architecture (same names and shapes, checked;
// keel::Error otherwise). hard_copy copies parameters and buffers; polyak_update sets
// dst = tau·src + (1 − tau)·dst for parameters and copies buffers.
void hard_copy(Module& src, Module& dst);
void polyak_update(Module& src, Module& dst, float tau);

// Non-finite detection: ok == false and a message naming the first offender (loss, or which
// parameter's value or gradient, and how many elements) when anything is NaN or infinite.
struct FiniteReport {
  bool ok = true;
  std::string message;
};
FiniteReport check_finite(float loss, Module& module);
FiniteReport check_finite(float loss,
                          const std::vector<std::pair<std::string, Parameter*>>& params);

}  // namespace keel::nn
