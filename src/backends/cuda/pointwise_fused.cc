// The FusedPointwise CUDA kernel: at build time `prepare` decodes the node's
// program, generates its CUDA source (pointwise_codegen.h), compiles it with
// NVRTC for the current device's architecture and stores the CUBIN in the
// tactic blob; at run time the CUBIN is loaded once per step and context
// (cudaLibraryLoadData, cached in ctx.state()) and launched with
// cudaLaunchKernel on the broadcast plan of the concrete shapes.
#include <cuda_runtime.h>

#include <array>

#include "backends/cuda/cuda_util.h"
#include "backends/cuda/kernel.h"
#include "backends/cuda/pointwise_codegen.h"
#include "backends/cuda/pointwise_kernels.h"
#include "backends/cuda/pointwise_params.h"
#include "backends/cuda/pointwise_support.h"

namespace frt::cuda_pointwise {
namespace {

// The loaded library of one step in one context.
struct FusedState {
  cudaLibrary_t library = nullptr;
  cudaKernel_t kernel = nullptr;
  uint32_t vec = 1;
  uint32_t num_inputs = 0;
  FusedState() = default;
  FusedState(const FusedState&) = delete;
  FusedState& operator=(const FusedState&) = delete;
  ~FusedState() {
    if (library) cudaLibraryUnload(library);
  }
};

Status PrepareFused(const Node& node, std::vector<uint8_t>* tactic_data) {
  std::vector<DType> dtypes;
  for (const Value* in : node.inputs) dtypes.push_back(in ? in->dtype : DType::kUndefined);
  FRT_ASSIGN_OR_RETURN(pointwise::Program program, pointwise::DecodeProgram(node, dtypes));
  Result<GeneratedKernel> generated = GenerateFusedSource(program, dtypes);
  if (!generated.ok()) return generated.status().WithPrefix(node.Describe());
  int device = 0;
  FRT_CUDA_RETURN_IF_ERROR(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  FRT_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&prop, device));
  const int cc = prop.major * 10 + prop.minor;
  FRT_ASSIGN_OR_RETURN(std::vector<uint8_t> cubin,
                       CompileWithNvrtc(generated->source, StrCat("sm_", cc), node.Describe()));
  FusedBlob blob;
  blob.vec = static_cast<uint32_t>(generated->vec);
  blob.num_inputs = static_cast<uint32_t>(dtypes.size());
  blob.compute_capability = static_cast<uint32_t>(cc);
  blob.kernel_name = kFusedKernelName;
  blob.cubin = std::move(cubin);
  *tactic_data = EncodeFusedBlob(blob);
  return Status::Ok();
}

Result<FusedState*> LoadFused(CudaKernelContext& ctx) {
  if (ctx.state()) return static_cast<FusedState*>(ctx.state().get());
  FRT_ASSIGN_OR_RETURN(FusedBlob blob, DecodeFusedBlob(ctx.tactic_data(), ctx.node().Describe()));
  if (blob.num_inputs != ctx.num_inputs()) {
    return ctx.Error(StatusCode::kInvalidEngine, "the generated kernel takes ", blob.num_inputs,
                     " inputs but the node has ", ctx.num_inputs(), " (rebuild the engine)");
  }
  auto state = std::make_shared<FusedState>();
  state->vec = blob.vec;
  state->num_inputs = blob.num_inputs;
  cudaError_t e = cudaLibraryLoadData(&state->library, blob.cubin.data(), nullptr, nullptr, 0,
                                      nullptr, nullptr, 0);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return ctx.Error(StatusCode::kInvalidEngine, "cannot load the generated kernel (built for sm_",
                     blob.compute_capability, "): ", cudaGetErrorName(e), " (",
                     cudaGetErrorString(e), "); rebuild the engine on this device");
  }
  FRT_RETURN_IF_ERROR(
      CudaStatus(cudaLibraryGetKernel(&state->kernel, state->library, blob.kernel_name.c_str()),
                 StrCat(ctx.node().Describe(), ": finding kernel ", blob.kernel_name)));
  ctx.state() = state;
  return state.get();
}

Status RunFused(CudaKernelContext& ctx) {
  FRT_ASSIGN_OR_RETURN(FusedState * state, LoadFused(ctx));
  const size_t n_in = ctx.num_inputs();
  DeviceTensor& out = ctx.output(0);
  std::vector<Dims> dims(n_in);
  std::vector<const void*> ptrs = {out.data};
  std::vector<int> sizes = {static_cast<int>(DTypeSize(out.dtype))};
  for (size_t k = 0; k < n_in; ++k) {
    if (!ctx.has_input(k)) return ctx.Error(StatusCode::kInvalidArgument, "input ", k, " absent");
    dims[k] = ctx.input(k).dims;
    ptrs.push_back(ctx.input(k).data);
    sizes.push_back(static_cast<int>(DTypeSize(ctx.input(k).dtype)));
  }
  Result<BroadcastPlan> planned = PlanBroadcast(out.dims, dims);
  if (!planned.ok()) return planned.status().WithPrefix(ctx.node().Describe());
  const BroadcastPlan& plan = *planned;
  if (plan.n == 0) return Status::Ok();
  FusedArgs a{};
  FillArgs(plan, a);
  a.out = out.data;
  for (size_t k = 0; k < n_in; ++k) a.in[k] = ctx.input(k).data;
  const int vec = static_cast<int>(state->vec);
  a.vectorized = CanVectorize(plan, vec, ptrs, sizes) ? 1 : 0;
  const int64_t work = a.vectorized ? std::max<int64_t>(plan.n / vec, 1) : plan.n;
  const unsigned blocks = GridBlocks(work, kThreads, ctx.resources().sm_count);
  void* args[] = {&a};
  cudaError_t e = cudaLaunchKernel(reinterpret_cast<const void*>(state->kernel), dim3(blocks),
                                   dim3(kThreads), args, 0, ctx.stream());
  if (e != cudaSuccess) {
    cudaGetLastError();
    return ctx.Error(StatusCode::kInternal, "launching the generated kernel: ", cudaGetErrorName(e),
                     " (", cudaGetErrorString(e), ")");
  }
  return ctx.LaunchStatus();
}

}  // namespace

void RegisterFusedKernels(CudaKernelRegistry& r) {
  r.Register({"fused_pointwise.nvrtc", OpKind::kFusedPointwise, SupportsFusedPointwise, RunFused,
              PrepareFused});
}

}  // namespace frt::cuda_pointwise
