// The fast MultiHeadAttention kernel (flash-attention style, FlashAttention-2
// work split): f16/bf16 with head_dim == value_dim == D, D a multiple of 16 up
// to 128. The score matrix never leaves registers.
//
// One block of kWarps warps per (batch, head, tile of kBlockQ = 16*kWarps
// queries); warp w owns query rows 16w..16w+15 of the tile. Keys and values
// stream through shared memory in tiles of kBlockK = 64 rows, double buffered
// with cp.async (tile t+1 loads while tile t is computed). Per key tile:
//   S = Q K^T      mma.sync m16n8k16 (f16/bf16 in, fp32 accumulate); Q stays
//                  in registers (loaded once with ldmatrix), K via ldmatrix
//   mask           causal rule, bool/float mask read from global, tail keys
//   softmax        online, fp32, base 2: running row max m and sum l; the
//                  accumulator is rescaled by exp2(m_old - m_new)
//   O += P V       P re-packed from the S accumulators as the A operand
//                  (no shared-memory round trip), V via ldmatrix.trans
// At the end O / l (0 for a row with no live key) is staged through shared
// memory and written with 16-byte stores. Shared memory rows are padded by 16
// bytes so that ldmatrix's 8 row addresses fall in distinct banks. Rows past
// Sq / Sk are zero-filled by cp.async (src-size 0) and masked out.
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "backends/cuda/attention_device.h"

namespace frt {
namespace {

using attention_detail::ApplyMask;
using attention_detail::MaskRow;

constexpr int kBlockK = 64;
constexpr float kLog2e = 1.4426950408889634f;

template <class T, int D, int kWarps>
struct FlashConfig {
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kBlockQ = 16 * kWarps;
  static constexpr int kPitch = D + 8;  // elements per shared row (16 bytes of padding)
  static constexpr int kTileQElems = kBlockQ * kPitch;
  static constexpr int kTileKElems = kBlockK * kPitch;
  // Q tile, then K[2], then V[2].
  static constexpr size_t kSharedBytes =
      static_cast<size_t>(kTileQElems + 4 * kTileKElems) * sizeof(T);
};

__device__ __forceinline__ uint32_t SharedAddress(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte async copy global -> shared; src_bytes 0 writes zeros (tail rows).
__device__ __forceinline__ void CpAsync16(void* dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(SharedAddress(dst)),
               "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void CpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void CpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

__device__ __forceinline__ void LdMatrixX4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(SharedAddress(p)));
}
__device__ __forceinline__ void LdMatrixX4Trans(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(SharedAddress(p)));
}

// c += a * b for one 16x8x16 tile; a: 4 regs (row-major 16x16), b: 2 regs (16x8).
template <class T>
__device__ __forceinline__ void Mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                    uint32_t b1) {
  if constexpr (std::is_same_v<T, __half>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// 2^x with the hardware approximation (relative error ~2^-22, far below
// f16/bf16 rounding); 2^-inf = 0.
__device__ __forceinline__ float FastExp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Two floats as one 32-bit register of T pairs (lo in the low half).
template <class T>
__device__ __forceinline__ uint32_t Pack(float lo, float hi) {
  if constexpr (std::is_same_v<T, __half>) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  } else {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&v);
  }
}

// Copies rows [row0, row0 + kRows) x D of one head into shared memory (pitch
// kPitch); rows at or past `rows_end` become zeros. `base` points at row 0,
// column 0 of the head; rows are `row_stride` elements apart.
template <class T, int D, int kRows, int kThreads, int kPitch>
__device__ __forceinline__ void LoadTile(T* dst, const T* base, int64_t row_stride, int row0,
                                         int rows_end) {
  constexpr int kChunksPerRow = D / 8;  // 16 bytes each
  constexpr int kChunks = kRows * kChunksPerRow;
#pragma unroll
  for (int c = static_cast<int>(threadIdx.x); c < kChunks; c += kThreads) {
    const int r = c / kChunksPerRow;
    const int col = (c % kChunksPerRow) * 8;
    const bool valid = row0 + r < rows_end;
    // An out-of-range row copies 0 bytes; its source address only has to be valid.
    const T* src = valid ? base + (row0 + r) * row_stride + col : base;
    CpAsync16(dst + r * kPitch + col, src, valid ? 16 : 0);
  }
}

template <class T, int D, int kWarps>
__global__ void __launch_bounds__(kWarps * 32)
    FlashAttentionKernel(const AttentionParams p, int num_q_tiles) {
  using Cfg = FlashConfig<T, D, kWarps>;
  constexpr int kPitch = Cfg::kPitch;
  constexpr int kBlockQ = Cfg::kBlockQ;
  constexpr int kThreads = Cfg::kThreads;
  constexpr int kDTiles = D / 8;        // n-tiles of the output (8 columns each)
  constexpr int kDSteps = D / 16;       // k-steps of Q K^T
  constexpr int kKTiles = kBlockK / 8;  // n-tiles of the scores
  extern __shared__ __align__(16) unsigned char shared_raw[];
  T* q_tile = reinterpret_cast<T*>(shared_raw);
  T* k_tiles = q_tile + Cfg::kTileQElems;       // [2][kBlockK][kPitch]
  T* v_tiles = k_tiles + 2 * Cfg::kTileKElems;  // [2][kBlockK][kPitch]

  // Late query tiles first: under the causal rule they have the most keys.
  const int64_t block = blockIdx.x;
  const int q_tile_index = num_q_tiles - 1 - static_cast<int>(block % num_q_tiles);
  const int64_t bh = block / num_q_tiles;
  const int64_t h = bh % p.heads;
  const int64_t b = bh / p.heads;
  const int q0 = q_tile_index * kBlockQ;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int group = lane >> 2;  // row within the 8-row half of an mma tile
  const int quad = lane & 3;    // column pair within an 8-column n-tile

  // Keys past key_end are masked for every query of this tile.
  int64_t key_end = p.seq_k;
  if (p.causal) {
    key_end = min(key_end, static_cast<int64_t>(q0) + kBlockQ - 1 + p.seq_k - p.seq_q + 1);
  }
  const int num_k_tiles = key_end > 0 ? static_cast<int>((key_end + kBlockK - 1) / kBlockK) : 0;

  const T* q_head = static_cast<const T*>(p.q) + b * p.seq_q * p.q_row_stride + p.q_offset + h * D;
  const T* k_head = static_cast<const T*>(p.k) + b * p.seq_k * p.k_row_stride + p.k_offset + h * D;
  const T* v_head = static_cast<const T*>(p.v) + b * p.seq_k * p.v_row_stride + p.v_offset + h * D;

  LoadTile<T, D, kBlockQ, kThreads, kPitch>(q_tile, q_head, p.q_row_stride, q0, p.seq_q);
  if (num_k_tiles > 0) {
    LoadTile<T, D, kBlockK, kThreads, kPitch>(k_tiles, k_head, p.k_row_stride, 0, p.seq_k);
    LoadTile<T, D, kBlockK, kThreads, kPitch>(v_tiles, v_head, p.v_row_stride, 0, p.seq_k);
  }
  CpAsyncCommit();

  // This thread's two query rows (of the warp's 16) and their mask rows.
  const int64_t qi[2] = {q0 + warp * 16 + group, q0 + warp * 16 + group + 8};
  const void* mask_row[2] = {nullptr, nullptr};
  for (int r = 0; r < 2; ++r) {
    if (qi[r] < p.seq_q) mask_row[r] = MaskRow<T>(p, b, h, qi[r]);
  }
  const float scale_log2 = p.scale * kLog2e;

  float o[kDTiles][4];
#pragma unroll
  for (int n = 0; n < kDTiles; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.0f, 0.0f};  // this thread's columns only; reduced at the end
  uint32_t q_frag[kDSteps][4];

  for (int kt = 0; kt < num_k_tiles; ++kt) {
    const int buf = kt & 1;
    if (kt + 1 < num_k_tiles) {
      // The other buffer was last read in iteration kt-1, which ended with a barrier.
      LoadTile<T, D, kBlockK, kThreads, kPitch>(k_tiles + (buf ^ 1) * Cfg::kTileKElems, k_head,
                                                p.k_row_stride, (kt + 1) * kBlockK, p.seq_k);
      LoadTile<T, D, kBlockK, kThreads, kPitch>(v_tiles + (buf ^ 1) * Cfg::kTileKElems, v_head,
                                                p.v_row_stride, (kt + 1) * kBlockK, p.seq_k);
      CpAsyncCommit();
      CpAsyncWait<1>();  // everything but the tile just issued has landed
    } else {
      CpAsyncWait<0>();
    }
    __syncthreads();
    const T* ks = k_tiles + buf * Cfg::kTileKElems;
    const T* vs = v_tiles + buf * Cfg::kTileKElems;

    if (kt == 0) {
      // A fragments of the warp's 16 query rows: matrix m = lane / 8 holds
      // rows (m & 1) * 8 .. +7 and columns (m >> 1) * 8 .. +7 of the k-step.
#pragma unroll
      for (int ds = 0; ds < kDSteps; ++ds) {
        const int m = lane >> 3;
        LdMatrixX4(q_frag[ds], q_tile + (warp * 16 + (m & 1) * 8 + (lane & 7)) * kPitch + ds * 16 +
                                   (m >> 1) * 8);
      }
    }

    // S = Q K^T for 16 query rows x 64 keys.
    float s[kKTiles][4];
#pragma unroll
    for (int n = 0; n < kKTiles; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
    for (int ds = 0; ds < kDSteps; ++ds) {
#pragma unroll
      for (int nn = 0; nn < kKTiles / 2; ++nn) {
        // Matrix m: keys nn*16 + (m >> 1) * 8 .. +7, columns ds*16 + (m & 1) * 8 .. +7,
        // i.e. b0, b1 of key n-tile 2nn, then b0, b1 of n-tile 2nn+1.
        const int m = lane >> 3;
        uint32_t kf[4];
        LdMatrixX4(kf, ks + (nn * 16 + (m >> 1) * 8 + (lane & 7)) * kPitch + ds * 16 + (m & 1) * 8);
        Mma<T>(s[2 * nn], q_frag[ds], kf[0], kf[1]);
        Mma<T>(s[2 * nn + 1], q_frag[ds], kf[2], kf[3]);
      }
    }

    // Scale to base 2, mask, and find the row maxima of this tile. Only tiles
    // with a mask, tail keys or the causal diagonal pay for the per-element
    // checks (rows past Sq are never stored, so they need none).
    const int64_t tile_last_key = static_cast<int64_t>(kt + 1) * kBlockK - 1;
    const bool check = p.mask_kind != AttentionMaskKind::kNone || tile_last_key >= p.seq_k ||
                       (p.causal && tile_last_key > q0 + p.seq_k - p.seq_q);
    float tile_max[2] = {-INFINITY, -INFINITY};
    if (check) {
#pragma unroll
      for (int n = 0; n < kKTiles; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int r = e >> 1;
          const int64_t j = static_cast<int64_t>(kt) * kBlockK + n * 8 + quad * 2 + (e & 1);
          float x = s[n][e] * scale_log2;
          const bool live =
              qi[r] < p.seq_q && j < p.seq_k && ApplyMask<T>(p, mask_row[r], qi[r], j, kLog2e, &x);
          x = live ? x : -INFINITY;
          s[n][e] = x;
          tile_max[r] = fmaxf(tile_max[r], x);
        }
      }
    } else {
#pragma unroll
      for (int n = 0; n < kKTiles; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          s[n][e] *= scale_log2;
          tile_max[e >> 1] = fmaxf(tile_max[e >> 1], s[n][e]);
        }
      }
    }
    // The 4 threads of a group share the rows.
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
    }
    float ref[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float new_max = fmaxf(row_max[r], tile_max[r]);
      // With every score so far -inf, subtract 0 instead of -inf (no NaN).
      ref[r] = new_max == -INFINITY ? 0.0f : new_max;
      const float alpha = FastExp2(row_max[r] - ref[r]);
      row_max[r] = new_max;
      row_sum[r] *= alpha;
#pragma unroll
      for (int n = 0; n < kDTiles; ++n) {
        o[n][2 * r] *= alpha;
        o[n][2 * r + 1] *= alpha;
      }
    }
#pragma unroll
    for (int n = 0; n < kKTiles; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[n][e] = FastExp2(s[n][e] - ref[e >> 1]);
        row_sum[e >> 1] += s[n][e];
      }
    }

    // O += P V. The A fragment of key step ks16 is the S accumulators of key
    // n-tiles 2*ks16 and 2*ks16+1, rounded to T.
#pragma unroll
    for (int ks16 = 0; ks16 < kBlockK / 16; ++ks16) {
      const uint32_t pa[4] = {Pack<T>(s[2 * ks16][0], s[2 * ks16][1]),
                              Pack<T>(s[2 * ks16][2], s[2 * ks16][3]),
                              Pack<T>(s[2 * ks16 + 1][0], s[2 * ks16 + 1][1]),
                              Pack<T>(s[2 * ks16 + 1][2], s[2 * ks16 + 1][3])};
#pragma unroll
      for (int nn = 0; nn < kDTiles / 2; ++nn) {
        // Matrix m (transposed): keys ks16*16 + (m & 1) * 8 .. +7, columns
        // nn*16 + (m >> 1) * 8 .. +7: b0, b1 of column n-tile 2nn, then of 2nn+1.
        const int m = lane >> 3;
        uint32_t vf[4];
        LdMatrixX4Trans(
            vf, vs + (ks16 * 16 + (m & 1) * 8 + (lane & 7)) * kPitch + nn * 16 + (m >> 1) * 8);
        Mma<T>(o[2 * nn], pa, vf[0], vf[1]);
        Mma<T>(o[2 * nn + 1], pa, vf[2], vf[3]);
      }
    }
    __syncthreads();  // the next iteration overwrites the buffer read here
  }

  // Epilogue: normalize, stage the warp's 16 rows in its own rows of the Q
  // tile (its Q fragments are in registers), then store 16 bytes per lane.
  CpAsyncWait<0>();  // with no key tile, the Q copy may still be in flight
  __syncthreads();
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 1);
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 2);
  }
  const float inv[2] = {row_sum[0] > 0.0f ? 1.0f / row_sum[0] : 0.0f,
                        row_sum[1] > 0.0f ? 1.0f / row_sum[1] : 0.0f};
  T* stage = q_tile + warp * 16 * kPitch;
#pragma unroll
  for (int n = 0; n < kDTiles; ++n) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const uint32_t v = Pack<T>(o[n][2 * r] * inv[r], o[n][2 * r + 1] * inv[r]);
      *reinterpret_cast<uint32_t*>(stage + (group + 8 * r) * kPitch + n * 8 + quad * 2) = v;
    }
  }
  __syncwarp();
  const int64_t out_row_stride = static_cast<int64_t>(p.heads) * D;
  T* out_head = static_cast<T*>(p.out) + b * p.seq_q * out_row_stride + h * D;
  constexpr int kChunksPerRow = D / 8;
#pragma unroll
  for (int c = lane; c < 16 * kChunksPerRow; c += 32) {
    const int r = c / kChunksPerRow;
    const int col = (c % kChunksPerRow) * 8;
    const int64_t i = static_cast<int64_t>(q0) + warp * 16 + r;
    if (i < p.seq_q) {
      *reinterpret_cast<uint4*>(out_head + i * out_row_stride + col) =
          *reinterpret_cast<const uint4*>(stage + r * kPitch + col);
    }
  }
}

template <class T, int D, int kWarps>
Status LaunchTyped(const AttentionParams& p, cudaStream_t stream) {
  using Cfg = FlashConfig<T, D, kWarps>;
  auto* kernel = FlashAttentionKernel<T, D, kWarps>;
  // Above 48 KiB a kernel must opt in to its dynamic shared memory. The
  // attribute is per device, so set it on every launch (a cheap host call, as
  // FlashAttention does) rather than caching it per process.
  if (Cfg::kSharedBytes > 48 * 1024) {
    const cudaError_t opt_in = cudaFuncSetAttribute(
        kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(Cfg::kSharedBytes));
    if (opt_in != cudaSuccess) {
      return MakeError(StatusCode::kInternal, "flash attention (D = ", D, "): cannot use ",
                       Cfg::kSharedBytes, " bytes of shared memory: ", cudaGetErrorName(opt_in));
    }
  }
  const int64_t num_q_tiles = (static_cast<int64_t>(p.seq_q) + Cfg::kBlockQ - 1) / Cfg::kBlockQ;
  const int64_t blocks = num_q_tiles * p.batch * p.heads;
  if (blocks == 0) return Status::Ok();
  if (blocks > 0x7fffffff) {
    return MakeError(StatusCode::kInvalidArgument, "flash attention needs ", blocks,
                     " blocks, more than a grid holds");
  }
  kernel<<<static_cast<unsigned>(blocks), Cfg::kThreads, Cfg::kSharedBytes, stream>>>(
      p, static_cast<int>(num_q_tiles));
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    return MakeError(StatusCode::kInternal, "flash attention kernel (D = ", D,
                     ") launch failed: ", cudaGetErrorName(e));
  }
  return Status::Ok();
}

template <class T>
Status LaunchForDim(const AttentionParams& p, cudaStream_t stream) {
  constexpr int kWarps = 4;
  switch (p.head_dim) {
    case 16:
      return LaunchTyped<T, 16, kWarps>(p, stream);
    case 32:
      return LaunchTyped<T, 32, kWarps>(p, stream);
    case 48:
      return LaunchTyped<T, 48, kWarps>(p, stream);
    case 64:
      return LaunchTyped<T, 64, kWarps>(p, stream);
    case 80:
      return LaunchTyped<T, 80, kWarps>(p, stream);
    case 96:
      return LaunchTyped<T, 96, kWarps>(p, stream);
    case 112:
      return LaunchTyped<T, 112, kWarps>(p, stream);
    case 128:
      return LaunchTyped<T, 128, kWarps>(p, stream);
    default:
      return MakeError(StatusCode::kInvalidArgument, "flash attention: head dim ", p.head_dim,
                       " is not a multiple of 16 up to 128");
  }
}

}  // namespace

Status LaunchFlashAttention(const AttentionParams& p, cudaStream_t stream) {
  if (p.head_dim != p.value_dim) {
    return MakeError(StatusCode::kInvalidArgument, "flash attention: head dim ", p.head_dim,
                     " differs from the value head dim ", p.value_dim);
  }
  switch (p.dtype) {
    case DType::kFloat16:
      return LaunchForDim<__half>(p, stream);
    case DType::kBFloat16:
      return LaunchForDim<__nv_bfloat16>(p, stream);
    default:
      return MakeError(StatusCode::kInvalidArgument, "flash attention: dtype ", DTypeName(p.dtype),
                       " is not f16 or bf16");
  }
}

}  // namespace frt
