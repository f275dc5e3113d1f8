#include "core/error.h"

namespace keel {
namespace {
std::string compose(const std::string& where, const std::string& what, const std::string& expected,
                    const std::string& found) {
  std::string msg = where.empty() ? what : where + ": " + what;
  if (!expected.empty() || !found.empty()) {
    msg += " (";
    if (!expected.empty()) msg += "expected " + expected;
    if (!expected.empty() && !found.empty()) msg += ", ";
    if (!found.empty()) msg += "found " + found;
    msg += ")";
  }
  return msg;
}
}  // namespace

Error::Error(std::string where, std::string what, std::string expected, std::string found)
    : std::runtime_error(compose(where, what, expected, found)),
      where_(std::move(where)),
      problem_(std::move(what)),
      expected_(std::move(expected)),
      found_(std::move(found)) {}

}  // namespace keel
