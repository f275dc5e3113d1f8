#include "core/json.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "core/error.h"

namespace keel {

bool Range::contains(double v) const {
  if (std::isnan(v)) return false;
  if (lo_open ? !(v > lo) : !(v >= lo)) return false;
  if (hi_open ? !(v < hi) : !(v <= hi)) return false;
  return true;
}

std::string Range::to_string() const {
  auto num = [](double v) {
    if (std::isinf(v)) return std::string(v > 0 ? "inf" : "-inf");
    std::ostringstream os;
    os << v;
    return os.str();
  };
  return std::string("a number in ") + (lo_open ? "(" : "[") + num(lo) + ", " + num(hi) +
         (hi_open ? ")" : "]");
}

std::string describe_json(const Json& j) {
  std::string dump = j.dump();
  if (dump.size() > 60) dump = dump.substr(0, 57) + "...";
  return std::string(j.type_name()) + " " + dump;
}

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return Json::parse(ss.str());
  } catch (const Json::parse_error& e) {
    throw Error(path, std::string("invalid JSON: ") + e.what());
  }
}

void write_json_file(const std::string& path, const Json& j, int indent) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw Error(tmp, "cannot open file for writing");
    out << j.dump(indent) << "\n";
    out.flush();
    if (!out) throw Error(tmp, "write failed");
  }
  int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(path, "cannot rename temporary file: " + ec.message());
}

namespace {
const Json& empty_object() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}
}  // namespace

JsonReader::JsonReader(const Json& j, std::string path)
    : j_(j.is_null() ? empty_object() : j), path_(std::move(path)) {
  if (!j_.is_object())
    throw Error(path_.empty() ? "config" : path_, "expected a JSON object", "object",
                describe_json(j));
}

bool JsonReader::has(const std::string& key) {
  valid_.insert(key);
  return j_.contains(key);
}

const Json* JsonReader::find(const std::string& key) {
  valid_.insert(key);
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return nullptr;
  return &*it;
}

void JsonReader::fail(const std::string& key, const std::string& expected,
                      const Json& found) const {
  throw Error(join_path(path_, key), "invalid value", expected, describe_json(found));
}

void JsonReader::check_range(const std::string& key, double v, const Range& r,
                             const Json& found) const {
  if (!r.contains(v)) fail(key, r.to_string(), found);
}

void JsonReader::read(const std::string& key, bool& out) {
  if (const Json* v = find(key)) {
    if (!v->is_boolean()) fail(key, "a boolean", *v);
    out = v->get<bool>();
  }
}

void JsonReader::read(const std::string& key, std::string& out) {
  if (const Json* v = find(key)) {
    if (!v->is_string()) fail(key, "a string", *v);
    out = v->get<std::string>();
  }
}

void JsonReader::read(const std::string& key, std::string& out,
                      const std::vector<std::string>& choices) {
  std::string value = out;
  read(key, value);
  bool ok = false;
  for (const auto& c : choices) ok = ok || c == value;
  if (!ok) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + ("\"" + c + "\"");
    fail(key, "one of " + list, Json(value));
  }
  out = value;
}

void JsonReader::read(const std::string& key, double& out, Range range) {
  if (const Json* v = find(key)) {
    if (!v->is_number()) fail(key, "a number", *v);
    double d = v->get<double>();
    check_range(key, d, range, *v);
    out = d;
  }
}

void JsonReader::read(const std::string& key, float& out, Range range) {
  double d = out;
  read(key, d, range);
  out = static_cast<float>(d);
}

void JsonReader::read(const std::string& key, int64_t& out, Range range) {
  if (const Json* v = find(key)) {
    int64_t i = 0;
    if (v->is_number_integer()) {
      i = v->get<int64_t>();
    } else if (v->is_number_float() && std::isfinite(v->get<double>()) &&
               std::floor(v->get<double>()) == v->get<double>() &&
               std::fabs(v->get<double>()) < 9.0e15) {
      i = static_cast<int64_t>(v->get<double>());  // 1e6 written as a float is fine
    } else {
      fail(key, "an integer", *v);
    }
    check_range(key, static_cast<double>(i), range, *v);
    out = i;
  }
}

void JsonReader::read(const std::string& key, int& out, Range range) {
  int64_t i = out;
  Range r = range;
  r.lo = std::max(r.lo, static_cast<double>(std::numeric_limits<int>::min()));
  r.hi = std::min(r.hi, static_cast<double>(std::numeric_limits<int>::max()));
  read(key, i, r);
  out = static_cast<int>(i);
}

void JsonReader::read(const std::string& key, uint64_t& out) {
  if (const Json* v = find(key)) {
    if (v->is_number_unsigned()) {
      out = v->get<uint64_t>();
    } else if (v->is_number_integer() && v->get<int64_t>() >= 0) {
      out = static_cast<uint64_t>(v->get<int64_t>());
    } else {
      fail(key, "a non-negative integer", *v);
    }
  }
}

void JsonReader::read(const std::string& key, std::vector<int>& out, Range element_range) {
  if (const Json* v = find(key)) {
    if (!v->is_array()) fail(key, "an array of integers", *v);
    std::vector<int> result;
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& e = (*v)[i];
      if (!e.is_number_integer()) fail(key + "[" + std::to_string(i) + "]", "an integer", e);
      check_range(key + "[" + std::to_string(i) + "]", e.get<double>(), element_range, e);
      result.push_back(e.get<int>());
    }
    out = std::move(result);
  }
}

void JsonReader::read(const std::string& key, std::vector<double>& out, Range element_range) {
  if (const Json* v = find(key)) {
    if (!v->is_array()) fail(key, "an array of numbers", *v);
    std::vector<double> result;
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& e = (*v)[i];
      if (!e.is_number()) fail(key + "[" + std::to_string(i) + "]", "a number", e);
      check_range(key + "[" + std::to_string(i) + "]", e.get<double>(), element_range, e);
      result.push_back(e.get<double>());
    }
    out = std::move(result);
  }
}

const Json* JsonReader::object(const std::string& key) {
  const Json* v = find(key);
  if (v && !v->is_object()) fail(key, "an object", *v);
  return v;
}

const Json* JsonReader::value(const std::string& key) {
  return find(key);
}

void JsonReader::finish() const {
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (valid_.count(it.key())) continue;
    std::string list;
    for (const auto& k : valid_) list += (list.empty() ? "" : ", ") + k;
    throw Error(join_path(path_, it.key()), "unknown key",
                list.empty() ? "no keys here" : "one of: " + list, "\"" + it.key() + "\"");
  }
}

}  // namespace keel
