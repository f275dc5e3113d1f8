// The 2-D convolution and graph-aggregation ops (tape nodes). Layers in conv.h and graph.h wrap
// them; most code should use those layers rather than these functions.
#pragma once

#include <span>

#include "nn/tape.h"

namespace keel::nn {

// Geometry of a convolution over inputs flattened channel-major, (C, H, W) with W fastest, which
// is PyTorch's flatten order. One sample is one column of the features × batch matrix.
struct ConvGeometry {
  int in_channels = 1, in_height = 1, in_width = 1;
  int out_channels = 1, kernel = 3, stride = 1, padding = 0;
  int out_height() const { return (in_height + 2 * padding - kernel) / stride + 1; }
  int out_width() const { return (in_width + 2 * padding - kernel) / stride + 1; }
  int in_features() const { return in_channels * in_height * in_width; }
  int out_features() const { return out_channels * out_height() * out_width(); }
  int patch_size() const { return in_channels * kernel * kernel; }
};

// x: in_features × batch, w: out_channels × (in_channels·k·k), b: out_channels × 1.
Var conv2d(Var x, Var w, Var b, const ConvGeometry& geo);

// Message passing: out(:, dst) += x(:, src) for every edge (src → dst); with mean=true each output
// column is divided by its in-degree (nodes without incoming edges get zeros).
// x is features × num_nodes; edge endpoints index its columns.
Var aggregate(Var x, std::span<const int> src, std::span<const int> dst, bool mean);

// Internal: reverse pass of conv2d, called by Tape::backward.
void conv2d_backward(Node& n, const Eigen::MatrixXf& x, const Eigen::MatrixXf& w,
                     Eigen::MatrixXf* gx, Eigen::MatrixXf* gw, Eigen::MatrixXf* gb);

}  // namespace keel::nn
