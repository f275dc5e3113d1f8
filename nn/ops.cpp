// Forward computations of the tape ops. Backward lives in tape.cpp.
#include "nn/ops.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "nn/product.h"

namespace keel::nn {
namespace {

std::string shape_str(const Eigen::MatrixXf& m) {
  return std::to_string(m.rows()) + "x" + std::to_string(m.cols());
}

Tape& tape_of(Var a, const char* where) {
  if (!a.valid()) throw Error(std::string("nn::") + where, "invalid Var (not on a tape)");
  return *a.tape;
}

// A unary node: out = f(x) element-wise.
template <class F>
Var unary(Op op, Var x, F&& f, float f0 = 0.f, float f1 = 0.f) {
  Tape& t = tape_of(x, "unary op");
  const int id = t.push(op, x.id);
  Node& n = t.node(id);
  n.farg[0] = f0;
  n.farg[1] = f1;
  f(t.value(x.id).array(), n.value);
  return {&t, id};
}

Var binary(Op op, Var a, Var b, const char* name) {
  Tape& t = tape_of(a, name);
  if (b.tape != a.tape) throw Error(std::string("nn::") + name, "operands on different tapes");
  const Eigen::MatrixXf& A = t.value(a.id);
  const Eigen::MatrixXf& B = t.value(b.id);
  const Eigen::Index r = std::max(A.rows(), B.rows()), c = std::max(A.cols(), B.cols());
  const bool ok = (A.rows() == r || A.rows() == 1) && (B.rows() == r || B.rows() == 1) &&
                  (A.cols() == c || A.cols() == 1) && (B.cols() == c || B.cols() == 1);
  if (!ok)
    throw Error(std::string("nn::") + name, "shapes do not broadcast", "equal dimensions or 1",
                shape_str(A) + " and " + shape_str(B));
  const int id = t.push(op, a.id, b.id);
  Node& n = t.node(id);
  const Eigen::MatrixXf& A2 = t.value(a.id);  // re-read: push may have moved node storage
  const Eigen::MatrixXf& B2 = t.value(b.id);
  auto compute = [&](const auto& x, const auto& y) {
    switch (op) {
      case Op::kAdd:
        n.value = x + y;
        break;
      case Op::kSub:
        n.value = x - y;
        break;
      case Op::kMul:
        n.value = x * y;
        break;
      case Op::kDiv:
        n.value = x / y;
        break;
      case Op::kMin:
        n.value = x.min(y);
        break;
      case Op::kMax:
        n.value = x.max(y);
        break;
      default:
        break;
    }
  };
  if (A2.rows() == B2.rows() && A2.cols() == B2.cols()) {
    compute(A2.array(), B2.array());
  } else {
    compute(A2.replicate(r / A2.rows(), c / A2.cols()).array(),
            B2.replicate(r / B2.rows(), c / B2.cols()).array());
  }
  return {&t, id};
}

}  // namespace

Var matmul(Var a, Var b) {
  Tape& t = tape_of(a, "matmul");
  if (t.value(a.id).cols() != t.value(b.id).rows())
    throw Error("nn::matmul", "inner dimensions differ", shape_str(t.value(a.id)) + " · k×n",
                shape_str(t.value(b.id)));
  const int id = t.push(Op::kMatmul, a.id, b.id);
  Node& n = t.node(id);
  n.value.resize(t.value(a.id).rows(), t.value(b.id).cols());
  product(n.value, t.value(a.id), t.value(b.id));
  return {&t, id};
}

Var linear(Var x, Var w, Var b) {
  Tape& t = tape_of(x, "linear");
  const Eigen::MatrixXf& X = t.value(x.id);
  const Eigen::MatrixXf& W = t.value(w.id);
  const Eigen::MatrixXf& B = t.value(b.id);
  if (W.cols() != X.rows() || B.rows() != W.rows() || B.cols() != 1)
    throw Error("nn::linear", "shapes do not match w·x + b", "w out×in, x in×batch, b out×1",
                "w " + shape_str(W) + ", x " + shape_str(X) + ", b " + shape_str(B));
  const int id = t.push(Op::kLinear, x.id, w.id, b.id);
  Node& n = t.node(id);
  // The bias first, then the product accumulated onto it: one pass over the output instead of
  // Eigen's zero fill, the product and a bias pass.
  fill_columns(n.value, t.value(b.id), t.value(x.id).cols());
  product(n.value, t.value(w.id), t.value(x.id), /*accumulate=*/true);
  return {&t, id};
}

Var add(Var a, Var b) {
  return binary(Op::kAdd, a, b, "add");
}
Var sub(Var a, Var b) {
  return binary(Op::kSub, a, b, "sub");
}
Var mul(Var a, Var b) {
  return binary(Op::kMul, a, b, "mul");
}
Var div(Var a, Var b) {
  return binary(Op::kDiv, a, b, "div");
}
Var minimum(Var a, Var b) {
  return binary(Op::kMin, a, b, "minimum");
}
Var maximum(Var a, Var b) {
  return binary(Op::kMax, a, b, "maximum");
}
Var clamp(Var x, Var lo, Var hi) {
  return maximum(minimum(x, hi), lo);
}

Var neg(Var x) {
  return unary(Op::kNeg, x, [](const auto& v, Eigen::MatrixXf& o) { o = -v.matrix(); });
}
Var scale(Var x, float s) {
  return unary(
      Op::kScale, x, [s](const auto& v, Eigen::MatrixXf& o) { o = (v * s).matrix(); }, s);
}
Var add_scalar(Var x, float s) {
  return unary(
      Op::kAddScalar, x, [s](const auto& v, Eigen::MatrixXf& o) { o = (v + s).matrix(); }, s);
}
Var exp(Var x) {
  return unary(Op::kExp, x, [](const auto& v, Eigen::MatrixXf& o) { o = v.exp().matrix(); });
}
Var log(Var x) {
  return unary(Op::kLog, x, [](const auto& v, Eigen::MatrixXf& o) { o = v.log().matrix(); });
}
Var sqrt(Var x) {
  return unary(Op::kSqrt, x, [](const auto& v, Eigen::MatrixXf& o) { o = v.sqrt().matrix(); });
}
Var square(Var x) {
  return unary(Op::kSquare, x, [](const auto& v, Eigen::MatrixXf& o) { o = v.square().matrix(); });
}
Var abs(Var x) {
  return unary(Op::kAbs, x, [](const auto& v, Eigen::MatrixXf& o) { o = v.abs().matrix(); });
}
Var pow(Var x, float e) {
  return unary(
      Op::kPow, x, [e](const auto& v, Eigen::MatrixXf& o) { o = v.pow(e).matrix(); }, e);
}
Var tanh(Var x) {
  return unary(Op::kTanh, x, [](const auto& v, Eigen::MatrixXf& o) { o = v.tanh().matrix(); });
}
Var relu(Var x) {
  return unary(Op::kRelu, x, [](const auto& v, Eigen::MatrixXf& o) { o = v.max(0.f).matrix(); });
}
Var leaky_relu(Var x, float slope) {
  return unary(
      Op::kLeakyRelu, x,
      [slope](const auto& v, Eigen::MatrixXf& o) { o = (v > 0.f).select(v, v * slope).matrix(); },
      slope);
}
Var elu(Var x, float alpha) {
  return unary(
      Op::kElu, x,
      [alpha](const auto& v, Eigen::MatrixXf& o) {
        o = (v > 0.f).select(v, alpha * (v.exp() - 1.f)).matrix();
      },
      alpha);
}
Var sigmoid(Var x) {
  return unary(Op::kSigmoid, x, [](const auto& v, Eigen::MatrixXf& o) {
    o = (0.5f * (v * 0.5f).tanh() + 0.5f).matrix();
  });
}
Var softplus(Var x) {
  return unary(Op::kSoftplus, x, [](const auto& v, Eigen::MatrixXf& o) {
    o = (v.max(0.f) + (-v.abs()).exp().log1p()).matrix();
  });
}
Var clamp(Var x, float lo, float hi) {
  return unary(
      Op::kClamp, x,
      [lo, hi](const auto& v, Eigen::MatrixXf& o) { o = v.max(lo).min(hi).matrix(); }, lo, hi);
}

Var softmax(Var x) {
  Tape& t = tape_of(x, "softmax");
  const int id = t.push(Op::kSoftmax, x.id);
  Node& n = t.node(id);
  const Eigen::MatrixXf& X = t.value(x.id);
  n.value.resize(X.rows(), X.cols());
  for (Eigen::Index j = 0; j < X.cols(); ++j) {
    const float m = X.col(j).maxCoeff();
    n.value.col(j) = (X.col(j).array() - m).exp().matrix();
    n.value.col(j) /= n.value.col(j).sum();
  }
  return {&t, id};
}

Var log_softmax(Var x) {
  Tape& t = tape_of(x, "log_softmax");
  const int id = t.push(Op::kLogSoftmax, x.id);
  Node& n = t.node(id);
  const Eigen::MatrixXf& X = t.value(x.id);
  n.value.resize(X.rows(), X.cols());
  for (Eigen::Index j = 0; j < X.cols(); ++j) {
    const float m = X.col(j).maxCoeff();
    const float lse = m + std::log((X.col(j).array() - m).exp().sum());
    n.value.col(j) = (X.col(j).array() - lse).matrix();
  }
  return {&t, id};
}

namespace {
Var reduce(Op op, Var x) {
  Tape& t = tape_of(x, "reduction");
  const int id = t.push(op, x.id);
  Node& n = t.node(id);
  const Eigen::MatrixXf& X = t.value(x.id);
  const float count = static_cast<float>(X.size());
  switch (op) {
    case Op::kSumAll:
      n.value.setConstant(1, 1, X.sum());
      break;
    case Op::kMeanAll:
      n.value.setConstant(1, 1, X.sum() / count);
      break;
    case Op::kSumFeatures:
      n.value = X.colwise().sum();
      break;
    case Op::kMeanFeatures:
      n.value = X.colwise().mean();
      break;
    case Op::kSumBatch:
      n.value = X.rowwise().sum();
      break;
    case Op::kMeanBatch:
      n.value = X.rowwise().mean();
      break;
    default:
      break;
  }
  return {&t, id};
}
}  // namespace

Var sum(Var x) {
  return reduce(Op::kSumAll, x);
}
Var mean(Var x) {
  return reduce(Op::kMeanAll, x);
}
Var sum(Var x, Axis axis) {
  return reduce(axis == Axis::kFeatures ? Op::kSumFeatures : Op::kSumBatch, x);
}
Var mean(Var x, Axis axis) {
  return reduce(axis == Axis::kFeatures ? Op::kMeanFeatures : Op::kMeanBatch, x);
}

Var gather(Var x, std::span<const int> indices) {
  Tape& t = tape_of(x, "gather");
  const Eigen::MatrixXf& X0 = t.value(x.id);
  if (static_cast<Eigen::Index>(indices.size()) != X0.cols())
    throw Error("nn::gather", "one index per column needed", std::to_string(X0.cols()),
                std::to_string(indices.size()));
  for (int i : indices)
    if (i < 0 || i >= X0.rows())
      throw Error("nn::gather", "index out of range", "0.." + std::to_string(X0.rows() - 1),
                  std::to_string(i));
  const int id = t.push(Op::kGather, x.id);
  Node& n = t.node(id);
  const Eigen::MatrixXf& X = t.value(x.id);
  n.idx.assign(indices.begin(), indices.end());
  n.value.resize(1, X.cols());
  for (Eigen::Index j = 0; j < X.cols(); ++j) n.value(0, j) = X(n.idx[j], j);
  return {&t, id};
}

Var concat(std::span<const Var> parts) {
  if (parts.empty()) throw Error("nn::concat", "nothing to concatenate");
  Tape& t = tape_of(parts[0], "concat");
  Eigen::Index rows = 0;
  const Eigen::Index cols = t.value(parts[0].id).cols();
  for (const Var& p : parts) {
    if (t.value(p.id).cols() != cols)
      throw Error("nn::concat", "all parts need the same number of columns", std::to_string(cols),
                  std::to_string(t.value(p.id).cols()));
    rows += t.value(p.id).rows();
  }
  const int id = t.push(Op::kConcat);
  Node& n = t.node(id);
  n.idx.clear();
  n.value.resize(rows, cols);
  Eigen::Index off = 0;
  for (const Var& p : parts) {
    n.idx.push_back(p.id);
    const Eigen::MatrixXf& v = t.value(p.id);
    n.value.middleRows(off, v.rows()) = v;
    off += v.rows();
    n.requires_grad = n.requires_grad || t.node(p.id).requires_grad;
  }
  return {&t, id};
}

Var concat(std::initializer_list<Var> parts) {
  return concat(std::span<const Var>(parts.begin(), parts.size()));
}

Var slice(Var x, int row_begin, int row_count) {
  Tape& t = tape_of(x, "slice");
  const Eigen::Index rows = t.value(x.id).rows();
  if (row_begin < 0 || row_count < 0 || row_begin + row_count > rows)
    throw Error("nn::slice", "row range out of bounds", "within 0.." + std::to_string(rows),
                std::to_string(row_begin) + "+" + std::to_string(row_count));
  const int id = t.push(Op::kSlice, x.id);
  Node& n = t.node(id);
  n.iarg[0] = row_begin;
  n.value = t.value(x.id).middleRows(row_begin, row_count);
  return {&t, id};
}

Var stop_gradient(Var x) {
  Tape& t = tape_of(x, "stop_gradient");
  const int id = t.push(Op::kConstant);
  Node& n = t.node(id);
  n.value = t.value(x.id);
  return {&t, id};
}

Var mse(Var pred, Var target) {
  Tape& t = tape_of(pred, "mse");
  const Eigen::MatrixXf& P = t.value(pred.id);
  const Eigen::MatrixXf& T = t.value(target.id);
  if (P.rows() != T.rows() || P.cols() != T.cols())
    throw Error("nn::mse", "prediction and target shapes differ", shape_str(P), shape_str(T));
  const int id = t.push(Op::kMse, pred.id, target.id);
  Node& n = t.node(id);
  n.aux = t.value(pred.id) - t.value(target.id);
  n.value.setConstant(1, 1, n.aux.squaredNorm() / static_cast<float>(n.aux.size()));
  return {&t, id};
}

}  // namespace keel::nn
