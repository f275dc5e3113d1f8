// Save/load round trips (bit for bit) and clear errors on wrong, truncated or corrupted data.
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/layers.h"
#include "nn/mlp.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "nn/serialize.h"

namespace keel::nn {
namespace {

// An Mlp followed by a BatchNorm1d: parameters and buffers.
struct Net : Module {
  Net(int hidden, Rng& rng) : mlp({3, hidden, 2}, "relu", "identity", rng), bn(2) {}
  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override {
    mlp.visit_parameters(fn, prefix + "mlp.");
    bn.visit_parameters(fn, prefix + "bn.");
  }
  void visit_buffers(const BufferVisitor& fn, const std::string& prefix = {}) override {
    bn.visit_buffers(fn, prefix + "bn.");
  }
  Var forward(Tape& t, Var x) { return bn.forward(t, mlp.forward(t, x)); }
  Mlp mlp;
  BatchNorm1d bn;
};

// Trains a few steps so that weights, buffers and optimizer moments are all non-trivial.
void train(Net& net, Adam& opt, int steps) {
  Rng rng(5);
  Tape t;
  Eigen::MatrixXf x(3, 8), y(2, 8);
  for (int k = 0; k < steps; ++k) {
    for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = static_cast<float>(rng.normal());
    for (Eigen::Index i = 0; i < y.size(); ++i) y(i) = static_cast<float>(rng.normal());
    t.clear();
    opt.zero_grad();
    t.backward(mse(net.forward(t, t.constant(x)), t.constant(y)));
    opt.step();
  }
}

TEST(Serialize, RoundTripReproducesOutputsAndTrainingBitForBit) {
  Rng r1(1), r2(2);
  Net a(6, r1), b(6, r2);
  Adam oa(a.parameters(), {.lr = 0.01f}), ob(b.parameters(), {.lr = 0.5f});
  train(a, oa, 5);
  const std::string bytes = save_bytes(a, &oa);
  load_bytes(bytes, b, &ob);
  EXPECT_EQ(ob.step_count(), 5);
  EXPECT_FLOAT_EQ(ob.lr(), 0.01f);
  for (auto& [n, p] : a.named_parameters()) (void)n;
  auto pa = a.named_parameters(), pb = b.named_parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].second->value, pb[i].second->value);
  EXPECT_EQ(a.bn.running_var, b.bn.running_var);
  a.bn.set_training(false);
  b.bn.set_training(false);
  Eigen::MatrixXf x(3, 4);
  x << 1, 2, 3, 4, -1, 0.5f, 0.25f, 2, 0, -3, 1, 1;
  Tape t;
  const Eigen::MatrixXf ya = a.forward(t, t.constant(x)).value();
  const Eigen::MatrixXf yb = b.forward(t, t.constant(x)).value();
  EXPECT_EQ(ya, yb);  // bit for bit
  // continuing training from the loaded state gives identical trajectories
  a.bn.set_training(true);
  b.bn.set_training(true);
  train(a, oa, 3);
  train(b, ob, 3);
  EXPECT_EQ(a.mlp.layers()[0].weight.value, b.mlp.layers()[0].weight.value);
}

TEST(Serialize, FileRoundTripIsAtomicAndMultiModule) {
  Rng rng(3);
  Mlp actor({3, 4, 2}, "tanh", "identity", rng), critic({3, 4, 1}, "tanh", "identity", rng);
  Adam opt(actor.parameters());
  const std::string path =
      (std::filesystem::temp_directory_path() / "keel_nn_serialize_test.bin").string();
  save_file(path, Bundle{{{"actor", &actor}, {"critic", &critic}}, {{"actor_opt", &opt}}});
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  Rng rng2(4);
  Mlp actor2({3, 4, 2}, "tanh", "identity", rng2), critic2({3, 4, 1}, "tanh", "identity", rng2);
  Adam opt2(actor2.parameters());
  load_file(path, Bundle{{{"actor", &actor2}, {"critic", &critic2}}, {{"actor_opt", &opt2}}});
  EXPECT_EQ(critic2.layers()[1].weight.value, critic.layers()[1].weight.value);
  // swapped names: shapes differ, clear error
  EXPECT_THROW(load_file(path, Bundle{{{"actor", &critic2}, {"critic", &actor2}}, {}}), Error);
  EXPECT_THROW(load_file(path + ".missing", actor2), Error);
  std::filesystem::remove(path);
}

TEST(Serialize, WrongArchitectureTruncatedCorruptedAreClearErrors) {
  Rng rng(6);
  Mlp net({3, 5, 2}, "tanh", "identity", rng);
  Adam opt(net.parameters());
  const std::string bytes = save_bytes(net, &opt);
  Mlp copy = Mlp({3, 5, 2}, "tanh", "identity", rng);
  const Eigen::MatrixXf before = copy.layers()[0].weight.value;

  auto expect_error = [&](const std::string& data, Module& m, Optimizer* o, const char* needle) {
    try {
      load_bytes(data, m, o);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(copy.layers()[0].weight.value, before);  // target untouched
  };
  Mlp wider({3, 6, 2}, "tanh", "identity", rng);
  Mlp deeper({3, 5, 5, 2}, "tanh", "identity", rng);
  Mlp shallower({3, 2}, "tanh", "identity", rng);
  expect_error(bytes, wider, nullptr, "shape differs");
  expect_error(bytes, deeper, nullptr, "different architecture");
  expect_error(bytes, shallower, nullptr, "different architecture");
  Mlp two_layer({3, 5, 5}, "tanh", "identity", rng);  // deeper minus its last layer
  std::string big = save_bytes(deeper);
  expect_error(big, two_layer, nullptr, "does not have");
  Sgd sgd(copy.parameters(), {.lr = 0.1f, .momentum = 0.9f});
  expect_error(bytes, copy, &sgd, "kind differs");
  expect_error(save_bytes(net), copy, &opt, "missing");  // no optimizer in the data
  for (size_t cut : {size_t{0}, size_t{5}, size_t{30}, bytes.size() / 2, bytes.size() - 1})
    expect_error(bytes.substr(0, cut), copy, nullptr, cut < 28 ? "too short" : "size mismatch");
  for (size_t pos : {size_t{25}, bytes.size() / 2, bytes.size() - 9}) {
    std::string bad = bytes;
    bad[pos] ^= 0x10;
    expect_error(bad, copy, nullptr, "checksum");
  }
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  expect_error(bad_magic, copy, nullptr, "magic");
  std::string bad_version = bytes;
  bad_version[8] = 9;
  expect_error(bad_version, copy, nullptr, "version");
  // and a good load after all that works
  load_bytes(bytes, copy, &opt);
  EXPECT_EQ(copy.layers()[0].weight.value, net.layers()[0].weight.value);
}

// Corruption that keeps a valid checksum (a deliberate edit): loading must either succeed or throw
// keel::Error, never read out of bounds or crash (run under ASan in CI's sanitizer job).
uint64_t fnv1a(const std::string& s, size_t begin, size_t end) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = begin; i < end; ++i) {
    h ^= static_cast<unsigned char>(s[i]);
    h *= 1099511628211ull;
  }
  return h;
}

TEST(Serialize, RechecksummedCorruptionNeverCrashes) {
  Rng rng(8);
  Mlp net({2, 3, 1}, "tanh", "identity", rng);
  Adam opt(net.parameters());
  const std::string bytes = save_bytes(net, &opt);
  const size_t header = 20, end = bytes.size() - 8;
  int errors = 0, loads = 0;
  for (size_t pos = header; pos < end; ++pos) {
    for (unsigned char v : {0x00, 0xFF, 0x7F}) {
      std::string bad = bytes;
      if (static_cast<unsigned char>(bad[pos]) == v) continue;
      bad[pos] = static_cast<char>(v);
      const uint64_t sum = fnv1a(bad, header, end);
      std::memcpy(bad.data() + end, &sum, 8);
      Mlp target({2, 3, 1}, "tanh", "identity", rng);
      Adam target_opt(target.parameters());
      try {
        load_bytes(bad, target, &target_opt);
        ++loads;
      } catch (const Error&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(loads, 0);  // edits inside float data load (the checksum was forged)
}

}  // namespace
}  // namespace keel::nn
