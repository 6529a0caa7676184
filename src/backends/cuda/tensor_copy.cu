// The strided-copy engine of the CUDA tensor family (see tensor_util.h for the
// plan): a generic index-mapping kernel over up to kMaxRank dims that copies
// units of 1..16 bytes (so a transpose that keeps the last axis, a slice of
// contiguous rows or a concat moves 16-byte vectors), and a 32x32 tiled
// shared-memory transpose for copies whose innermost output dim is strided in
// the input (the last axis moves), where the generic kernel could not
// coalesce its reads.
#include <cuda_runtime.h>

#include "backends/cuda/tensor_util.h"

namespace frt::cuda_tensor {
namespace {

// The kernel ABI of a planned copy; offsets and strides in units.
struct StridedParams {
  int rank;
  int64_t dims[kMaxRank];         // [rank] output iteration space
  int64_t in_strides[kMaxRank];   // [rank] units, may be 0 or negative
  int64_t out_strides[kMaxRank];  // [rank] units
  int64_t in_base;
  int64_t out_base;
  int64_t total;  // product of dims
};

// One thread per unit; `Index` is int32 when FitsInt32 (divisions are then
// far cheaper) and int64 otherwise.
template <class Unit, class Index>
__global__ void StridedCopyKernel(StridedParams p, const Unit* __restrict__ in,
                                  Unit* __restrict__ out) {
  const Index total = static_cast<Index>(p.total);
  const Index step = static_cast<Index>(gridDim.x) * static_cast<Index>(blockDim.x);
  for (Index i = static_cast<Index>(blockIdx.x) * static_cast<Index>(blockDim.x) +
                 static_cast<Index>(threadIdx.x);
       i < total; i += step) {
    Index rem = i;
    Index in_off = static_cast<Index>(p.in_base);
    Index out_off = static_cast<Index>(p.out_base);
#pragma unroll
    for (int d = kMaxRank - 1; d >= 0; --d) {
      if (d < p.rank) {
        const Index n = static_cast<Index>(p.dims[d]);
        const Index q = rem / n;
        const Index r = rem - q * n;
        in_off += r * static_cast<Index>(p.in_strides[d]);
        out_off += r * static_cast<Index>(p.out_strides[d]);
        rem = q;
      }
    }
    out[out_off] = in[in_off];
  }
}

constexpr int kTile = 32;
constexpr int kTileRows = 8;  // block is kTile x kTileRows threads; each moves 4 elements

// Transposes tiles of the dims `a` (stride 1 in the input) and rank-1
// (stride 1 in the output), one tile per block iteration; the remaining dims
// are batch dims. Reads are coalesced along a, writes along the last dim.
template <class T>
__global__ void TiledCopyKernel(StridedParams p, int a, const T* __restrict__ in,
                                T* __restrict__ out) {
  __shared__ T tile[kTile][kTile + 1];  // +1: column reads hit distinct banks
  const int b = p.rank - 1;
  const int64_t na = p.dims[a], nb = p.dims[b];
  const int64_t tiles_a = (na + kTile - 1) / kTile, tiles_b = (nb + kTile - 1) / kTile;
  const int64_t per_batch = tiles_a * tiles_b;
  const int64_t total_tiles = (p.total / (na * nb)) * per_batch;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t t = blockIdx.x; t < total_tiles; t += gridDim.x) {
    int64_t batch = t / per_batch;
    const int64_t r = t - batch * per_batch;
    const int64_t ta = r / tiles_b, tb = r - ta * tiles_b;
    int64_t in_off = p.in_base, out_off = p.out_base;
    for (int d = p.rank - 1; d >= 0; --d) {
      if (d == a || d == b) continue;
      const int64_t q = batch / p.dims[d];
      const int64_t idx = batch - q * p.dims[d];
      in_off += idx * p.in_strides[d];
      out_off += idx * p.out_strides[d];
      batch = q;
    }
    const int64_t a0 = ta * kTile, b0 = tb * kTile;
#pragma unroll
    for (int k = 0; k < kTile; k += kTileRows) {
      const int64_t ia = a0 + tx, ib = b0 + ty + k;
      if (ia < na && ib < nb) {
        tile[ty + k][tx] = in[in_off + ia * p.in_strides[a] + ib * p.in_strides[b]];
      }
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kTile; k += kTileRows) {
      const int64_t ia = a0 + ty + k, ib = b0 + tx;
      if (ia < na && ib < nb) {
        out[out_off + ia * p.out_strides[a] + ib * p.out_strides[b]] = tile[tx][ty + k];
      }
    }
    __syncthreads();  // the next tile overwrites `tile`
  }
}

StridedParams ToParams(const StridedCopy& c) {
  StridedParams p{};
  p.rank = static_cast<int>(c.dims.size());
  for (size_t d = 0; d < c.dims.size(); ++d) {
    p.dims[d] = c.dims[d];
    p.in_strides[d] = c.in_strides[d];
    p.out_strides[d] = c.out_strides[d];
  }
  p.in_base = c.in_base;
  p.out_base = c.out_base;
  p.total = Product(c.dims, 0, c.dims.size());
  return p;
}

template <class Unit>
void LaunchGeneric(const StridedParams& p, bool small, unsigned grid, const void* in, void* out,
                   cudaStream_t stream) {
  const auto* src = static_cast<const Unit*>(in);
  auto* dst = static_cast<Unit*>(out);
  if (small) {
    StridedCopyKernel<Unit, int32_t><<<grid, 256, 0, stream>>>(p, src, dst);
  } else {
    StridedCopyKernel<Unit, int64_t><<<grid, 256, 0, stream>>>(p, src, dst);
  }
}

template <class T>
void LaunchTiled(const StridedParams& p, int a, int sm_count, const void* in, void* out,
                 cudaStream_t stream) {
  const int64_t na = p.dims[a], nb = p.dims[p.rank - 1];
  const int64_t tiles =
      (p.total / (na * nb)) * ((na + kTile - 1) / kTile) * ((nb + kTile - 1) / kTile);
  const unsigned grid = GridFor(sm_count, tiles * kTile * kTileRows, kTile * kTileRows);
  TiledCopyKernel<T><<<grid, dim3(kTile, kTileRows), 0, stream>>>(p, a, static_cast<const T*>(in),
                                                                  static_cast<T*>(out));
}

// The input-contiguous dim worth tiling against the last dim, or -1. Both
// must be long enough that a 32x32 tile is not mostly idle.
int TiledAxis(const StridedCopy& c) {
  const int rank = static_cast<int>(c.dims.size());
  if (rank < 2 || c.out_strides[rank - 1] != 1 || c.in_strides[rank - 1] == 1) return -1;
  if (c.dims[rank - 1] < 8) return -1;
  for (int d = rank - 2; d >= 0; --d) {
    if (c.in_strides[d] == 1) return c.dims[d] >= 8 ? d : -1;
  }
  return -1;
}

}  // namespace

Status LaunchStridedCopy(CudaKernelContext& ctx, const StridedCopy& copy, const void* in,
                         void* out) {
  if (Product(copy.dims, 0, copy.dims.size()) == 0) return Status::Ok();
  StridedCopy c = SimplifyCopy(copy);
  if (c.dims.size() > static_cast<size_t>(kMaxRank)) {
    return ctx.Error(StatusCode::kUnsupported, "the copy has ", c.dims.size(),
                     " dims after merging contiguous ones; at most ", kMaxRank, " are supported");
  }
  cudaStream_t stream = ctx.stream();
  const int sm = ctx.resources().sm_count;
  if (int a = TiledAxis(c); a >= 0) {
    StridedParams p = ToParams(c);
    VisitUnit(c.elem_size,
              [&](auto tag) { LaunchTiled<decltype(tag)>(p, a, sm, in, out, stream); });
    return ctx.LaunchStatus();
  }
  c = ToUnits(
      c, ChooseUnitBytes(c, reinterpret_cast<uintptr_t>(in), reinterpret_cast<uintptr_t>(out)));
  StridedParams p = ToParams(c);
  const bool small = FitsInt32(c);
  const unsigned grid = GridFor(sm, p.total, 256);
  VisitUnit(c.elem_size,
            [&](auto tag) { LaunchGeneric<decltype(tag)>(p, small, grid, in, out, stream); });
  return ctx.LaunchStatus();
}

}  // namespace frt::cuda_tensor
