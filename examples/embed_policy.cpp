// Embedding a trained Keel policy in your own simulation, with nothing but Eigen: this file
// includes only agents/policy_file.h (header-only) and links no Keel library.
//
//   build/release/examples/embed_policy runs/cartpole_ppo-*/policy.keelpol
//
// The "simulation" here is a stand-alone cart-pole written inline, as a user's own code would be.
#include <cmath>
#include <cstdio>
#include <exception>

#include <Eigen/Core>

#include "agents/policy_file.h"

namespace {
struct CartPoleSim {
  double x = 0.01, x_dot = 0.0, theta = -0.02, theta_dot = 0.01;
  // One 20 ms step pushing left (0) or right (1); returns false when the pole has fallen.
  bool step(int action) {
    const double force = action == 1 ? 10.0 : -10.0, c = std::cos(theta), s = std::sin(theta);
    const double temp = (force + 0.05 * theta_dot * theta_dot * s) / 1.1;
    const double theta_acc = (9.8 * s - c * temp) / (0.5 * (4.0 / 3.0 - 0.1 * c * c / 1.1));
    const double x_acc = temp - 0.05 * theta_acc * c / 1.1;
    x += 0.02 * x_dot;
    x_dot += 0.02 * x_acc;
    theta += 0.02 * theta_dot;
    theta_dot += 0.02 * theta_acc;
    return std::fabs(x) <= 2.4 && std::fabs(theta) <= 12 * 2 * M_PI / 360;
  }
};
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: %s POLICY_FILE (a CartPole policy, e.g. runs/<run>/policy.keelpol)\n",
                 argv[0]);
    return 2;
  }
  try {
    const keel::agents::PolicyFile policy = keel::agents::PolicyFile::load(argv[1]);
    if (policy.obs_dim != 4)
      throw std::runtime_error("this example needs a CartPole policy (4 observations)");
    CartPoleSim sim;
    int steps = 0;
    bool upright = true;
    while (upright && steps < 500) {
      const Eigen::Vector4f obs(float(sim.x), float(sim.x_dot), float(sim.theta),
                                float(sim.theta_dot));
      const int action = static_cast<int>(policy.act(obs)(0));
      upright = sim.step(action);
      ++steps;
    }
    std::printf("%s (%s, trained on %s) balanced the pole for %d of 500 steps\n", argv[1],
                policy.algorithm.c_str(), policy.env_id.c_str(), steps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
