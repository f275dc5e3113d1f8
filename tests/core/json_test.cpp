#include "core/json.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace keel {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonReader, ReadsValuesAndKeepsDefaults) {
  Json j =
      Json::parse(R"({"lr": 0.001, "epochs": 4, "name": "x", "norm": true, "sizes": [64, 64]})");
  JsonReader r(j, "agent");
  double lr = 1, gamma = 0.99;
  int epochs = 0;
  std::string name;
  bool norm = false;
  std::vector<int> sizes;
  r.read("lr", lr, Range::positive());
  r.read("gamma", gamma, Range::open_closed(0, 1));
  r.read("epochs", epochs, Range::at_least(1));
  r.read("name", name);
  r.read("norm", norm);
  r.read("sizes", sizes);
  r.finish();
  EXPECT_EQ(lr, 0.001);
  EXPECT_EQ(gamma, 0.99);
  EXPECT_EQ(epochs, 4);
  EXPECT_EQ(name, "x");
  EXPECT_TRUE(norm);
  EXPECT_EQ(sizes, (std::vector<int>{64, 64}));
}

TEST(JsonReader, UnknownKeyNamesPathAndValidKeys) {
  Json j = Json::parse(R"({"lr": 0.1, "gama": 0.9})");
  std::string msg = error_of([&] {
    JsonReader r(j, "agent.ppo");
    double lr, gamma;
    r.read("lr", lr);
    r.read("gamma", gamma);
    r.finish();
  });
  EXPECT_NE(msg.find("agent.ppo.gama"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gamma, lr"), std::string::npos) << msg;
}

TEST(JsonReader, WrongTypeAndRangeNameExpectedAndFound) {
  Json j = Json::parse(R"({"gamma": 1.5, "epochs": "four", "steps": 2.5})");
  std::string m1 = error_of([&] {
    JsonReader r(j, "agent");
    double g;
    r.read("gamma", g, Range::open_closed(0, 1));
  });
  EXPECT_NE(m1.find("agent.gamma"), std::string::npos) << m1;
  EXPECT_NE(m1.find("(0, 1]"), std::string::npos) << m1;
  EXPECT_NE(m1.find("1.5"), std::string::npos) << m1;
  std::string m2 = error_of([&] {
    JsonReader r(j, "agent");
    int e;
    r.read("epochs", e);
  });
  EXPECT_NE(m2.find("an integer"), std::string::npos) << m2;
  EXPECT_NE(m2.find("\"four\""), std::string::npos) << m2;
  std::string m3 = error_of([&] {
    JsonReader r(j, "agent");
    int64_t s;
    r.read("steps", s);
  });
  EXPECT_NE(m3.find("agent.steps"), std::string::npos) << m3;
}

TEST(JsonReader, ChoicesAndNestedObjects) {
  Json j = Json::parse(R"({"mode": "fast", "inner": {"a": 1}, "notobj": 3})");
  JsonReader r(j, "");
  std::string mode = "sync";
  EXPECT_THROW(r.read("mode", mode, {"sync", "async"}), Error);
  const Json* inner = r.object("inner");
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ((*inner)["a"], 1);
  EXPECT_THROW(r.object("notobj"), Error);
  EXPECT_EQ(r.object("absent"), nullptr);
  EXPECT_THROW(JsonReader(Json::array(), "x"), Error);
}

TEST(JsonFile, AtomicWriteThenRead) {
  const std::string path = testing::TempDir() + "/keel_json_test.json";
  write_json_file(path, Json{{"a", 1}});
  EXPECT_EQ(read_json_file(path)["a"], 1);
  EXPECT_THROW(read_json_file(path + ".missing"), Error);
}

}  // namespace
}  // namespace keel
