#include "nn/serialize.h"

#include <unistd.h>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "nn/module.h"
#include "nn/optim.h"

namespace keel::nn {
namespace {

constexpr char kMagic[8] = {'K', 'E', 'E', 'L', 'N', 'N', '\0', '\0'};
constexpr size_t kHeader = 8 + 4 + 8;
enum class Rec : uint8_t { kTensor = 1, kInt = 2, kReal = 3, kText = 4 };

uint64_t fnv1a(const char* data, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

class Writer {
 public:
  template <class T>
  void pod(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void str(const std::string& s) {
    pod(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void tensor(const std::string& name, const Eigen::MatrixXf& m) {
    pod(Rec::kTensor);
    str(name);
    pod(static_cast<int64_t>(m.rows()));
    pod(static_cast<int64_t>(m.cols()));
    out_.append(reinterpret_cast<const char*>(m.data()), sizeof(float) * m.size());
    ++count_;
  }
  void integer(const std::string& name, int64_t v) {
    pod(Rec::kInt);
    str(name);
    pod(v);
    ++count_;
  }
  void real(const std::string& name, double v) {
    pod(Rec::kReal);
    str(name);
    pod(v);
    ++count_;
  }
  void text(const std::string& name, const std::string& v) {
    pod(Rec::kText);
    str(name);
    str(v);
    ++count_;
  }
  std::string finish() {
    std::string payload;
    payload.append(reinterpret_cast<const char*>(&count_), sizeof(count_));
    payload += out_;
    std::string file(kMagic, 8);
    const uint32_t version = kFormatVersion;
    const uint64_t size = payload.size();
    file.append(reinterpret_cast<const char*>(&version), 4);
    file.append(reinterpret_cast<const char*>(&size), 8);
    file += payload;
    const uint64_t sum = fnv1a(payload.data(), payload.size());
    file.append(reinterpret_cast<const char*>(&sum), 8);
    return file;
  }

 private:
  std::string out_;
  uint64_t count_ = 0;
};

struct Record {
  Rec kind{};
  int64_t rows = 0, cols = 0;
  const char* data = nullptr;  // tensor floats (unaligned, memcpy out)
  int64_t integer = 0;
  double real = 0;
  std::string text;
};

constexpr const char* kWhere = "nn::load";

class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), n_(n) {}
  template <class T>
  T pod(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_ + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string str(const char* what) {
    const uint32_t len = pod<uint32_t>(what);
    need(len, what);
    std::string s(p_ + at_, len);
    at_ += len;
    return s;
  }
  const char* bytes(size_t len, const char* what) {
    need(len, what);
    const char* b = p_ + at_;
    at_ += len;
    return b;
  }
  bool done() const { return at_ == n_; }

 private:
  void need(size_t len, const char* what) {
    if (len > n_ - at_)
      throw Error(kWhere, std::string("payload ends inside ") + what,
                  std::to_string(len) + " more bytes", std::to_string(n_ - at_));
  }
  const char* p_;
  size_t n_, at_ = 0;
};

std::map<std::string, Record> decode(std::string_view bytes) {
  if (bytes.size() < kHeader + 8)
    throw Error(kWhere, "data too short to be a Keel nn file (truncated?)",
                ">= " + std::to_string(kHeader + 8) + " bytes", std::to_string(bytes.size()));
  if (std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw Error(kWhere, "not a Keel nn file (bad magic)", "KEELNN", "other bytes");
  uint32_t version;
  uint64_t size;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&size, bytes.data() + 12, 8);
  if (version != kFormatVersion)
    throw Error(kWhere, "unsupported format version", std::to_string(kFormatVersion),
                std::to_string(version));
  if (size != bytes.size() - kHeader - 8)
    throw Error(kWhere, "size mismatch (truncated or padded file)",
                std::to_string(size + kHeader + 8) + " bytes", std::to_string(bytes.size()));
  const char* payload = bytes.data() + kHeader;
  uint64_t sum;
  std::memcpy(&sum, payload + size, 8);
  if (fnv1a(payload, size) != sum) throw Error(kWhere, "checksum mismatch (corrupted data)");
  Reader r(payload, size);
  const uint64_t count = r.pod<uint64_t>("record count");
  std::map<std::string, Record> out;
  for (uint64_t i = 0; i < count; ++i) {
    Record rec;
    rec.kind = r.pod<Rec>("record kind");
    std::string name = r.str("record name");
    switch (rec.kind) {
      case Rec::kTensor: {
        rec.rows = r.pod<int64_t>("tensor shape");
        rec.cols = r.pod<int64_t>("tensor shape");
        if (rec.rows < 0 || rec.cols < 0 ||
            (rec.cols > 0 && rec.rows > (int64_t{1} << 40) / rec.cols))
          throw Error(kWhere, "bad tensor shape for " + name);
        rec.data = r.bytes(sizeof(float) * rec.rows * rec.cols, "tensor data");
        break;
      }
      case Rec::kInt:
        rec.integer = r.pod<int64_t>("integer");
        break;
      case Rec::kReal:
        rec.real = r.pod<double>("real");
        break;
      case Rec::kText:
        rec.text = r.str("text");
        break;
      default:
        throw Error(kWhere, "unknown record kind", "1..4", std::to_string(int(rec.kind)));
    }
    out.emplace(std::move(name), std::move(rec));
  }
  if (!r.done()) throw Error(kWhere, "trailing bytes after the last record");
  return out;
}

std::string prefixed(const std::string& head, const std::string& name) {
  return name.empty() ? head : head + name + "/";
}

// Every tensor that a bundle holds, under its record name.
std::vector<std::pair<std::string, Eigen::MatrixXf*>> tensors_of(const Bundle& b) {
  std::vector<std::pair<std::string, Eigen::MatrixXf*>> out;
  for (const auto& [name, m] : b.modules) {
    const std::string pre = prefixed("module/", name);
    m->visit_parameters([&](const std::string& n, Parameter& p) {
      out.emplace_back(pre + "param/" + n, &p.value);
    });
    m->visit_buffers([&](const std::string& n, Eigen::MatrixXf& x) {
      out.emplace_back(pre + "buffer/" + n, &x);
    });
  }
  for (const auto& [name, o] : b.optimizers) {
    const std::string pre = prefixed("optim/", name);
    o->visit_state([&](const std::string& n, Eigen::MatrixXf& x) {
      out.emplace_back(pre + "state/" + n, &x);
    });
  }
  return out;
}

std::string shape(int64_t r, int64_t c) {
  return std::to_string(r) + "x" + std::to_string(c);
}

}  // namespace

std::string save_bytes(const Bundle& bundle) {
  Writer w;
  for (const auto& [name, t] : tensors_of(bundle)) w.tensor(name, *t);
  for (const auto& [name, o] : bundle.optimizers) {
    const std::string pre = prefixed("optim/", name);
    w.text(pre + "kind", std::string(o->kind()));
    w.real(pre + "lr", o->lr());
    w.integer(pre + "step", o->step_count());
    w.integer(pre + "num_params", static_cast<int64_t>(o->params().size()));
  }
  return w.finish();
}

void load_bytes(std::string_view bytes, const Bundle& bundle) {
  const std::map<std::string, Record> recs = decode(bytes);
  const auto tensors = tensors_of(bundle);
  // Validate everything before touching any target.
  auto get = [&](const std::string& name, Rec kind) -> const Record& {
    auto it = recs.find(name);
    if (it == recs.end() || it->second.kind != kind)
      throw Error(kWhere, "record missing from the data", name, "no such record");
    return it->second;
  };
  for (const auto& [name, o] : bundle.optimizers) {
    const std::string pre = prefixed("optim/", name);
    const Record& kind = get(pre + "kind", Rec::kText);
    if (kind.text != o->kind())
      throw Error(kWhere, "optimizer kind differs", std::string(o->kind()), kind.text);
    const Record& np = get(pre + "num_params", Rec::kInt);
    if (np.integer != static_cast<int64_t>(o->params().size()))
      throw Error(kWhere, "optimizer parameter count differs", std::to_string(o->params().size()),
                  std::to_string(np.integer));
    get(pre + "lr", Rec::kReal);
    get(pre + "step", Rec::kInt);
  }
  for (const auto& [name, t] : tensors) {
    auto it = recs.find(name);
    if (it == recs.end() || it->second.kind != Rec::kTensor)
      throw Error(kWhere, "tensor missing from the data (different architecture?)",
                  name + " " + shape(t->rows(), t->cols()), "no such record");
    if (it->second.rows != t->rows() || it->second.cols != t->cols())
      throw Error(kWhere, "tensor shape differs (different architecture?): " + name,
                  shape(t->rows(), t->cols()), shape(it->second.rows, it->second.cols));
  }
  // Tensors in the data under a target module's prefix that the module does not have mean another
  // architecture. (Other modules and optimizers in the data may simply not be loaded.)
  for (const auto& [name, r] : recs) {
    bool ours = false;
    for (const auto& [mname, m] : bundle.modules)
      ours = ours || name.rfind(prefixed("module/", mname), 0) == 0;
    if (r.kind != Rec::kTensor || !ours) continue;
    bool known = false;
    for (const auto& [tn, t] : tensors) known = known || tn == name;
    if (!known)
      throw Error(kWhere, "data holds a tensor the module does not have (different architecture?)",
                  "only the module's tensors", name);
  }
  // Commit.
  for (const auto& [name, t] : tensors) {
    const Record& r = recs.at(name);
    std::memcpy(t->data(), r.data, sizeof(float) * t->size());
  }
  for (const auto& [name, o] : bundle.optimizers) {
    const std::string pre = prefixed("optim/", name);
    o->set_lr(static_cast<float>(recs.at(pre + "lr").real));
    o->set_step_count(recs.at(pre + "step").integer);
  }
}

void save_file(const std::string& path, const Bundle& bundle) {
  const std::string bytes = save_bytes(bundle);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error("nn::save_file " + path, "cannot open temporary file for writing", "", tmp);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw Error("nn::save_file " + path, "write failed", "", tmp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error("nn::save_file " + path, "rename of the temporary file failed", "", ec.message());
  }
}

void load_file(const std::string& path, const Bundle& bundle) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("nn::load_file " + path, "cannot open file for reading");
  std::ostringstream ss;
  ss << f.rdbuf();
  try {
    load_bytes(ss.str(), bundle);
  } catch (const Error& e) {
    throw Error("nn::load_file " + path, e.problem(), e.expected(), e.found());
  }
}

namespace {
Bundle single(Module& m, Optimizer* o) {
  Bundle b;
  b.modules.emplace_back("", &m);
  if (o) b.optimizers.emplace_back("", o);
  return b;
}
}  // namespace

std::string save_bytes(Module& m, Optimizer* o) {
  return save_bytes(single(m, o));
}
void load_bytes(std::string_view bytes, Module& m, Optimizer* o) {
  load_bytes(bytes, single(m, o));
}
void save_file(const std::string& path, Module& m, Optimizer* o) {
  save_file(path, single(m, o));
}
void load_file(const std::string& path, Module& m, Optimizer* o) {
  load_file(path, single(m, o));
}

}  // namespace keel::nn
