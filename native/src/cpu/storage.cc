// Host storage for the CPU backend (a CUDA build allocates kCuda storage in src/cuda).
#include "evnn/storage.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace evnn {

std::shared_ptr<Storage> Storage::Allocate(Backend backend, size_t bytes) {
  if (backend != Backend::kCpu) throw std::invalid_argument("evnn::Storage: this build allocates CPU storage only");
  const size_t rounded = (bytes + 63) / 64 * 64 + 64;  // never 0; a multiple of the alignment
  void* p = std::aligned_alloc(64, rounded);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return std::shared_ptr<Storage>(new Storage(backend, p, bytes));
}

Storage::~Storage() { std::free(data_); }

}  // namespace evnn
