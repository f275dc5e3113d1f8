#include "agents/common/state_io.h"

#include "core/error.h"

namespace keel::agents {

void put_blob(replay::ByteWriter& w, const std::string& bytes) {
  w.str(bytes);
}

std::string get_blob(replay::ByteReader& r) {
  return r.str();
}

void save_modules(replay::ByteWriter& w, const nn::Bundle& bundle) {
  put_blob(w, nn::save_bytes(bundle));
}

void load_modules(replay::ByteReader& r, const nn::Bundle& bundle) {
  nn::load_bytes(get_blob(r), bundle);
}

void export_mlp(nn::Mlp& net, PolicyFile& out) {
  switch (net.spec().activation) {
    case nn::Activation::kTanh:
      out.hidden_activation = PolicyFile::Act::kTanh;
      break;
    case nn::Activation::kRelu:
      out.hidden_activation = PolicyFile::Act::kRelu;
      break;
    case nn::Activation::kIdentity:
      out.hidden_activation = PolicyFile::Act::kIdentity;
      break;
    default:
      throw Error("policy export", "activation not supported by policy files",
                  "tanh, relu or identity",
                  std::string(nn::activation_name(net.spec().activation)));
  }
  if (net.spec().output_activation != nn::Activation::kIdentity)
    throw Error("policy export", "output activation must be identity");
  out.weights.clear();
  out.biases.clear();
  for (auto& l : net.layers()) {
    out.weights.push_back(l.weight.value);
    out.biases.push_back(l.bias.value.col(0));
  }
}

}  // namespace keel::agents
