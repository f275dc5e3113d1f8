// Saving agent state into a checkpoint stream: modules with their optimizers (nn's checksummed
// format, length-prefixed), RNG streams, and an exported MLP as a policy file.
#pragma once

#include <string>

#include "agents/policy_file.h"
#include "core/rng.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "nn/serialize.h"
#include "replay/checkpoint.h"

namespace keel::agents {

// Length-prefixed byte blob.
void put_blob(replay::ByteWriter& w, const std::string& bytes);
std::string get_blob(replay::ByteReader& r);

void save_modules(replay::ByteWriter& w, const nn::Bundle& bundle);
void load_modules(replay::ByteReader& r, const nn::Bundle& bundle);

// Copies an Mlp's layers into a policy file (hidden activation must be tanh, relu or identity).
void export_mlp(nn::Mlp& net, PolicyFile& out);

}  // namespace keel::agents
