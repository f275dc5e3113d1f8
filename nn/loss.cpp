// Losses.
#include "nn/loss.h"

#include "nn/ops.h"

namespace keel::nn {

Var mse_loss(Var pred, Var target) {
  return mse(pred, target);
}

Var huber_loss(Var pred, Var target, float delta) {
  Var ad = abs(pred - target);
  Var quad = clamp(ad, 0.f, delta);
  Var lin = ad - quad;
  return mean(0.5f * square(quad) + delta * lin);
}

Var cross_entropy(Var logits, std::span<const int> labels) {
  return -mean(gather(log_softmax(logits), labels));
}

}  // namespace keel::nn
