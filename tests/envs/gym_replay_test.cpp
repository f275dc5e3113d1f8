// Gymnasium parity: every reference recording replays within tolerance.
#include "envs/gym_replay.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"

namespace keel::envs {
namespace {

const std::string kDir = std::string(KEEL_TEST_DATA_DIR) + "/envs";

class GymReplay : public testing::TestWithParam<std::string> {};

TEST_P(GymReplay, MatchesGymnasium) {
  const ReplayReport r = replay_file(kDir + "/" + GetParam() + ".jsonl");
  EXPECT_EQ(r.env, GetParam());
  EXPECT_EQ(r.episodes, 8);
  EXPECT_TRUE(r.passed()) << to_json(r).dump(2);
  // Stronger than the tolerance: the physics state matches Gymnasium's bit for bit.
  EXPECT_EQ(r.max_state_dev, 0.0);
  EXPECT_EQ(r.max_obs_dev, 0.0);
  EXPECT_EQ(r.max_reward_dev, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Recordings, GymReplay,
                         testing::Values("CartPole-v1", "Acrobot-v1", "MountainCar-v0",
                                         "MountainCarContinuous-v0", "Pendulum-v1"),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(GymReplayErrors, MalformedFilesGiveErrorsWithFileAndLine) {
  const std::string path = testing::TempDir() + "/bad.jsonl";
  { std::ofstream(path) << "{\"env\": \"CartPole-v1\"\n"; }
  try {
    replay_file(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:1"), std::string::npos) << e.what();
  }
  { std::ofstream(path) << "{\"env\": \"CartPole-v1\", \"state0\": [0,0,0,0]}\n"; }
  EXPECT_THROW(replay_file(path), Error);
  EXPECT_THROW(replay_file(path + ".missing"), Error);
}

TEST(GymReplayErrors, DetectsADeviation) {
  // Corrupt one recorded reward of a real recording: the replay must notice.
  std::ifstream in(kDir + "/MountainCar-v0.jsonl");
  std::string line;
  std::getline(in, line);
  Json ep = Json::parse(line);
  ep["rewards"][3] = -2.0;
  const std::string path = testing::TempDir() + "/corrupt.jsonl";
  std::ofstream(path) << ep.dump() << "\n";
  const ReplayReport r = replay_file(path);
  EXPECT_FALSE(r.passed());
  EXPECT_NEAR(r.max_reward_dev, 1.0, 1e-12);
}

}  // namespace
}  // namespace keel::envs
