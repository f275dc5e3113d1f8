#include "core/registry.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

struct Thing {
  double g;
  int64_t n;
};

Registry<Thing> make_registry() {
  Registry<Thing> reg("thing");
  reg.add({"a",
           "first",
           {{"g", ParamType::kDouble, 9.8, "gravity", 0.0, 100.0},
            {"n", ParamType::kInt, 3, "count", 1.0, std::nullopt}},
           [](const Params& p) {
             return std::make_unique<Thing>(Thing{p.get_double("g"), p.get_int("n")});
           }});
  return reg;
}

TEST(Registry, MakesWithDefaultsAndOverrides) {
  auto reg = make_registry();
  auto t = reg.make("a");
  EXPECT_EQ(t->g, 9.8);
  EXPECT_EQ(t->n, 3);
  auto u = reg.make("a", Json{{"g", 1.5}, {"n", 7}});
  EXPECT_EQ(u->g, 1.5);
  EXPECT_EQ(u->n, 7);
}

TEST(Registry, RejectsUnknownNamesParamsTypesAndRanges) {
  auto reg = make_registry();
  try {
    reg.make("b");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("one of: a"), std::string::npos) << e.what();
  }
  try {
    reg.make("a", Json{{"gravity", 1}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("one of: g, n"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reg.make("a", Json{{"n", 1.5}}), Error);
  EXPECT_THROW(reg.make("a", Json{{"n", 0}}), Error);
  EXPECT_THROW(reg.make("a", Json{{"g", "x"}}), Error);
  EXPECT_THROW(reg.add({"a", "dup", {}, nullptr}), Error);
}

TEST(Registry, UserCanAddEntries) {
  auto reg = make_registry();
  reg.add({"mine", "user's own", {}, [](const Params&) {
             return std::make_unique<Thing>(Thing{1, 1});
           }});
  EXPECT_TRUE(reg.contains("mine"));
  EXPECT_EQ(reg.names().size(), 2u);
}

}  // namespace
}  // namespace keel
