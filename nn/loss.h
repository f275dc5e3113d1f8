// Losses, all reducing to a 1×1 Var (mean over elements / samples).
#pragma once

#include <span>

#include "nn/tape.h"

namespace keel::nn {

Var mse_loss(Var pred, Var target);  // mean (pred − target)², one fused node
// Smooth L1: 0.5·d² where |d| ≤ delta, delta·(|d| − 0.5·delta) elsewhere; mean over elements.
// With delta = 1 this is PyTorch's smooth_l1_loss / huber_loss.
Var huber_loss(Var pred, Var target, float delta = 1.f);
// Mean over columns of −log softmax(logits)[label]; labels.size() == logits.cols().
Var cross_entropy(Var logits, std::span<const int> labels);

}  // namespace keel::nn
