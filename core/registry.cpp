#include "core/registry.h"

namespace keel {

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::kBool:
      return "a boolean";
    case ParamType::kInt:
      return "an integer";
    case ParamType::kDouble:
      return "a number";
    case ParamType::kString:
      return "a string";
    case ParamType::kObject:
      return "an object";
  }
  return "?";
}

const Json& Params::at(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw Error("params", "no parameter named \"" + name + "\"");
  return *it;
}

Params validate_params(const std::vector<ParamSpec>& specs, const Json& given,
                       const std::string& where) {
  if (!given.is_null() && !given.is_object())
    throw Error(where, "parameters must be a JSON object", "object", describe_json(given));
  Json out = Json::object();
  for (const auto& s : specs) out[s.name] = s.default_value;
  if (given.is_object()) {
    for (auto it = given.begin(); it != given.end(); ++it) {
      const ParamSpec* spec = nullptr;
      for (const auto& s : specs)
        if (s.name == it.key()) spec = &s;
      const std::string path = where + " parameter \"" + it.key() + "\"";
      if (!spec) {
        std::string list;
        for (const auto& s : specs) list += (list.empty() ? "" : ", ") + s.name;
        throw Error(path, "unknown parameter", list.empty() ? "no parameters" : "one of: " + list,
                    it.key());
      }
      const Json& v = it.value();
      bool ok = false;
      switch (spec->type) {
        case ParamType::kBool:
          ok = v.is_boolean();
          break;
        case ParamType::kInt:
          ok = v.is_number_integer();
          break;
        case ParamType::kDouble:
          ok = v.is_number();
          break;
        case ParamType::kString:
          ok = v.is_string();
          break;
        case ParamType::kObject:
          ok = v.is_object();
          break;
      }
      if (!ok) throw Error(path, "wrong type", param_type_name(spec->type), describe_json(v));
      if (v.is_number()) {
        const double d = v.get<double>();
        Range r;
        if (spec->min) r.lo = *spec->min;
        if (spec->max) r.hi = *spec->max;
        if (!r.contains(d)) throw Error(path, "out of range", r.to_string(), describe_json(v));
      }
      if (spec->type == ParamType::kString && !spec->choices.empty()) {
        bool found = false;
        for (const auto& c : spec->choices) found = found || c == v.get<std::string>();
        if (!found) {
          std::string list;
          for (const auto& c : spec->choices) list += (list.empty() ? "" : ", ") + c;
          throw Error(path, "not an allowed value", "one of: " + list, describe_json(v));
        }
      }
      out[it.key()] = v;
    }
  }
  return Params(std::move(out));
}

}  // namespace keel
