// Strict JSON reading for configs. A JsonReader walks one JSON object: every key the program reads
// becomes a valid key; finish() then rejects any key it did not read, naming its full path and
// listing the valid keys. Type and range errors name the path, the expected and the found value.
//
//   JsonReader r(j, "agent.ppo");
//   r.read("learning_rate", hp.learning_rate, Range::positive());
//   r.read("epochs", hp.epochs, Range::at_least(1));
//   r.finish();
#pragma once

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_fwd.h"

namespace keel {

// A numeric interval with open or closed ends.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;

  static Range any() { return {}; }
  static Range positive() { return {0.0, std::numeric_limits<double>::infinity(), true, false}; }
  static Range non_negative() {
    return {0.0, std::numeric_limits<double>::infinity(), false, false};
  }
  static Range at_least(double v) {
    return {v, std::numeric_limits<double>::infinity(), false, false};
  }
  static Range closed(double a, double b) { return {a, b, false, false}; }
  static Range open_closed(double a, double b) { return {a, b, true, false}; }  // (a, b]
  static Range open(double a, double b) { return {a, b, true, true}; }

  bool contains(double v) const;
  std::string to_string() const;
};

// Short description of a JSON value's type and content, for error messages.
std::string describe_json(const Json& j);
// "a.b" + "c" -> "a.b.c"; handles an empty prefix.
std::string join_path(const std::string& prefix, const std::string& key);

// Reads a JSON file; a missing file or a parse error is a keel::Error naming the file and line.
Json read_json_file(const std::string& path);
// Writes atomically: to `path.tmp`, fsync, then rename over `path`.
void write_json_file(const std::string& path, const Json& j, int indent = 2);

class JsonReader {
 public:
  // `j` must be an object (or null, read as an empty object). `path` names it in errors.
  JsonReader(const Json& j, std::string path);

  const std::string& path() const { return path_; }
  bool has(const std::string& key);  // registers `key` as valid

  void read(const std::string& key, bool& out);
  void read(const std::string& key, std::string& out);
  void read(const std::string& key, std::string& out, const std::vector<std::string>& choices);
  void read(const std::string& key, double& out, Range range = {});
  void read(const std::string& key, float& out, Range range = {});
  void read(const std::string& key, int& out, Range range = {});
  void read(const std::string& key, int64_t& out, Range range = {});
  void read(const std::string& key, uint64_t& out);
  void read(const std::string& key, std::vector<int>& out, Range element_range = {});
  void read(const std::string& key, std::vector<double>& out, Range element_range = {});

  // A nested object (null if absent); registers the key. Errors if present and not an object.
  const Json* object(const std::string& key);
  // Any value (null if absent); registers the key.
  const Json* value(const std::string& key);

  // Throws keel::Error if the object holds a key nobody read.
  void finish() const;
  std::vector<std::string> valid_keys() const { return {valid_.begin(), valid_.end()}; }

 private:
  const Json* find(const std::string& key);
  [[noreturn]] void fail(const std::string& key, const std::string& expected,
                         const Json& found) const;
  void check_range(const std::string& key, double v, const Range& r, const Json& found) const;

  const Json& j_;
  std::string path_;
  std::set<std::string> valid_;
};

}  // namespace keel
