// A by-name registry of factories with typed, validated parameter specs (after OpenSpiel).
// Keel registers its envs and agents here; a user's own target can add more at start-up:
//
//   keel::envs::registry().add({"MyEnv-v0", "my env", {{"gravity", ParamType::kDouble, 9.8}},
//                               [](const keel::Params& p) { return std::make_unique<MyEnv>(p); }});
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"

namespace keel {

enum class ParamType { kBool, kInt, kDouble, kString, kObject };
const char* param_type_name(ParamType t);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kDouble;
  Json default_value;  // also the value when the user gives none
  std::string doc;
  std::optional<double> min = std::nullopt;  // inclusive bounds for kInt / kDouble
  std::optional<double> max = std::nullopt;
  std::vector<std::string> choices = {};  // allowed values for kString (empty: any)
};

// Parameters after validation: every spec'd key present, with the user's value or the default.
class Params {
 public:
  Params() = default;
  explicit Params(Json values) : values_(std::move(values)) {}
  bool get_bool(const std::string& name) const { return at(name).get<bool>(); }
  int64_t get_int(const std::string& name) const { return at(name).get<int64_t>(); }
  double get_double(const std::string& name) const { return at(name).get<double>(); }
  std::string get_string(const std::string& name) const { return at(name).get<std::string>(); }
  const Json& get_object(const std::string& name) const { return at(name); }
  const Json& json() const { return values_; }

 private:
  const Json& at(const std::string& name) const;
  Json values_ = Json::object();
};

// Checks `given` (an object, or null) against `specs`; returns every param resolved. `where`
// names the owner in errors ("env CartPole-v1").
Params validate_params(const std::vector<ParamSpec>& specs, const Json& given,
                       const std::string& where);

template <class T>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<T>(const Params&)>;
  struct Entry {
    std::string name;
    std::string doc;
    std::vector<ParamSpec> params;
    Factory factory;
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(Entry e) {
    if (e.name.empty()) throw Error(kind_ + " registry", "cannot register an empty name");
    if (entries_.count(e.name))
      throw Error(kind_ + " registry", "duplicate name \"" + e.name + "\"");
    entries_.emplace(e.name, std::move(e));
  }
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  const Entry& at(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::string list;
      for (const auto& [n, _] : entries_) list += (list.empty() ? "" : ", ") + n;
      throw Error(kind_ + " \"" + name + "\"", "unknown " + kind_, "one of: " + list, name);
    }
    return it->second;
  }
  std::unique_ptr<T> make(const std::string& name, const Json& params = Json::object()) const {
    const Entry& e = at(name);
    return e.factory(validate_params(e.params, params, kind_ + " " + name));
  }
  Params resolve(const std::string& name, const Json& params) const {
    return validate_params(at(name).params, params, kind_ + " " + name);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [n, _] : entries_) out.push_back(n);
    return out;
  }
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace keel
