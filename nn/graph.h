// GraphConv: one message-passing layer over node features (features × num_nodes) and a directed
// edge list: out = W_self · x + W_neigh · agg(x) + b, where agg sums (or averages) the features
// of each node's in-neighbours. Batch several graphs by concatenating their nodes and offsetting
// the edge indices (a disjoint union). Apply the activation yourself.
#pragma once

#include <vector>

#include "nn/conv_op.h"
#include "nn/module.h"

namespace keel::nn {

struct EdgeList {
  std::vector<int> src, dst;  // edge e goes src[e] → dst[e]
};

enum class Aggregation { kSum, kMean };

class GraphConv : public Module {
 public:
  GraphConv() = default;
  GraphConv(int in, int out, Aggregation agg, Rng& rng, InitKind init = InitKind::kXavierUniform,
            float gain = 1.f);
  Var forward(Tape& t, Var x, const EdgeList& edges);
  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;

  Parameter w_self, w_neigh, bias;

 private:
  Aggregation agg_ = Aggregation::kSum;
};

}  // namespace keel::nn
