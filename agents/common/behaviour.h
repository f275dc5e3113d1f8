// BehaviourSource: what an agent whose learner corrects for the acting policy (IMPALA's V-trace)
// needs carried from the actor's act() to the learner's observe(). The async runtime copies
// behaviour_log_probs() after every act(explore = true) on an actor's copy and hands the learner's
// copy the matching values with set_behaviour_log_probs() just before observe(). In the sync loop
// the agent uses what its own act() recorded.
#pragma once

#include <Eigen/Core>

namespace keel::agents {

class BehaviourSource {
 public:
  virtual ~BehaviourSource() = default;
  // log π_behaviour(a | s) of the actions the last act(explore = true) chose, one per env.
  virtual const Eigen::VectorXf& behaviour_log_probs() const = 0;
  // The behaviour log-probs of the step the next observe() records.
  virtual void set_behaviour_log_probs(const Eigen::VectorXf& log_probs) = 0;
};

}  // namespace keel::agents
