// Per-joint scratch and per-sim joint group of the Box2D 2.3 revolute joint solver defined in
// lunar_lander_physics.cpp. Box2D-free, so that the sims' headers can hold them by value.
#pragma once

#include <array>

namespace keel::envs {

// The joints of one sim that always share an island (the lander's two legs). The island
// initialises its joints in its own order before the velocity iterations; when that island has
// no touching contact (the lander in flight), the first velocity solve runs every iteration of
// both joints at once, in that order, with the bodies' velocities kept in registers (as Mode
// says how), and the island's remaining calls return at once.
struct Revolute23Group {
  static constexpr int kJoints = 2;
  int seen = 0;                        // joints initialised in this world step
  bool tried = false;                  // this step's first velocity solve decided how to solve
  std::array<void*, kJoints> order{};  // b2RevoluteJoint*, in island order
  // How the group's joints are solved while their island has no contact: each iteration of each
  // joint in its own call, as Box2D calls them; every iteration in the group's first call, the
  // same arithmetic (bit for bit); or that call with the iterations that keep each joint's motor
  // and limit in one regime run as one linear map (joint_pair23.cpp; the default).
  enum Mode { kJointByJoint, kTogetherExact, kTogetherLinear };
  Mode mode = kTogetherLinear;
  long long steps_solved_at_once = 0;  // world steps whose iterations ran at once
  // > 0: the sim stepped the world with one velocity iteration, having checked that no contact
  // can take part in the step (LanderSim::in_clear_air); the group runs this many itself.
  int iterations = 0;
  bool missed_now = false;  // this step: such a step found the island not the group's alone
  long long missed = 0;     // such steps (LanderSim counts them; must stay 0)
  void begin_step() {       // called by the sim before each world step
    seen = 0;
    tried = false;
    missed_now = false;
  }
};

struct Joint23;  // joint_solver23.h

// The inverses of a joint's 3x3 and 2x2 effective-mass matrices, computed once per step instead
// of solved afresh in each velocity iteration, and the joint's group (null: solved alone). A joint
// whose user data points to one uses it; joints without (user data 0) solve as Box2D 2.3 writes
// it.
struct Revolute23Scratch {
  std::array<float, 11> inverse{};
  Revolute23Group* group = nullptr;
  bool solved = false;  // this step's velocity iterations were done with the group's first call
  // Set by b2World::Solve (world_solve.cpp) around the velocity iterations of an island with
  // touching contacts, which it runs itself on copies of the joints: while set, the joint's
  // SolveVelocityConstraints solves nothing and copies its inputs and impulses into *batch, or
  // (batch_store) its impulses back from it.
  Joint23* batch = nullptr;
  bool batch_store = false;
};

}  // namespace keel::envs
