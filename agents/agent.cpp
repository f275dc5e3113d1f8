#include "agents/agent.h"

#include "core/error.h"

namespace keel::agents {

namespace {
[[noreturn]] void unsupported(const Agent& a, const char* what) {
  throw Error("agent '" + a.algorithm() + "'",
              std::string("this algorithm does not implement ") + what);
}
}  // namespace

void Agent::save_learner(replay::ByteWriter&) const {
  unsupported(*this, "save_learner");
}
void Agent::load_learner(replay::ByteReader&) {
  unsupported(*this, "load_learner");
}
void Agent::scale_learning_rate(double) {
  unsupported(*this, "scale_learning_rate");
}

}  // namespace keel::agents
