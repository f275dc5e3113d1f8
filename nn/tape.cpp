// Tape bookkeeping and the reverse pass of every op.
#include "nn/tape.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "nn/activation.h"
#include "nn/conv_op.h"
#include "nn/product.h"

namespace keel::nn {

int Tape::push(Op op, int a, int b, int c) {
  const int id = count_++;
  if (id == static_cast<int>(nodes_.size())) nodes_.emplace_back();
  Node& n = nodes_[id];
  n.op = op;
  n.a = a;
  n.b = b;
  n.c = c;
  n.ext = nullptr;
  n.param = nullptr;
  n.has_grad = false;
  n.requires_grad = (a >= 0 && nodes_[a].requires_grad) || (b >= 0 && nodes_[b].requires_grad) ||
                    (c >= 0 && nodes_[c].requires_grad);
  return id;
}

Var Tape::constant(const Eigen::MatrixXf& v) {
  if (count_ == static_cast<int>(nodes_.size())) {
    // push() may grow the node vector; v may live in it (tape.constant(var.value())).
    Eigen::MatrixXf copy = v;
    const int id = push(Op::kConstant);
    nodes_[id].value = std::move(copy);
    return {this, id};
  }
  const int id = push(Op::kConstant);
  nodes_[id].value = v;
  return {this, id};
}

Var Tape::constant(float v) {
  const int id = push(Op::kConstant);
  nodes_[id].value.setConstant(1, 1, v);
  return {this, id};
}

Var Tape::constant_ref(const Eigen::MatrixXf& v) {
  const int id = push(Op::kConstant);
  nodes_[id].ext = &v;
  return {this, id};
}

Var Tape::param(Parameter& p) {
  const int id = push(Op::kParam);
  Node& n = nodes_[id];
  n.ext = &p.value;
  n.param = &p;
  n.requires_grad = true;
  if (p.grad.rows() != p.value.rows() || p.grad.cols() != p.value.cols()) p.zero_grad();
  return {this, id};
}

template <class E>
void Tape::accum(int id, const E& e) {
  Node& n = nodes_[id];
  if (!n.requires_grad) return;
  if (n.param) {
    n.param->grad.noalias() += e;
  } else if (n.has_grad) {
    n.grad.noalias() += e;
  } else {
    n.grad.noalias() = e;
    n.has_grad = true;
  }
}

template <class L, class R>
void Tape::accum_product(int id, const L& lhs, const R& rhs) {
  Node& n = nodes_[id];
  if (!n.requires_grad) return;
  if (n.param) {
    product(n.param->grad, lhs, rhs, /*accumulate=*/true);
  } else if (n.has_grad) {
    product(n.grad, lhs, rhs, /*accumulate=*/true);
  } else {
    n.grad.resize(lhs.rows(), rhs.cols());
    product(n.grad, lhs, rhs);
    n.has_grad = true;
  }
}

Eigen::MatrixXf& Tape::grad_ref(int id) {
  Node& n = nodes_[id];
  if (n.param) return n.param->grad;
  if (!n.has_grad) {
    const Eigen::MatrixXf& v = value(id);
    n.grad.setZero(v.rows(), v.cols());
    n.has_grad = true;
  }
  return n.grad;
}

// Accumulates a full-shape gradient into a (possibly broadcast) input, summing the broadcast axes.
template <class E>
void Tape::accum_reduced(int id, const E& full) {
  if (!nodes_[id].requires_grad) return;
  const Eigen::MatrixXf& v = value(id);
  if (v.rows() == full.rows() && v.cols() == full.cols()) {
    accum(id, full);
  } else if (v.rows() == 1 && v.cols() == 1) {
    grad_ref(id)(0, 0) += full.sum();
  } else if (v.rows() == 1) {
    accum(id, full.colwise().sum());
  } else {
    accum(id, full.rowwise().sum());
  }
}

void Tape::backward(Var loss) {
  if (loss.tape != this || loss.id < 0 || loss.id >= count_)
    throw Error("nn::Tape::backward", "loss is not a node of this tape");
  const Eigen::MatrixXf& l = value(loss.id);
  if (l.rows() != 1 || l.cols() != 1)
    throw Error("nn::Tape::backward", "loss must be a scalar", "1x1",
                std::to_string(l.rows()) + "x" + std::to_string(l.cols()));
  for (int i = 0; i <= loss.id; ++i) nodes_[i].has_grad = false;
  Node& root = nodes_[loss.id];
  if (!root.requires_grad) return;
  if (root.param) {
    root.param->grad(0, 0) += 1.f;
    return;
  }
  root.grad.setConstant(1, 1, 1.f);
  root.has_grad = true;
  for (int i = loss.id; i >= 0; --i) {
    const Node& n = nodes_[i];
    if (n.has_grad && n.requires_grad && !n.param) backward_node(i);
  }
}

void Tape::backward_node(int id) {
  Node& n = nodes_[id];
  const Eigen::MatrixXf& g = n.grad;
  const Eigen::MatrixXf& y = n.value;
  auto ga = g.array();
  switch (n.op) {
    case Op::kConstant:
    case Op::kParam:
      break;
    case Op::kMatmul:
      accum_product(n.a, g, value(n.b).transpose());
      accum_product(n.b, value(n.a).transpose(), g);
      break;
    case Op::kLinear:
      accum_product(n.b, g, value(n.a).transpose());
      accum(n.c, g.rowwise().sum());
      accum_product(n.a, value(n.b).transpose(), g);
      break;
    case Op::kLinearAct:
      activation_backward_from_output(static_cast<Activation>(n.iarg[0]), y, g, n.aux);
      accum_product(n.b, n.aux, value(n.a).transpose());
      accum(n.c, n.aux.rowwise().sum());
      accum_product(n.a, value(n.b).transpose(), n.aux);
      break;
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kMin:
    case Op::kMax: {
      const Eigen::MatrixXf& A = value(n.a);
      const Eigen::MatrixXf& B = value(n.b);
      const bool same = A.rows() == B.rows() && A.cols() == B.cols();
      if (same && n.op == Op::kAdd) {
        accum(n.a, g);
        accum(n.b, g);
        break;
      }
      if (same && n.op == Op::kSub) {
        accum(n.a, g);
        accum(n.b, -g);
        break;
      }
      const Eigen::Index r = g.rows(), c = g.cols();
      auto Af = A.replicate(r / A.rows(), c / A.cols()).array();
      auto Bf = B.replicate(r / B.rows(), c / B.cols()).array();
      switch (n.op) {
        case Op::kAdd:
          accum_reduced(n.a, g);
          accum_reduced(n.b, g);
          break;
        case Op::kSub:
          accum_reduced(n.a, g);
          accum_reduced(n.b, (-ga).matrix());
          break;
        case Op::kMul:
          accum_reduced(n.a, (ga * Bf).matrix());
          accum_reduced(n.b, (ga * Af).matrix());
          break;
        case Op::kDiv:
          accum_reduced(n.a, (ga / Bf).matrix());
          accum_reduced(n.b, (-ga * y.array() / Bf).matrix());
          break;
        case Op::kMin:
          accum_reduced(n.a, (Af <= Bf).select(ga, 0.f).matrix());
          accum_reduced(n.b, (Af <= Bf).select(0.f, ga).matrix());
          break;
        case Op::kMax:
          accum_reduced(n.a, (Af >= Bf).select(ga, 0.f).matrix());
          accum_reduced(n.b, (Af >= Bf).select(0.f, ga).matrix());
          break;
        default:
          break;
      }
      break;
    }
    case Op::kNeg:
      accum(n.a, -g);
      break;
    case Op::kScale:
      accum(n.a, (ga * n.farg[0]).matrix());
      break;
    case Op::kAddScalar:
      accum(n.a, g);
      break;
    case Op::kExp:
      accum(n.a, (ga * y.array()).matrix());
      break;
    case Op::kLog:
      accum(n.a, (ga / value(n.a).array()).matrix());
      break;
    case Op::kSqrt:
      accum(n.a, (ga * 0.5f / y.array()).matrix());
      break;
    case Op::kSquare:
      accum(n.a, (ga * 2.f * value(n.a).array()).matrix());
      break;
    case Op::kAbs:
      accum(n.a, (ga * value(n.a).array().sign()).matrix());
      break;
    case Op::kPow: {
      const float e = n.farg[0];
      accum(n.a, (ga * e * value(n.a).array().pow(e - 1.f)).matrix());
      break;
    }
    case Op::kTanh:
      accum(n.a, (ga * (1.f - y.array().square())).matrix());
      break;
    case Op::kRelu:
      accum(n.a, (y.array() > 0.f).select(ga, 0.f).matrix());
      break;
    case Op::kLeakyRelu:
      accum(n.a, (value(n.a).array() > 0.f).select(ga, ga * n.farg[0]).matrix());
      break;
    case Op::kElu:
      accum(n.a, (value(n.a).array() > 0.f).select(ga, ga * (y.array() + n.farg[0])).matrix());
      break;
    case Op::kSigmoid:
      accum(n.a, (ga * y.array() * (1.f - y.array())).matrix());
      break;
    case Op::kSoftplus: {
      auto x = value(n.a).array();
      accum(n.a, (ga * (0.5f * (x * 0.5f).tanh() + 0.5f)).matrix());
      break;
    }
    case Op::kClamp: {
      auto x = value(n.a).array();
      accum(n.a, (x >= n.farg[0] && x <= n.farg[1]).select(ga, 0.f).matrix());
      break;
    }
    case Op::kSoftmax: {
      // dx = y ⊙ (g − Σ_rows g⊙y)
      n.aux = (ga * y.array()).matrix().colwise().sum();
      accum(n.a, (y.array() * (g.rowwise() - n.aux.row(0)).array()).matrix());
      break;
    }
    case Op::kLogSoftmax: {
      // dx = g − softmax ⊙ Σ_rows g
      n.aux = g.colwise().sum();
      accum(n.a,
            (g.array() - y.array().exp() * n.aux.row(0).replicate(g.rows(), 1).array()).matrix());
      break;
    }
    case Op::kSumAll:
      accum_reduced(n.a, Eigen::MatrixXf::Constant(value(n.a).rows(), value(n.a).cols(), g(0, 0)));
      break;
    case Op::kMeanAll: {
      const Eigen::MatrixXf& x = value(n.a);
      accum(n.a,
            Eigen::MatrixXf::Constant(x.rows(), x.cols(), g(0, 0) / static_cast<float>(x.size())));
      break;
    }
    case Op::kSumFeatures:
      accum(n.a, g.replicate(value(n.a).rows(), 1));
      break;
    case Op::kMeanFeatures: {
      const float inv = 1.f / static_cast<float>(value(n.a).rows());
      accum(n.a, (g * inv).replicate(value(n.a).rows(), 1));
      break;
    }
    case Op::kSumBatch:
      accum(n.a, g.replicate(1, value(n.a).cols()));
      break;
    case Op::kMeanBatch: {
      const float inv = 1.f / static_cast<float>(value(n.a).cols());
      accum(n.a, (g * inv).replicate(1, value(n.a).cols()));
      break;
    }
    case Op::kGather: {
      if (!nodes_[n.a].requires_grad) break;
      Eigen::MatrixXf& gx = grad_ref(n.a);
      for (Eigen::Index j = 0; j < g.cols(); ++j) gx(n.idx[j], j) += g(0, j);
      break;
    }
    case Op::kConcat: {
      Eigen::Index off = 0;
      for (int part : n.idx) {
        const Eigen::Index r = value(part).rows();
        accum(part, g.middleRows(off, r));
        off += r;
      }
      break;
    }
    case Op::kSlice: {
      if (!nodes_[n.a].requires_grad) break;
      grad_ref(n.a).middleRows(n.iarg[0], g.rows()) += g;
      break;
    }
    case Op::kMse: {
      const float s = 2.f * g(0, 0) / static_cast<float>(n.aux.size());
      accum(n.a, n.aux * s);
      accum(n.b, n.aux * -s);
      break;
    }
    case Op::kConv2d: {
      const Node& x = nodes_[n.a];
      const Node& w = nodes_[n.b];
      const Node& b = nodes_[n.c];
      Eigen::MatrixXf* gx = x.requires_grad ? &grad_ref(n.a) : nullptr;
      Eigen::MatrixXf* gw = w.requires_grad ? &grad_ref(n.b) : nullptr;
      Eigen::MatrixXf* gb = b.requires_grad ? &grad_ref(n.c) : nullptr;
      conv2d_backward(n, value(n.a), value(n.b), gx, gw, gb);
      break;
    }
    case Op::kAggregate: {
      if (!nodes_[n.a].requires_grad) break;
      Eigen::MatrixXf& gx = grad_ref(n.a);
      const size_t edges = n.idx.size() / 2;
      for (size_t e = 0; e < edges; ++e) {
        const int src = n.idx[2 * e], dst = n.idx[2 * e + 1];
        gx.col(src) += g.col(dst) * n.aux(0, dst);
      }
      break;
    }
  }
}

}  // namespace keel::nn
