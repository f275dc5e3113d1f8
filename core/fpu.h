// Flush-to-zero and denormals-are-zero for the calling thread. Denormal floats (e.g. Adam moments
// of dead ReLU units) make SSE/AVX arithmetic 10-100x slower; training and acting threads set this.
#pragma once

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace keel {

class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals() {
#if defined(__SSE__)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
#endif
  }
  ~ScopedFlushDenormals() {
#if defined(__SSE__)
    _mm_setcsr(saved_);
#endif
  }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  unsigned saved_ = 0;
};

}  // namespace keel
