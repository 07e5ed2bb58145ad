// MatmulObserver installation (model layer): one thread-local pointer.
#include "model/matmul_observer.h"

namespace frugal {
namespace {
thread_local MatmulObserver* g_observer = nullptr;
}  // namespace

MatmulObserver* current_matmul_observer() { return g_observer; }

ScopedMatmulObserver::ScopedMatmulObserver(MatmulObserver* observer) : previous_(g_observer) { g_observer = observer; }
ScopedMatmulObserver::~ScopedMatmulObserver() { g_observer = previous_; }

}  // namespace frugal
