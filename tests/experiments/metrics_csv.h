// Reading a run's metrics.csv in tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace keel::experiments::testing_support {

// metrics.csv without the wall-clock columns (wall_s, steps_per_s): what a rerun must reproduce.
inline std::vector<std::string> metrics_without_time(const std::string& dir) {
  std::ifstream in(dir + "/metrics.csv");
  std::vector<std::string> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell, out;
    for (int col = 0; std::getline(ss, cell, ','); ++col)
      if (col != 1 && col != 2) out += cell + ",";
    rows.push_back(out);
  }
  return rows;
}

}  // namespace keel::experiments::testing_support
