// Differentiable operations on tape variables. Matrices are features × batch.
//
// Binary element-wise ops broadcast: each operand's rows must equal the result's rows or be 1, and
// likewise for columns — so a features×1 bias broadcasts over the batch, a 1×batch row over the
// features, and a 1×1 scalar over everything. Gradients of broadcast operands are summed back.
#pragma once

#include <initializer_list>
#include <span>
#include <vector>

#include "nn/tape.h"

namespace keel::nn {

// --- linear algebra -------------------------------------------------------------------------
Var matmul(Var a, Var b);         // a · b
Var linear(Var x, Var w, Var b);  // w · x + b (b is out×1, broadcast over the batch), one node

// --- element-wise binary (broadcasting) -----------------------------------------------------
Var add(Var a, Var b);
Var sub(Var a, Var b);
Var mul(Var a, Var b);
Var div(Var a, Var b);
Var minimum(Var a, Var b);         // gradient goes to a on ties
Var maximum(Var a, Var b);         // gradient goes to a on ties
Var clamp(Var x, Var lo, Var hi);  // maximum(minimum(x, hi), lo)

// --- element-wise unary -----------------------------------------------------------------------
Var neg(Var x);
Var scale(Var x, float s);       // s · x
Var add_scalar(Var x, float s);  // x + s
Var exp(Var x);
Var log(Var x);
Var sqrt(Var x);
Var square(Var x);
Var abs(Var x);  // gradient 0 at 0
Var pow(Var x, float exponent);
Var tanh(Var x);
Var relu(Var x);
Var leaky_relu(Var x, float slope = 0.01f);
Var elu(Var x, float alpha = 1.f);
Var sigmoid(Var x);
Var softplus(Var x);                   // log(1 + e^x), stable
Var clamp(Var x, float lo, float hi);  // gradient passes where lo <= x <= hi

// --- along the feature axis (per column) --------------------------------------------------------
Var softmax(Var x);
Var log_softmax(Var x);

// --- reductions ---------------------------------------------------------------------------------
enum class Axis { kFeatures, kBatch };
Var sum(Var x);             // 1×1
Var sum(Var x, Axis axis);  // kFeatures: 1×batch; kBatch: features×1
Var mean(Var x);
Var mean(Var x, Axis axis);

// --- indexing and shape --------------------------------------------------------------------------
// out(0, j) = x(indices[j], j): picks one feature per column, e.g. Q(s, a). indices.size() == cols.
Var gather(Var x, std::span<const int> indices);
Var concat(std::span<const Var> parts);  // stacks along the features (rows)
Var concat(std::initializer_list<Var> parts);
Var slice(Var x, int row_begin, int row_count);  // rows [row_begin, row_begin + row_count)
Var stop_gradient(Var x);                        // same value, no gradient flows back

// --- fused losses ----------------------------------------------------------------------------
Var mse(Var pred, Var target);  // mean over all elements of (pred - target)²

// --- operators --------------------------------------------------------------------------------
inline Var operator+(Var a, Var b) {
  return add(a, b);
}
inline Var operator-(Var a, Var b) {
  return sub(a, b);
}
inline Var operator*(Var a, Var b) {
  return mul(a, b);
}
inline Var operator/(Var a, Var b) {
  return div(a, b);
}
inline Var operator-(Var a) {
  return neg(a);
}
inline Var operator*(Var a, float s) {
  return scale(a, s);
}
inline Var operator*(float s, Var a) {
  return scale(a, s);
}
inline Var operator/(Var a, float s) {
  return scale(a, 1.f / s);
}
inline Var operator+(Var a, float s) {
  return add_scalar(a, s);
}
inline Var operator+(float s, Var a) {
  return add_scalar(a, s);
}
inline Var operator-(Var a, float s) {
  return add_scalar(a, -s);
}
inline Var operator-(float s, Var a) {
  return add_scalar(neg(a), s);
}

}  // namespace keel::nn
