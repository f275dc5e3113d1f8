// A Keel policy file: everything needed to act with a trained agent — observation normalizer,
// network weights and the action head — loadable with nothing but Eigen and the standard library.
// Copy this one header into your simulation:
//
//   keel::agents::PolicyFile pol = keel::agents::PolicyFile::load("run/policy.keelpol");
//   Eigen::VectorXf obs = ...;             // one observation
//   Eigen::VectorXf action = pol.act(obs);  // discrete: one element holding the action index
//
// Format (little-endian): "KEELPOL1" · u32 version · u64 payload bytes · payload · u64 FNV-1a of
// the payload. Payload: algorithm name, obs/action description, normalizer, layers, activations.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace keel::agents {

class PolicyFile {
 public:
  enum class Head : uint32_t {
    kArgmax = 0,     // discrete: the index of the largest output (logits or Q-values)
    kClip = 1,       // continuous: the output clipped to [low, high]
    kTanhScale = 2,  // continuous: tanh(output) mapped from [-1, 1] to [low, high]
  };
  enum class Act : uint32_t { kIdentity = 0, kTanh = 1, kRelu = 2 };
  static constexpr uint32_t kVersion = 1;

  std::string algorithm;
  std::string env_id;
  int obs_dim = 0;
  int act_dim = 0;  // number of discrete actions, or the continuous action size
  Head head = Head::kArgmax;
  Eigen::VectorXf act_low, act_high;  // continuous heads
  bool normalize_obs = false;
  Eigen::VectorXf obs_mean, obs_var;
  float obs_clip = 10.f, obs_eps = 1e-8f;
  Act hidden_activation = Act::kTanh;
  std::vector<Eigen::MatrixXf> weights;  // layer l: out × in
  std::vector<Eigen::VectorXf> biases;

  // The action for one observation (obs_dim floats). Discrete: a 1-vector with the index.
  Eigen::VectorXf act(const Eigen::VectorXf& obs) const {
    if (obs.size() != obs_dim)
      fail("observation has " + std::to_string(obs.size()) + " values, expected " +
           std::to_string(obs_dim));
    Eigen::VectorXf x = obs;
    if (normalize_obs)
      x = ((x - obs_mean).array() / (obs_var.array() + obs_eps).sqrt())
              .cwiseMax(-obs_clip)
              .cwiseMin(obs_clip)
              .matrix();
    for (size_t l = 0; l < weights.size(); ++l) {
      x = weights[l] * x + biases[l];
      if (l + 1 < weights.size()) activate(x);
    }
    if (head == Head::kArgmax) {
      Eigen::Index best = 0;
      x.maxCoeff(&best);
      return Eigen::VectorXf::Constant(1, static_cast<float>(best));
    }
    if (head == Head::kTanhScale) x = x.array().tanh().matrix();
    if (head == Head::kTanhScale)
      return (act_low.array() + (x.array() + 1.f) * 0.5f * (act_high - act_low).array()).matrix();
    return x.cwiseMax(act_low).cwiseMin(act_high);
  }

  std::string to_bytes() const {
    std::string p;
    put_str(p, algorithm);
    put_str(p, env_id);
    put<int32_t>(p, obs_dim);
    put<int32_t>(p, act_dim);
    put<uint32_t>(p, static_cast<uint32_t>(head));
    put_vec(p, act_low);
    put_vec(p, act_high);
    put<uint8_t>(p, normalize_obs);
    put_vec(p, obs_mean);
    put_vec(p, obs_var);
    put<float>(p, obs_clip);
    put<float>(p, obs_eps);
    put<uint32_t>(p, static_cast<uint32_t>(hidden_activation));
    put<uint32_t>(p, static_cast<uint32_t>(weights.size()));
    for (size_t l = 0; l < weights.size(); ++l) {
      put<int32_t>(p, static_cast<int32_t>(weights[l].rows()));
      put<int32_t>(p, static_cast<int32_t>(weights[l].cols()));
      p.append(reinterpret_cast<const char*>(weights[l].data()), sizeof(float) * weights[l].size());
      put_vec(p, biases[l]);
    }
    std::string out = "KEELPOL1";
    put<uint32_t>(out, kVersion);
    put<uint64_t>(out, p.size());
    out += p;
    put<uint64_t>(out, fnv1a(p));
    return out;
  }

  static PolicyFile from_bytes(const std::string& bytes, const std::string& where = "<memory>") {
    Reader r{bytes, 0, where};
    if (bytes.size() < 20 || bytes.compare(0, 8, "KEELPOL1") != 0)
      r.fail("not a Keel policy file (bad magic)");
    r.pos = 8;
    const uint32_t version = r.get<uint32_t>();
    if (version != kVersion) r.fail("unsupported policy file version " + std::to_string(version));
    const uint64_t n = r.get<uint64_t>();
    if (n > bytes.size() - r.pos || bytes.size() - r.pos - n != 8)
      r.fail("truncated or oversized payload");
    const std::string payload = bytes.substr(r.pos, n);
    Reader c{bytes, r.pos + n, where};
    if (c.get<uint64_t>() != fnv1a(payload)) r.fail("checksum mismatch (corrupt file)");
    Reader q{payload, 0, where};
    PolicyFile f;
    f.algorithm = q.str();
    f.env_id = q.str();
    f.obs_dim = q.get<int32_t>();
    f.act_dim = q.get<int32_t>();
    f.head = static_cast<Head>(q.get<uint32_t>());
    f.act_low = q.vec();
    f.act_high = q.vec();
    f.normalize_obs = q.get<uint8_t>() != 0;
    f.obs_mean = q.vec();
    f.obs_var = q.vec();
    f.obs_clip = q.get<float>();
    f.obs_eps = q.get<float>();
    f.hidden_activation = static_cast<Act>(q.get<uint32_t>());
    const uint32_t layers = q.get<uint32_t>();
    if (layers == 0 || layers > 1000) q.fail("invalid layer count");
    int in = f.obs_dim;
    for (uint32_t l = 0; l < layers; ++l) {
      const int32_t rows = q.get<int32_t>(), cols = q.get<int32_t>();
      if (rows <= 0 || cols != in || static_cast<uint64_t>(rows) * cols > (1u << 28))
        q.fail("layer " + std::to_string(l) + " has an inconsistent shape");
      Eigen::MatrixXf w(rows, cols);
      q.raw(w.data(), sizeof(float) * w.size());
      f.weights.push_back(std::move(w));
      f.biases.push_back(q.vec());
      if (f.biases.back().size() != rows)
        q.fail("layer " + std::to_string(l) + " bias size mismatch");
      in = rows;
    }
    const int out_dim = f.head == Head::kArgmax ? f.act_dim : f.act_dim;
    if (in != out_dim) q.fail("network output size does not match the action size");
    if (f.head != Head::kArgmax &&
        (f.act_low.size() != f.act_dim || f.act_high.size() != f.act_dim))
      q.fail("action bounds size mismatch");
    if (f.normalize_obs && (f.obs_mean.size() != f.obs_dim || f.obs_var.size() != f.obs_dim))
      q.fail("normalizer size mismatch");
    if (q.pos != payload.size()) q.fail("trailing bytes in payload");
    return f;
  }

  void save(const std::string& path) const {
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      const std::string b = to_bytes();
      out.write(b.data(), static_cast<std::streamsize>(b.size()));
      if (!out) throw std::runtime_error(path + ": cannot write policy file");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw std::runtime_error(path + ": cannot rename policy file");
  }

  static PolicyFile load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open policy file");
    std::stringstream ss;
    ss << in.rdbuf();
    return from_bytes(ss.str(), path);
  }

 private:
  struct Reader {
    const std::string& data;
    size_t pos;
    std::string where;
    [[noreturn]] void fail(const std::string& what) const {
      throw std::runtime_error(where + ": " + what);
    }
    void raw(void* p, size_t n) {
      if (n == 0) return;  // empty vectors have no storage to copy into
      if (n > data.size() - pos) fail("truncated policy file");
      std::memcpy(p, data.data() + pos, n);
      pos += n;
    }
    template <class T>
    T get() {
      T v;
      raw(&v, sizeof(T));
      return v;
    }
    std::string str() {
      const uint32_t n = get<uint32_t>();
      if (n > data.size() - pos) fail("truncated string");
      std::string s = data.substr(pos, n);
      pos += n;
      return s;
    }
    Eigen::VectorXf vec() {
      const uint32_t n = get<uint32_t>();
      if (static_cast<uint64_t>(n) * 4 > data.size() - pos) fail("truncated vector");
      Eigen::VectorXf v(n);
      raw(v.data(), sizeof(float) * n);
      return v;
    }
  };
  template <class T>
  static void put(std::string& s, const T& v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  static void put_str(std::string& s, const std::string& v) {
    put<uint32_t>(s, static_cast<uint32_t>(v.size()));
    s += v;
  }
  static void put_vec(std::string& s, const Eigen::VectorXf& v) {
    put<uint32_t>(s, static_cast<uint32_t>(v.size()));
    if (v.size() == 0) return;
    s.append(reinterpret_cast<const char*>(v.data()), sizeof(float) * v.size());
  }
  static uint64_t fnv1a(const std::string& s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    return h;
  }
  void activate(Eigen::VectorXf& x) const {
    if (hidden_activation == Act::kTanh) x = x.array().tanh().matrix();
    if (hidden_activation == Act::kRelu) x = x.cwiseMax(0.f);
  }
  [[noreturn]] static void fail(const std::string& what) {
    throw std::runtime_error("policy: " + what);
  }
};

}  // namespace keel::agents
