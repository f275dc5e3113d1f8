// Conv2d: 2-D convolution over image observations flattened channel-major (C, H, W) into one
// column per sample. The output is flattened the same way: (out_channels, out_h, out_w).
#pragma once

#include "nn/conv_op.h"
#include "nn/module.h"

namespace keel::nn {

class Conv2d : public Module {
 public:
  Conv2d() = default;
  // Weight out_channels × (in_channels·k·k) from `init` with `gain`; bias zero.
  Conv2d(const ConvGeometry& geometry, Rng& rng, InitKind init = InitKind::kOrthogonal,
         float gain = 1.41421356f);
  Var forward(Tape& t, Var x);
  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;
  const ConvGeometry& geometry() const { return geo_; }

  Parameter weight, bias;

 private:
  ConvGeometry geo_;
};

}  // namespace keel::nn
