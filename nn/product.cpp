#include "nn/product.h"

namespace keel::nn {
namespace {
thread_local ProductPool* t_pool = nullptr;
}  // namespace

ProductPool* product_pool() {
  return t_pool;
}

ScopedProductPool::ScopedProductPool(ProductPool* pool) : previous_(t_pool) {
  t_pool = pool;
}

ScopedProductPool::~ScopedProductPool() {
  t_pool = previous_;
}

}  // namespace keel::nn
