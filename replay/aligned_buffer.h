// AlignedBuffer — uninitialised storage for the big replay arrays: 64-byte aligned, and for sizes
// of 2 MiB or more 2 MiB-aligned and advised to use transparent huge pages (random sampling over
// hundreds of MB otherwise pays a TLB miss, a costly nested page walk in a VM, per access).
#pragma once

#include <cstddef>
#include <memory>

namespace keel::replay {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);
  std::byte* data() const { return data_.get(); }
  size_t size() const { return bytes_; }

 private:
  struct Free {
    void operator()(std::byte* p) const;
  };
  std::unique_ptr<std::byte, Free> data_;
  size_t bytes_ = 0;
};

}  // namespace keel::replay
