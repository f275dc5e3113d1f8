// keel::nn::gemm — a packed single-precision matrix product for nn's large products.
//
// C (m × n, column-major) = or += op(A) · op(B), op = identity or transpose, on column-major
// operands. The GotoBLAS/BLIS scheme: op(B) is packed in k-blocks of kKc rows into panels of
// kNr columns, op(A) in blocks of kMc rows into panels of kMr rows, and a 16 × 6 AVX2/FMA
// register tile accumulates each C tile (12 accumulators; 2 loads and 6 broadcasts per 12 FMAs).
// Eigen 3.4's product ran these shapes (n × n times n × 256, n = 128…400) at 38–61 GFLOP/s on the
// Zen 3 core of docs/benchmarks.md, whose FMA peak is 98 GFLOP/s; this kernel at 58–78.
//
// Every element of C sums its k products in the same order whatever the shapes around it, so
// splitting C into column or row blocks (nn/product.h) gives bit-identical results. Compiled in
// only where AVX2 and FMA are (gemm_available(); the `release` preset's -march=native on x86-64);
// nn/product.h uses Eigen otherwise.
#pragma once

#include <cstdint>

namespace keel::nn {

// A column-major matrix X (leading dimension ld) used as op(X) = X or Xᵀ.
struct GemmOperand {
  const float* data;
  int64_t ld;
  bool transposed;
  // op(X) from row `row`, column `col` on (a view of the same storage).
  GemmOperand at(int64_t row, int64_t col) const {
    return {data + (transposed ? col + row * ld : row + col * ld), ld, transposed};
  }
};

bool gemm_available();

// C (m × n, leading dimension ldc) = op(A) · op(B) (m × k times k × n), or += with accumulate.
// Requires gemm_available(). Packing buffers are thread-local and kept (no allocation per call
// once they have grown).
void gemm(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c, int64_t ldc,
          bool accumulate);

}  // namespace keel::nn
