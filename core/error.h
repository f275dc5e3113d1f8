// keel::Error — the one exception type Keel throws at its edges. It carries where the problem
// is (file, key path, env id…), what went wrong, and optionally what was expected and found.
#pragma once

#include <stdexcept>
#include <string>

namespace keel {

class Error : public std::runtime_error {
 public:
  Error(std::string where, std::string what, std::string expected = {}, std::string found = {});

  const std::string& where() const { return where_; }
  const std::string& problem() const { return problem_; }
  const std::string& expected() const { return expected_; }
  const std::string& found() const { return found_; }

 private:
  std::string where_, problem_, expected_, found_;
};

}  // namespace keel
