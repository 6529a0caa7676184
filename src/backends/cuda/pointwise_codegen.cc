// FusedPointwise -> CUDA C++ source (see pointwise_codegen.h), NVRTC
// compilation with a per-process cache, and the tactic blob encoding.
// Host code only; the generated text is the device code.
#include "backends/cuda/pointwise_codegen.h"

#include <nvrtc.h>

#include <bit>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

#include "backends/cuda/pointwise_params.h"

namespace frt::cuda_pointwise {
namespace {

using pointwise::Instruction;
using pointwise::Opcode;

// Fixed part of every generated kernel: types, conversions, math helpers with
// float and double overloads (so instructions print the same for both).
constexpr const char* kPrelude = R"(typedef unsigned char frt_u8;
typedef unsigned short frt_u16;

__device__ __forceinline__ float frt_h2f(frt_u16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
}
__device__ __forceinline__ frt_u16 frt_f2h(float f) {
  frt_u16 h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}
__device__ __forceinline__ frt_u16 frt_d2h(double d) {
  frt_u16 h;
  asm("cvt.rn.f16.f64 %0, %1;" : "=h"(h) : "d"(d));
  return h;
}
__device__ __forceinline__ float frt_b2f(frt_u16 b) { return __uint_as_float(((unsigned)b) << 16); }
// f32 -> bf16, round to nearest even; NaN stays a (quiet) NaN.
__device__ __forceinline__ frt_u16 frt_f2b(float f) {
  unsigned u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (frt_u16)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (frt_u16)(u >> 16);
}
// f64 -> bf16 in one rounding: round to odd into f32 first (exact results
// stay, others truncate with the last bit set), then to nearest even.
__device__ __forceinline__ frt_u16 frt_d2b(double d) {
  float f = __double2float_rz(d);
  if (d == d && (double)f != d) f = __uint_as_float(__float_as_uint(f) | 1u);
  return frt_f2b(f);
}
__device__ __forceinline__ float frt_round_f16(float x) { return frt_h2f(frt_f2h(x)); }
__device__ __forceinline__ float frt_round_f16(double x) { return frt_h2f(frt_d2h(x)); }
__device__ __forceinline__ float frt_round_bf16(float x) { return frt_b2f(frt_f2b(x)); }
__device__ __forceinline__ float frt_round_bf16(double x) { return frt_b2f(frt_d2b(x)); }

__device__ __forceinline__ float frt_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double frt_abs(double x) { return fabs(x); }
__device__ __forceinline__ float frt_exp(float x) { return expf(x); }
__device__ __forceinline__ double frt_exp(double x) { return exp(x); }
__device__ __forceinline__ float frt_log(float x) { return logf(x); }
__device__ __forceinline__ double frt_log(double x) { return log(x); }
__device__ __forceinline__ float frt_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double frt_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float frt_erf(float x) { return erff(x); }
__device__ __forceinline__ double frt_erf(double x) { return erf(x); }
__device__ __forceinline__ float frt_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double frt_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float frt_floor(float x) { return floorf(x); }
__device__ __forceinline__ double frt_floor(double x) { return floor(x); }
__device__ __forceinline__ float frt_ceil(float x) { return ceilf(x); }
__device__ __forceinline__ double frt_ceil(double x) { return ceil(x); }
__device__ __forceinline__ float frt_sin(float x) { return sinf(x); }
__device__ __forceinline__ double frt_sin(double x) { return sin(x); }
__device__ __forceinline__ float frt_cos(float x) { return cosf(x); }
__device__ __forceinline__ double frt_cos(double x) { return cos(x); }
__device__ __forceinline__ float frt_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double frt_log1p(double x) { return log1p(x); }
__device__ __forceinline__ float frt_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double frt_pow(double x, double y) { return pow(x, y); }
__device__ __forceinline__ double frt_pow(float x, double y) { return pow((double)x, y); }
__device__ __forceinline__ double frt_pow(double x, float y) { return pow(x, (double)y); }

template <class T> __device__ __forceinline__ T frt_relu(T x) { return x > (T)0 ? x : (T)0; }
template <class T> __device__ __forceinline__ T frt_sigmoid(T x) {
  if (x >= (T)0) return (T)1 / ((T)1 + frt_exp(-x));
  const T e = frt_exp(x);
  return e / ((T)1 + e);
}
template <class T> __device__ __forceinline__ T frt_softplus(T x) {
  return x > (T)0 ? x + frt_log1p(frt_exp(-x)) : frt_log1p(frt_exp(x));
}
template <class T> __device__ __forceinline__ T frt_gelu(T x) {
  return (T)0.5 * x * ((T)1 + frt_erf(x * (T)0.70710678118654752440));
}
template <class T> __device__ __forceinline__ T frt_gelu_tanh(T x) {
  return (T)0.5 * x * ((T)1 + frt_tanh((T)0.79788456080286535588 * (x + (T)0.044715 * x * x * x)));
}
template <class T> __device__ __forceinline__ T frt_mish(T x) { return x * frt_tanh(frt_softplus(x)); }
template <class T> __device__ __forceinline__ T frt_swish(T x, T a) { return x * frt_sigmoid(a * x); }
template <class T> __device__ __forceinline__ T frt_leaky_relu(T x, T a) { return x >= (T)0 ? x : a * x; }
// Max/Min propagate NaN (numpy.maximum / minimum).
template <class T> __device__ __forceinline__ T frt_max(T x, T y) {
  return (x != x || y != y) ? x + y : (x > y ? x : y);
}
template <class T> __device__ __forceinline__ T frt_min(T x, T y) {
  return (x != x || y != y) ? x + y : (x < y ? x : y);
}
template <class T> __device__ __forceinline__ T frt_clip_lo(T x, T lo) { return x < lo ? lo : x; }
template <class T> __device__ __forceinline__ T frt_clip_hi(T x, T hi) { return x > hi ? hi : x; }

template <class T, int V> struct alignas(sizeof(T) * V) FrtVec { T v[V]; };

// Flat-path addressing (pointwise_params.h InputMode): 0 full, 1 scalar, 2 row, 3 column.
template <class T>
__device__ __forceinline__ T frt_load1(const void* base, int mode, long long row, long long i) {
  const T* p = (const T*)base;
  if (mode == 1) return p[0];
  if (mode == 2) return p[i % row];
  if (mode == 3) return p[i / row];
  return p[i];
}
template <int V, class T>
__device__ __forceinline__ FrtVec<T, V> frt_loadv(const void* base, int mode, long long row,
                                                  long long i) {
  const T* p = (const T*)base;
  FrtVec<T, V> r;
  if (mode == 1 || mode == 3) {
    const T s = p[mode == 1 ? 0 : i / row];
#pragma unroll
    for (int j = 0; j < V; ++j) r.v[j] = s;
  } else {
    r = *(const FrtVec<T, V>*)(p + (mode == 2 ? i % row : i));
  }
  return r;
}
)";

// Storage type name, register type name, load conversion of one dtype.
struct TypeInfo {
  const char* storage;
  const char* reg;
  int size;
};

Result<TypeInfo> InfoOf(DType t) {
  switch (t) {
    case DType::kFloat32: return TypeInfo{"float", "float", 4};
    case DType::kFloat16: return TypeInfo{"frt_u16", "float", 2};
    case DType::kBFloat16: return TypeInfo{"frt_u16", "float", 2};
    case DType::kFloat64: return TypeInfo{"double", "double", 8};
    case DType::kBool: return TypeInfo{"frt_u8", "bool", 1};
    default:
      return MakeError(StatusCode::kInvalidModel, "FusedPointwise codegen: dtype ", DTypeName(t),
                       " is not a register dtype");
  }
}

// Storage value `v` of dtype t -> its register value.
std::string LoadExpr(DType t, const std::string& v) {
  switch (t) {
    case DType::kFloat16: return StrCat("frt_h2f(", v, ")");
    case DType::kBFloat16: return StrCat("frt_b2f(", v, ")");
    case DType::kBool: return StrCat("(", v, " != 0)");
    default: return v;
  }
}

// Register value `r` of dtype t -> storage of dtype t.
std::string StoreExpr(DType t, const std::string& r) {
  switch (t) {
    case DType::kFloat16: return StrCat("frt_f2h(", r, ")");
    case DType::kBFloat16: return StrCat("frt_f2b(", r, ")");
    case DType::kBool: return StrCat("(frt_u8)(", r, " ? 1 : 0)");
    default: return r;
  }
}

// A float parameter as an exact literal of register type `reg`.
std::string ParamLiteral(float p, const char* reg) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "(%s)__int_as_float(0x%08x)", reg, std::bit_cast<uint32_t>(p));
  return buf;
}

// Register `src` of dtype `from` converted to dtype `to` (Cast; ONNX rules as
// the CPU reference: bool is 0/1, x -> bool is x != 0, floats round to nearest).
std::string CastExpr(const std::string& src, DType from, DType to) {
  if (to == DType::kBool) return from == DType::kBool ? src : StrCat("(", src, " != 0)");
  const char* reg = to == DType::kFloat64 ? "double" : "float";
  if (from == DType::kBool) return StrCat("(", src, " ? (", reg, ")1 : (", reg, ")0)");
  switch (to) {
    case DType::kFloat16: return StrCat("frt_round_f16(", src, ")");
    case DType::kBFloat16: return StrCat("frt_round_bf16(", src, ")");
    case DType::kFloat32: return from == DType::kFloat64 ? StrCat("(float)", src) : src;
    default: return StrCat("(double)", src);  // f64: exact from every float register
  }
}

// The right-hand side of one instruction.
std::string InstructionExpr(const Instruction& ins, const pointwise::Program& p) {
  auto r = [](int64_t reg) { return StrCat("r", reg); };
  const std::string x = r(ins.a);
  const DType dst = p.reg_dtypes[static_cast<size_t>(ins.dst)];
  const char* reg = dst == DType::kFloat64 ? "double" : "float";
  auto call = [&](const char* f) { return StrCat(f, "(", x, ")"); };
  auto bin = [&](const char* op) { return StrCat("(", x, " ", op, " ", r(ins.b), ")"); };
  switch (ins.op) {
    case Opcode::kIdentity: return x;
    case Opcode::kNeg: return StrCat("(-", x, ")");
    case Opcode::kAbs: return call("frt_abs");
    case Opcode::kExp: return call("frt_exp");
    case Opcode::kLog: return call("frt_log");
    case Opcode::kSqrt: return call("frt_sqrt");
    case Opcode::kReciprocal: return StrCat("((", reg, ")1 / ", x, ")");
    case Opcode::kErf: return call("frt_erf");
    case Opcode::kTanh: return call("frt_tanh");
    case Opcode::kSigmoid: return call("frt_sigmoid");
    case Opcode::kRelu: return call("frt_relu");
    case Opcode::kGelu: return call("frt_gelu");
    case Opcode::kGeluTanh: return call("frt_gelu_tanh");
    case Opcode::kFloor: return call("frt_floor");
    case Opcode::kCeil: return call("frt_ceil");
    case Opcode::kSin: return call("frt_sin");
    case Opcode::kCos: return call("frt_cos");
    case Opcode::kSoftplus: return call("frt_softplus");
    case Opcode::kMish: return call("frt_mish");
    case Opcode::kNot: return StrCat("(!", x, ")");
    case Opcode::kIsNaN: return StrCat("(", x, " != ", x, ")");
    case Opcode::kSwish:
      return StrCat("frt_swish(", x, ", ", ParamLiteral(p.params[ins.b], reg), ")");
    case Opcode::kLeakyRelu:
      return StrCat("frt_leaky_relu(", x, ", ", ParamLiteral(p.params[ins.b], reg), ")");
    case Opcode::kCast:
      return CastExpr(x, p.reg_dtypes[static_cast<size_t>(ins.a)], static_cast<DType>(ins.b));
    case Opcode::kAdd: return bin("+");
    case Opcode::kSub: return bin("-");
    case Opcode::kMul: return bin("*");
    case Opcode::kDiv: return bin("/");
    case Opcode::kPow: return StrCat("(", reg, ")frt_pow(", x, ", ", r(ins.b), ")");
    case Opcode::kMax: return StrCat("frt_max(", x, ", ", r(ins.b), ")");
    case Opcode::kMin: return StrCat("frt_min(", x, ", ", r(ins.b), ")");
    case Opcode::kEqual: return bin("==");
    case Opcode::kLess: return bin("<");
    case Opcode::kLessOrEqual: return bin("<=");
    case Opcode::kGreater: return bin(">");
    case Opcode::kGreaterOrEqual: return bin(">=");
    case Opcode::kAnd: return bin("&&");
    case Opcode::kOr: return bin("||");
    case Opcode::kXor: return bin("!=");
    case Opcode::kWhere: return StrCat("(", x, " ? ", r(ins.b), " : ", r(ins.c), ")");
    case Opcode::kClip: {  // lower bound first: the upper one wins when min > max
      std::string v = x;
      if (ins.b >= 0) v = StrCat("frt_clip_lo(", v, ", ", r(ins.b), ")");
      if (ins.c >= 0) v = StrCat("frt_clip_hi(", v, ", ", r(ins.c), ")");
      return v;
    }
  }
  return "0";  // unreachable: DecodeProgram rejects unknown opcodes
}

// The FusedArgs struct as the generated code declares it: the same member
// types in the same order, so host and device lay it out alike (CUDA's ABI);
// the size check catches a mismatch in the array bounds.
std::string ArgsStruct() {
  return StrCat(
      "struct FrtArgs {\n"
      "  void* out;\n"
      "  const void* in[",
      kMaxFusedInputs,
      "];\n"
      "  long long n;\n"
      "  int vectorized;\n"
      "  int rank;\n"
      "  int mode[",
      kMaxFusedInputs,
      "];\n"
      "  long long row[",
      kMaxFusedInputs,
      "];\n"
      "  long long dims[",
      kMaxRank,
      "];\n"
      "  long long strides[",
      kMaxFusedInputs, "][", kMaxRank,
      "];\n"
      "};\n"
      "static_assert(sizeof(FrtArgs) == ",
      sizeof(FusedArgs),
      ", \"FusedArgs layout\");\n"
      "\n");
}

}  // namespace

Result<GeneratedKernel> GenerateFusedSource(const pointwise::Program& program,
                                            const std::vector<DType>& input_dtypes) {
  const size_t n_in = input_dtypes.size();
  if (n_in == 0 || n_in > static_cast<size_t>(kMaxFusedInputs)) {
    return MakeError(StatusCode::kInvalidModel, "FusedPointwise codegen: ", n_in, " inputs (1 to ",
                     kMaxFusedInputs, " supported)");
  }
  if (program.code.empty() || program.reg_dtypes.size() != n_in + program.code.size()) {
    return MakeError(StatusCode::kInvalidModel,
                     "FusedPointwise codegen: the program does not match its inputs");
  }
  std::vector<TypeInfo> in_info;
  std::vector<int> sizes;
  for (DType t : input_dtypes) {
    FRT_ASSIGN_OR_RETURN(TypeInfo info, InfoOf(t));
    in_info.push_back(info);
    sizes.push_back(info.size);
  }
  FRT_ASSIGN_OR_RETURN(TypeInfo out_info, InfoOf(program.output_dtype));
  sizes.push_back(out_info.size);
  GeneratedKernel g;
  g.vec = VectorWidth(sizes);

  std::string s =
      StrCat("// FusionRT FusedPointwise kernel (generated): ", n_in, " inputs, ",
             program.code.size(), " instructions, output ", DTypeName(program.output_dtype), ".\n");
  s += kPrelude;
  s += "\n";
  s += ArgsStruct();

  // frt_eval: storage values in, storage value out; the program in between.
  s += StrCat("__device__ __forceinline__ ", out_info.storage, " frt_eval(");
  for (size_t k = 0; k < n_in; ++k) {
    s += StrCat(k ? ", " : "", in_info[k].storage, " v", k);
  }
  s += ") {\n";
  for (size_t k = 0; k < n_in; ++k) {
    s += StrCat("  const ", in_info[k].reg, " r", k, " = ",
                LoadExpr(input_dtypes[k], StrCat("v", k)), ";\n");
  }
  for (const Instruction& ins : program.code) {
    const DType t = program.reg_dtypes[static_cast<size_t>(ins.dst)];
    FRT_ASSIGN_OR_RETURN(TypeInfo info, InfoOf(t));
    s += StrCat("  const ", info.reg, " r", ins.dst, " = ", InstructionExpr(ins, program), ";  // ",
                pointwise::OpcodeName(ins.op), "\n");
  }
  s += StrCat("  return ", StoreExpr(program.output_dtype, StrCat("r", program.code.back().dst)),
              ";\n}\n\n");

  // The kernel.
  const std::string out_t = out_info.storage;
  const std::string V = std::to_string(g.vec);
  auto args = [&](const std::string& per_input) {  // "f(k)" for each input, comma-separated
    std::string a;
    for (size_t k = 0; k < n_in; ++k) {
      std::string item = per_input;
      for (size_t pos; (pos = item.find("$k")) != std::string::npos;) {
        item.replace(pos, 2, std::to_string(k));
      }
      for (size_t pos; (pos = item.find("$T")) != std::string::npos;) {
        item.replace(pos, 2, in_info[k].storage);
      }
      a += (k ? ", " : "") + item;
    }
    return a;
  };
  s += StrCat("extern \"C\" __global__ void __launch_bounds__(256) ", kFusedKernelName,
              "(const FrtArgs a) {\n"
              "  const long long stride = (long long)gridDim.x * blockDim.x;\n"
              "  const long long first = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
              "  ",
              out_t, "* out = (", out_t,
              "*)a.out;\n"
              "  if (a.vectorized) {\n"
              "    const long long nvec = a.n / ",
              V,
              ";\n"
              "    for (long long v = first; v < nvec; v += stride) {\n"
              "      const long long i = v * ",
              V, ";\n");
  for (size_t k = 0; k < n_in; ++k) {
    s +=
        StrCat("      const FrtVec<", in_info[k].storage, ", ", V, "> x", k, " = frt_loadv<", V,
               ", ", in_info[k].storage, ">(a.in[", k, "], a.mode[", k, "], a.row[", k, "], i);\n");
  }
  s += StrCat("      FrtVec<", out_t, ", ", V,
              "> o;\n"
              "#pragma unroll\n"
              "      for (int j = 0; j < ",
              V, "; ++j) o.v[j] = frt_eval(", args("x$k.v[j]"),
              ");\n"
              "      *(FrtVec<",
              out_t, ", ", V,
              ">*)(out + i) = o;\n"
              "    }\n"
              "    for (long long i = nvec * ",
              V,
              " + first; i < a.n; i += stride) {\n"
              "      out[i] = frt_eval(",
              args("frt_load1<$T>(a.in[$k], a.mode[$k], a.row[$k], i)"),
              ");\n"
              "    }\n"
              "    return;\n"
              "  }\n"
              "  for (long long i = first; i < a.n; i += stride) {\n"
              "    long long idx = i;\n");
  for (size_t k = 0; k < n_in; ++k) s += StrCat("    long long o", k, " = 0;\n");
  s += StrCat(
      "#pragma unroll\n"
      "    for (int d = ",
      kMaxRank - 1,
      "; d > 0; --d) {\n"
      "      if (d >= a.rank) continue;\n"
      "      const long long q = idx / a.dims[d];\n"
      "      const long long c = idx - q * a.dims[d];\n");
  for (size_t k = 0; k < n_in; ++k) s += StrCat("      o", k, " += c * a.strides[", k, "][d];\n");
  s += "      idx = q;\n    }\n";
  for (size_t k = 0; k < n_in; ++k) s += StrCat("    o", k, " += idx * a.strides[", k, "][0];\n");
  s += StrCat("    out[i] = frt_eval(", args("((const $T*)a.in[$k])[o$k]"), ");\n  }\n}\n");
  g.source = std::move(s);
  return g;
}

Result<std::vector<uint8_t>> CompileWithNvrtc(const std::string& source, const std::string& arch,
                                              const std::string& what) {
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::vector<uint8_t>>();
  const std::string key = arch + '\n' + source;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache->find(key);
    if (it != cache->end()) return it->second;
  }
  const bool want_cubin = arch.starts_with("sm_");
  nvrtcProgram prog = nullptr;
  nvrtcResult rc =
      nvrtcCreateProgram(&prog, source.c_str(), "frt_fused_pointwise.cu", 0, nullptr, nullptr);
  if (rc != NVRTC_SUCCESS) {
    return MakeError(StatusCode::kInternal, what,
                     ": nvrtcCreateProgram: ", nvrtcGetErrorString(rc));
  }
  const std::string arch_opt = "--gpu-architecture=" + arch;
  const char* opts[] = {arch_opt.c_str(), "-default-device", "--std=c++17"};
  rc = nvrtcCompileProgram(prog, 3, opts);
  std::vector<uint8_t> out;
  Status status = Status::Ok();
  if (rc != NVRTC_SUCCESS) {
    size_t log_size = 0;
    nvrtcGetProgramLogSize(prog, &log_size);
    std::string log(log_size, '\0');
    if (log_size) nvrtcGetProgramLog(prog, log.data());
    status = MakeError(StatusCode::kInternal, what, ": NVRTC could not compile the generated ",
                       "kernel for ", arch, " (", nvrtcGetErrorString(rc), "):\n", log);
  } else {
    size_t size = 0;
    rc = want_cubin ? nvrtcGetCUBINSize(prog, &size) : nvrtcGetPTXSize(prog, &size);
    if (rc == NVRTC_SUCCESS) {
      out.resize(size);
      rc = want_cubin ? nvrtcGetCUBIN(prog, reinterpret_cast<char*>(out.data()))
                      : nvrtcGetPTX(prog, reinterpret_cast<char*>(out.data()));
    }
    if (rc != NVRTC_SUCCESS || size == 0) {
      status =
          MakeError(StatusCode::kInternal, what, ": NVRTC produced no ",
                    want_cubin ? "CUBIN" : "PTX", " for ", arch, ": ", nvrtcGetErrorString(rc));
    }
  }
  nvrtcDestroyProgram(&prog);
  if (!status.ok()) return status;
  std::lock_guard<std::mutex> lock(mu);
  cache->emplace(key, out);
  return out;
}

namespace {

constexpr char kMagic[8] = {'F', 'R', 'T', 'P', 'W', '0', '0', '1'};
constexpr uint32_t kBlobVersion = 1;
constexpr size_t kHeaderBytes = sizeof(kMagic) + 6 * sizeof(uint32_t);

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t GetU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

std::vector<uint8_t> EncodeFusedBlob(const FusedBlob& blob) {
  std::vector<uint8_t> out(kMagic, kMagic + sizeof(kMagic));
  PutU32(out, kBlobVersion);
  PutU32(out, blob.vec);
  PutU32(out, blob.num_inputs);
  PutU32(out, blob.compute_capability);
  PutU32(out, static_cast<uint32_t>(blob.kernel_name.size()));
  PutU32(out, static_cast<uint32_t>(blob.cubin.size()));
  out.insert(out.end(), blob.kernel_name.begin(), blob.kernel_name.end());
  out.insert(out.end(), blob.cubin.begin(), blob.cubin.end());
  return out;
}

Result<FusedBlob> DecodeFusedBlob(std::span<const uint8_t> data, const std::string& what) {
  auto bad = [&](const char* why) {
    return MakeError(StatusCode::kInvalidEngine, what, ": the tactic data of the generated ",
                     "kernel is ", why, " (rebuild the engine)");
  };
  if (data.size() < kHeaderBytes) return bad("truncated");
  if (std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    return bad("not a FusedPointwise blob");
  const uint8_t* p = data.data() + sizeof(kMagic);
  if (GetU32(p) != kBlobVersion) return bad("of an unknown version");
  FusedBlob b;
  b.vec = GetU32(p + 4);
  b.num_inputs = GetU32(p + 8);
  b.compute_capability = GetU32(p + 12);
  const uint64_t name_len = GetU32(p + 16), cubin_len = GetU32(p + 20);
  if (kHeaderBytes + name_len + cubin_len != data.size()) return bad("truncated or padded");
  if (b.vec == 0 || b.vec > 16 || (b.vec & (b.vec - 1)) != 0) return bad("corrupt (vector width)");
  if (b.num_inputs == 0 || b.num_inputs > static_cast<uint32_t>(kMaxFusedInputs)) {
    return bad("corrupt (input count)");
  }
  if (name_len == 0 || cubin_len == 0) return bad("empty");
  const uint8_t* name = data.data() + kHeaderBytes;
  b.kernel_name.assign(reinterpret_cast<const char*>(name), name_len);
  b.cubin.assign(name + name_len, name + name_len + cubin_len);
  return b;
}

}  // namespace frt::cuda_pointwise
