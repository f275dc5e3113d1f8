// What both trainers write into their saved state besides the agent: strings, progress rows and
// metric lists (replay/checkpoint.h byte streams), and evaluation of an agent on a vector env.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/sync_trainer.h"

namespace keel::replay {
class ByteWriter;
class ByteReader;
}  // namespace keel::replay

namespace keel::runtime {

void put_string(replay::ByteWriter& w, const std::string& s);
std::string get_string(replay::ByteReader& r);
void put_row(replay::ByteWriter& w, const ProgressRow& row);
ProgressRow get_row(replay::ByteReader& r);
void put_metrics(replay::ByteWriter& w, const agents::Metrics& m);
agents::Metrics get_metrics(replay::ByteReader& r);

// One episode per env of `envs` (reset with `seed`), acting with explore = !deterministic.
EvalResult evaluate_agent(agents::Agent& agent, envs::VectorEnv& envs, uint64_t seed,
                          bool deterministic);

double now_s();  // steady clock, seconds

}  // namespace keel::runtime
