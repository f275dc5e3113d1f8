// conv2d (im2col per sample) and graph aggregation ops, and the Conv2d / GraphConv layers.
#include "nn/conv_op.h"

#include "nn/conv.h"
#include "nn/graph.h"
#include "nn/ops.h"

#include <string>

#include "core/error.h"

namespace keel::nn {
namespace {

void load_geometry(Node& n, const ConvGeometry& g) {
  n.iarg[0] = g.in_channels;
  n.iarg[1] = g.in_height;
  n.iarg[2] = g.in_width;
  n.iarg[3] = g.out_channels;
  n.iarg[4] = g.kernel;
  n.iarg[5] = g.stride;
  n.iarg[6] = g.padding;
}

ConvGeometry geometry_of(const Node& n) {
  return {n.iarg[0], n.iarg[1], n.iarg[2], n.iarg[3], n.iarg[4], n.iarg[5], n.iarg[6]};
}

// colT(p, k): output position p × patch element k (c, ky, kx) of one sample.
void im2col(const ConvGeometry& g, const float* x, Eigen::MatrixXf& colT) {
  const int oh = g.out_height(), ow = g.out_width(), k = g.kernel;
  colT.resize(oh * ow, g.patch_size());
  for (int c = 0; c < g.in_channels; ++c)
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        float* col = colT.col((c * k + ky) * k + kx).data();
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * g.stride - g.padding + ky;
          for (int ox = 0; ox < ow; ++ox) {
            const int ix = ox * g.stride - g.padding + kx;
            const bool inside = iy >= 0 && iy < g.in_height && ix >= 0 && ix < g.in_width;
            col[oy * ow + ox] = inside ? x[(c * g.in_height + iy) * g.in_width + ix] : 0.f;
          }
        }
      }
}

void col2im_add(const ConvGeometry& g, const Eigen::MatrixXf& dcolT, float* dx) {
  const int oh = g.out_height(), ow = g.out_width(), k = g.kernel;
  for (int c = 0; c < g.in_channels; ++c)
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        const float* col = dcolT.col((c * k + ky) * k + kx).data();
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * g.stride - g.padding + ky;
          if (iy < 0 || iy >= g.in_height) continue;
          for (int ox = 0; ox < ow; ++ox) {
            const int ix = ox * g.stride - g.padding + kx;
            if (ix < 0 || ix >= g.in_width) continue;
            dx[(c * g.in_height + iy) * g.in_width + ix] += col[oy * ow + ox];
          }
        }
      }
}

}  // namespace

Var conv2d(Var x, Var w, Var b, const ConvGeometry& geo) {
  Tape& t = *x.tape;
  const Eigen::MatrixXf& X = t.value(x.id);
  const Eigen::MatrixXf& W = t.value(w.id);
  const Eigen::MatrixXf& B = t.value(b.id);
  if (geo.out_height() <= 0 || geo.out_width() <= 0)
    throw Error("nn::conv2d", "kernel larger than the padded input");
  if (X.rows() != geo.in_features() || W.rows() != geo.out_channels ||
      W.cols() != geo.patch_size() || B.rows() != geo.out_channels || B.cols() != 1)
    throw Error("nn::conv2d", "shapes do not match the geometry",
                "x " + std::to_string(geo.in_features()) + "×batch, w " +
                    std::to_string(geo.out_channels) + "×" + std::to_string(geo.patch_size()),
                "x " + std::to_string(X.rows()) + "×" + std::to_string(X.cols()) + ", w " +
                    std::to_string(W.rows()) + "×" + std::to_string(W.cols()));
  const int id = t.push(Op::kConv2d, x.id, w.id, b.id);
  Node& n = t.node(id);
  load_geometry(n, geo);
  const Eigen::MatrixXf& Xv = t.value(x.id);
  const Eigen::MatrixXf& Wv = t.value(w.id);
  const Eigen::MatrixXf& Bv = t.value(b.id);
  const int ohw = geo.out_height() * geo.out_width();
  n.value.resize(geo.out_features(), Xv.cols());
  for (Eigen::Index s = 0; s < Xv.cols(); ++s) {
    im2col(geo, Xv.col(s).data(), n.aux);
    Eigen::Map<Eigen::MatrixXf> out(n.value.col(s).data(), ohw, geo.out_channels);
    out.noalias() = n.aux * Wv.transpose();
    out.rowwise() += Bv.col(0).transpose();
  }
  return {&t, id};
}

void conv2d_backward(Node& n, const Eigen::MatrixXf& x, const Eigen::MatrixXf& w,
                     Eigen::MatrixXf* gx, Eigen::MatrixXf* gw, Eigen::MatrixXf* gb) {
  const ConvGeometry geo = geometry_of(n);
  const int ohw = geo.out_height() * geo.out_width();
  for (Eigen::Index s = 0; s < x.cols(); ++s) {
    Eigen::Map<const Eigen::MatrixXf> gout(n.grad.col(s).data(), ohw, geo.out_channels);
    if (gw) {
      im2col(geo, x.col(s).data(), n.aux);
      gw->noalias() += gout.transpose() * n.aux;
    }
    if (gb) *gb += gout.colwise().sum().transpose();
    if (gx) {
      n.aux2.noalias() = gout * w;
      col2im_add(geo, n.aux2, gx->col(s).data());
    }
  }
}

Var aggregate(Var x, std::span<const int> src, std::span<const int> dst, bool mean) {
  Tape& t = *x.tape;
  const Eigen::Index nodes = t.value(x.id).cols();
  if (src.size() != dst.size())
    throw Error("nn::aggregate", "edge lists differ in length", std::to_string(src.size()),
                std::to_string(dst.size()));
  for (size_t e = 0; e < src.size(); ++e)
    if (src[e] < 0 || src[e] >= nodes || dst[e] < 0 || dst[e] >= nodes)
      throw Error("nn::aggregate", "edge endpoint out of range", "0.." + std::to_string(nodes - 1),
                  std::to_string(src[e]) + "->" + std::to_string(dst[e]));
  const int id = t.push(Op::kAggregate, x.id);
  Node& n = t.node(id);
  const Eigen::MatrixXf& X = t.value(x.id);
  n.idx.resize(2 * src.size());
  n.aux.setZero(1, nodes);  // per-destination weight: 1 (sum) or 1/in-degree (mean)
  for (size_t e = 0; e < src.size(); ++e) {
    n.idx[2 * e] = src[e];
    n.idx[2 * e + 1] = dst[e];
    n.aux(0, dst[e]) += 1.f;
  }
  for (Eigen::Index j = 0; j < nodes; ++j)
    n.aux(0, j) = (!mean || n.aux(0, j) == 0.f) ? 1.f : 1.f / n.aux(0, j);
  n.value.setZero(X.rows(), nodes);
  for (size_t e = 0; e < src.size(); ++e) n.value.col(dst[e]) += X.col(src[e]) * n.aux(0, dst[e]);
  return {&t, id};
}

// --- Conv2d ----------------------------------------------------------------------------------

Conv2d::Conv2d(const ConvGeometry& geometry, Rng& rng, InitKind init, float gain)
    : weight(Eigen::MatrixXf(geometry.out_channels, geometry.patch_size())),
      bias(Eigen::MatrixXf::Zero(geometry.out_channels, 1)),
      geo_(geometry) {
  init_weight(weight.value, init, gain, rng);
}

Var Conv2d::forward(Tape& t, Var x) {
  return conv2d(x, t.param(weight), t.param(bias), geo_);
}

void Conv2d::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  fn(prefix + "weight", weight);
  fn(prefix + "bias", bias);
}

// --- GraphConv -------------------------------------------------------------------------------

GraphConv::GraphConv(int in, int out, Aggregation agg, Rng& rng, InitKind init, float gain)
    : w_self(Eigen::MatrixXf(out, in)),
      w_neigh(Eigen::MatrixXf(out, in)),
      bias(Eigen::MatrixXf::Zero(out, 1)),
      agg_(agg) {
  init_weight(w_self.value, init, gain, rng);
  init_weight(w_neigh.value, init, gain, rng);
}

Var GraphConv::forward(Tape& t, Var x, const EdgeList& edges) {
  Var m = aggregate(x, edges.src, edges.dst, agg_ == Aggregation::kMean);
  return linear(x, t.param(w_self), t.param(bias)) + matmul(t.param(w_neigh), m);
}

void GraphConv::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  fn(prefix + "w_self", w_self);
  fn(prefix + "w_neigh", w_neigh);
  fn(prefix + "bias", bias);
}

}  // namespace keel::nn
