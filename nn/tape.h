// keel::nn::Tape — reverse-mode automatic differentiation at matrix granularity.
//
// A Tape records operations on Eigen::MatrixXf values (features × batch, column-major). Every op
// appends one Node; backward() from a 1×1 loss walks the nodes in reverse and accumulates the
// gradient of every Parameter that took part into Parameter::grad (PyTorch semantics: gradients
// add up until zero_grad()).
//
// The tape is built for low overhead: nodes live in one vector that clear() keeps, together with
// their value/gradient matrices, so a training step that records the same graph as the previous
// one reuses every buffer and allocates nothing. Backward dispatches on an enum (no virtual calls,
// no shared_ptr per op). Ops themselves are free functions in ops.h.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace keel::nn {

// A trainable matrix and its gradient (same shape as value).
struct Parameter {
  Eigen::MatrixXf value;
  Eigen::MatrixXf grad;

  Parameter() = default;
  explicit Parameter(Eigen::MatrixXf v)
      : value(std::move(v)), grad(Eigen::MatrixXf::Zero(value.rows(), value.cols())) {}
  void zero_grad() { grad.setZero(value.rows(), value.cols()); }
  Eigen::Index size() const { return value.size(); }
};

class Tape;

// A handle to one node of a tape: cheap to copy, valid until the tape is cleared.
struct Var {
  Tape* tape = nullptr;
  int id = -1;

  bool valid() const { return tape != nullptr && id >= 0; }
  // The reference stays valid until the next op is recorded on the tape (node storage may move);
  // copy the matrix to keep it longer.
  inline const Eigen::MatrixXf& value() const;
  inline const Eigen::MatrixXf& grad() const;  // after backward; only for non-parameter nodes
  Eigen::Index rows() const { return value().rows(); }
  Eigen::Index cols() const { return value().cols(); }
  float item() const { return value()(0, 0); }
};

enum class Op : uint8_t {
  kConstant,
  kParam,
  kMatmul,
  kLinear,
  kLinearAct,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMin,
  kMax,
  kNeg,
  kScale,
  kAddScalar,
  kExp,
  kLog,
  kSqrt,
  kSquare,
  kAbs,
  kPow,
  kTanh,
  kRelu,
  kLeakyRelu,
  kElu,
  kSigmoid,
  kSoftplus,
  kClamp,
  kSoftmax,
  kLogSoftmax,
  kSumAll,
  kSumFeatures,
  kSumBatch,
  kMeanAll,
  kMeanFeatures,
  kMeanBatch,
  kGather,
  kConcat,
  kSlice,
  kMse,
  kConv2d,
  kAggregate,
};

// One recorded operation. Internal to nn/: op implementations fill it, backward reads it.
struct Node {
  Op op = Op::kConstant;
  bool requires_grad = false;
  bool has_grad = false;
  int a = -1, b = -1, c = -1;              // input node ids
  int iarg[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // op-specific integers (slice offset, conv geometry…)
  float farg[2] = {0.f, 0.f};              // op-specific scalars (alpha, exponent, bounds…)
  const Eigen::MatrixXf* ext = nullptr;    // value lives outside the tape (parameter, const ref)
  Parameter* param = nullptr;              // set for parameter leaves: gradient goes to param->grad
  Eigen::MatrixXf value, grad, aux, aux2;
  std::vector<int> idx;  // gather indices, concat inputs, edge lists
};

class Tape {
 public:
  Tape() = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // Forget every node but keep node storage and matrices for the next step.
  void clear() { count_ = 0; }
  int size() const { return count_; }

  // Leaves. constant() copies the matrix into the tape; constant_ref() only points at it (it must
  // stay alive and unchanged until backward() returns, and must not be a value of this tape) and
  // saves the copy for large inputs.
  Var constant(const Eigen::MatrixXf& v);
  Var constant(float v);
  Var constant_ref(const Eigen::MatrixXf& v);
  Var param(Parameter& p);

  // Reverse pass from a 1×1 loss. Adds d loss / d p to every parameter's grad.
  void backward(Var loss);

  const Eigen::MatrixXf& value(int id) const {
    const Node& n = nodes_[id];
    return n.ext ? *n.ext : n.value;
  }
  const Eigen::MatrixXf& grad(int id) const { return nodes_[id].grad; }

  // Internal API for op implementations (ops.cpp, layers): append a node and reach it by id.
  int push(Op op, int a = -1, int b = -1, int c = -1);
  Node& node(int id) { return nodes_[id]; }
  const Node& node(int id) const { return nodes_[id]; }

 private:
  void backward_node(int id);
  template <class E>
  void accum(int id, const E& e);
  template <class L, class R>
  void accum_product(int id, const L& lhs, const R& rhs);
  Eigen::MatrixXf& grad_ref(int id);  // zero-initialised accumulator for sparse updates
  template <class E>
  void accum_reduced(int id, const E& full);

  std::vector<Node> nodes_;
  int count_ = 0;
};

inline const Eigen::MatrixXf& Var::value() const {
  return tape->value(id);
}
inline const Eigen::MatrixXf& Var::grad() const {
  return tape->grad(id);
}

}  // namespace keel::nn
