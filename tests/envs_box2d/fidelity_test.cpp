#include <gtest/gtest.h>
TEST(Fidelity, Placeholder) {}
