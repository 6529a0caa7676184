// TODO(issue 5): being written.
#include "passes/pass_manager.h"

namespace frt {

Status FuseNormalization(Graph&) { return Status::Ok(); }

}  // namespace frt
