#include "engine_source.h"

#ifdef FRT_HAVE_CUDA
#include "backends/cuda/cuda_util.h"
#endif

#include <iostream>
#include <set>

#include "core/npy.h"
#include "fusionrt/onnx.h"
#include "options.h"

namespace frt::cli {

void AddBuildFlags(CLI::App* sub, BuildFlags& f) {
  sub->add_option("--onnx", f.onnx, "ONNX model file");
  sub->add_flag("--fp16", f.fp16, "allow FP16 layers (trtexec --fp16)");
  sub->add_flag("--bf16", f.bf16, "allow BF16 layers (trtexec --bf16)");
  sub->add_flag("--fp32", f.fp32, "FP32 only (the default; trtexec's default too)");
  sub->add_option("--min-shapes,--minShapes", f.min_shapes,
                  "profile minimum shapes, e.g. input_ids:1x1,mask:1x1");
  sub->add_option("--opt-shapes,--optShapes", f.opt_shapes,
                  "profile optimum shapes (kernels are tuned for these)");
  sub->add_option("--max-shapes,--maxShapes", f.max_shapes, "profile maximum shapes");
  sub->add_option("--memory-limit,--memPoolSize", f.memory_limit,
                  "upper bound on activation memory, bytes or with K/M/G (e.g. 512M)");
  sub->add_option("--optimization-level,--builderOptimizationLevel", f.optimization_level,
                  "0 (heuristics only) .. 5 (most tuning); default 3")
      ->check(CLI::Range(0, 5));
  sub->add_option("--device", f.device, "auto | cpu | cuda (default auto)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  sub->add_flag("--verbose,-v", f.verbose,
                "print every build step and layer (inspect: also every memory slot)");
}

Result<uint64_t> ParseBytes(const std::string& text) {
  if (text.empty()) return uint64_t{0};
  uint64_t scale = 1;
  std::string digits = text;
  switch (std::toupper(static_cast<unsigned char>(text.back()))) {
    case 'K': scale = uint64_t{1} << 10; break;
    case 'M': scale = uint64_t{1} << 20; break;
    case 'G': scale = uint64_t{1} << 30; break;
    default: scale = 1;
  }
  if (scale != 1) digits.pop_back();
  char* end = nullptr;
  unsigned long long v = std::strtoull(digits.c_str(), &end, 10);
  if (digits.empty() || *end != '\0' || digits[0] == '-' || v > UINT64_MAX / scale) {
    return MakeError(StatusCode::kInvalidArgument, "\"", text,
                     "\" is not a byte count (e.g. 1048576, 512M, 2G)");
  }
  return v * scale;
}

Result<std::shared_ptr<Engine>> BuildFromFlags(const BuildFlags& f,
                                               const std::map<std::string, Dims>& run_shapes) {
  if (f.onnx.empty()) {
    return MakeError(StatusCode::kInvalidArgument, "give a model with --onnx (or --engine)");
  }
  if (f.fp32 && (f.fp16 || f.bf16)) {
    return MakeError(StatusCode::kInvalidArgument, "--fp32 excludes --fp16 and --bf16");
  }
  BuilderConfig config;
  config.fp16 = f.fp16;
  config.bf16 = f.bf16;
  config.optimization_level = f.optimization_level;
  config.verbose = f.verbose;
  config.device = f.device == "cpu" ? DeviceKind::kCpu
                  : f.device == "cuda" ? DeviceKind::kCuda : DeviceKind::kAuto;
  FRT_ASSIGN_OR_RETURN(config.memory_limit, ParseBytes(f.memory_limit));
  config.log = [](const std::string& line) { std::cerr << line << "\n"; };
  FRT_ASSIGN_OR_RETURN(auto min, ParseShapes(f.min_shapes));
  FRT_ASSIGN_OR_RETURN(auto opt, ParseShapes(f.opt_shapes));
  FRT_ASSIGN_OR_RETURN(auto max, ParseShapes(f.max_shapes));
  std::set<std::string> names;
  using ShapeMap = std::map<std::string, Dims>;
  for (const ShapeMap* m : std::initializer_list<const ShapeMap*>{&min, &opt, &max, &run_shapes}) {
    for (const auto& [name, dims] : *m) names.insert(name);
  }
  OptimizationProfile profile;
  for (const std::string& name : names) {
    // Missing points default to the given ones, as in trtexec: --shapes alone
    // means min = opt = max; opt alone means a fixed shape.
    auto pick = [&](const std::map<std::string, Dims>& m) -> const Dims* {
      auto it = m.find(name);
      return it == m.end() ? nullptr : &it->second;
    };
    const Dims* o = pick(opt) ? pick(opt) : pick(run_shapes) ? pick(run_shapes)
                    : pick(max) ? pick(max) : pick(min);
    const Dims* lo = pick(min) ? pick(min) : o;
    const Dims* hi = pick(max) ? pick(max) : o;
    FRT_RETURN_IF_ERROR(profile.SetShapes(name, *lo, *o, *hi));
  }
  if (!names.empty()) config.profiles.push_back(profile);
  FRT_ASSIGN_OR_RETURN(NetworkDefinition network, ParseOnnxFile(f.onnx));
  auto engine = Builder::Build(network, config);
  if (!engine.ok()) return engine.status().WithPrefix(StrCat("\"", f.onnx, "\""));
  return engine;
}

void AddEngineFlags(CLI::App* sub, EngineFlags& f) {
  sub->add_option("--engine,--loadEngine", f.engine, "engine file written by `fusionrt build`");
  AddBuildFlags(sub, f.build);
}

Result<std::shared_ptr<Engine>> GetEngine(const EngineFlags& f,
                                          const std::map<std::string, Dims>& run_shapes) {
  if (!f.engine.empty() && !f.build.onnx.empty()) {
    return MakeError(StatusCode::kInvalidArgument, "give --engine or --onnx, not both");
  }
  if (!f.engine.empty()) return Engine::Load(f.engine);
  return BuildFromFlags(f.build, run_shapes);
}

Result<std::map<std::string, Dims>> ShapesWithNpyInputs(
    std::map<std::string, Dims> shapes, const std::map<std::string, std::string>& npy_inputs) {
  for (const auto& [name, path] : npy_inputs) {
    if (shapes.count(name)) continue;
    FRT_ASSIGN_OR_RETURN(Tensor t, ReadNpy(path));
    shapes[name] = t.dims();
  }
  return shapes;
}

void AddInputFlags(CLI::App* sub, InputFlags& f) {
  sub->add_option("--shapes", f.shapes,
                  "input shapes, e.g. input_ids:1x128,mask:1x128 (default: the profile's opt "
                  "shapes)");
  sub->add_option("--input,--loadInputs", f.inputs,
                  "input from a .npy file: name=file.npy (repeatable); others get random data");
  sub->add_option("--seed", f.seed, "seed for random inputs (default 0)");
  sub->add_option("--profile", f.profile, "optimization profile to run with (default 0)");
}

Result<ParsedInputs> ParsedInputs::Parse(const InputFlags& f) {
  ParsedInputs p;
  FRT_ASSIGN_OR_RETURN(p.shapes, ParseShapes(f.shapes));
  for (const std::string& flag : f.inputs) {
    FRT_ASSIGN_OR_RETURN(auto kv, ParseInputFlag(flag));
    p.npy[kv.first] = kv.second;
  }
  FRT_ASSIGN_OR_RETURN(p.build_shapes, ShapesWithNpyInputs(p.shapes, p.npy));
  return p;
}

Result<PreparedContext> ParsedInputs::Prepare(const Engine& engine, const InputFlags& f) const {
  PreparedContext prepared;
  FRT_ASSIGN_OR_RETURN(prepared.ctx, engine.CreateContext());
  FRT_RETURN_IF_ERROR(prepared.ctx->SetOptimizationProfile(f.profile));
  FRT_ASSIGN_OR_RETURN(HostBindings io,
                       HostBindings::Create(engine, *prepared.ctx, shapes, npy, f.seed));
  prepared.io = std::move(io);
  return prepared;
}

Result<Tensor> RandomTensor(DType dtype, const Dims& dims, std::mt19937_64& rng) {
  FRT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(dtype, dims));
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> small(0, 9);
  VisitDType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (auto& v : t.template span<T>()) {
      if constexpr (std::is_same_v<T, bool>) v = small(rng) % 2;
      else if constexpr (std::is_integral_v<T>) v = static_cast<T>(small(rng));
      else v = FromDouble<T>(real(rng));
    }
  });
  return t;
}

#ifdef FRT_HAVE_CUDA
struct DeviceMirror {
  std::map<std::string, DeviceBuffer> buffers;
};

// Binds a device copy of `t` (uploaded) to `name`.
static Status BindDevice(DeviceMirror& m, ExecutionContext& ctx, const std::string& name,
                         const Tensor& t, bool upload) {
  FRT_ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::Allocate(std::max<size_t>(t.nbytes(), 1),
                                                              StrCat("\"", name, "\"")));
  if (upload && t.nbytes() > 0) {
    FRT_CUDA_RETURN_IF_ERROR(cudaMemcpy(b.data(), t.raw(), t.nbytes(), cudaMemcpyHostToDevice));
  }
  FRT_RETURN_IF_ERROR(ctx.SetTensorAddress(name, b.data(), t.nbytes()));
  m.buffers[name] = std::move(b);
  return Status::Ok();
}
#else
struct DeviceMirror {};
#endif

Result<HostBindings> HostBindings::Create(const Engine& engine, ExecutionContext& ctx,
                                          const std::map<std::string, Dims>& shapes,
                                          const std::map<std::string, std::string>& npy_inputs,
                                          uint64_t seed) {
  HostBindings b;
  const bool on_device = engine.backend() == "cuda";
  if (on_device) b.device_ = std::make_shared<DeviceMirror>();
  auto bind = [&](const std::string& name, Tensor& t, bool upload) -> Status {
#ifdef FRT_HAVE_CUDA
    if (on_device) return BindDevice(*b.device_, ctx, name, t, upload);
#else
    (void)upload;
#endif
    return ctx.SetTensorAddress(name, t.raw(), t.nbytes());
  };
  for (const auto& [name, dims] : shapes) {
    const TensorDesc* d = engine.FindTensor(name);
    if (d == nullptr || !d->is_input) {
      return MakeError(StatusCode::kNotFound, "--shapes names \"", name,
                       "\", which is not an input of the engine");
    }
  }
  for (const auto& [name, path] : npy_inputs) {
    const TensorDesc* d = engine.FindTensor(name);
    if (d == nullptr || !d->is_input) {
      return MakeError(StatusCode::kNotFound, "--input names \"", name,
                       "\", which is not an input of the engine");
    }
    FRT_ASSIGN_OR_RETURN(Tensor t, ReadNpy(path));
    if (t.dtype() != d->dtype) {
      return MakeError(StatusCode::kInvalidArgument, "input \"", name, "\" from ", path, " is ",
                       DTypeName(t.dtype()), "; the engine expects ", DTypeName(d->dtype));
    }
    b.inputs_[name] = t;
  }
  std::mt19937_64 rng(seed);
  for (const TensorDesc& d : engine.io_tensors()) {
    if (!d.is_input) continue;
    if (!b.inputs_.count(d.name)) {
      Dims dims;
      if (auto it = shapes.find(d.name); it != shapes.end()) {
        dims = it->second;
      } else if (std::find(d.dims.begin(), d.dims.end(), -1) == d.dims.end()) {
        dims = d.dims;
      } else {
        FRT_ASSIGN_OR_RETURN(ShapeRange r, engine.GetProfileShapes(ctx.optimization_profile(), d.name));
        dims = r.opt;  // like trtexec: the profile's opt shape when none is given
      }
      FRT_ASSIGN_OR_RETURN(b.inputs_[d.name], RandomTensor(d.dtype, dims, rng));
    }
    Tensor& t = b.inputs_[d.name];
    FRT_RETURN_IF_ERROR(ctx.SetInputShape(d.name, t.dims()));
    FRT_RETURN_IF_ERROR(bind(d.name, t, /*upload=*/true));
  }
  for (const TensorDesc& d : engine.io_tensors()) {
    if (d.is_input) continue;
    FRT_ASSIGN_OR_RETURN(Dims dims, ctx.GetTensorShape(d.name));
    if (std::find(dims.begin(), dims.end(), -1) != dims.end()) continue;  // context allocates
    FRT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(d.dtype, dims));
    FRT_RETURN_IF_ERROR(bind(d.name, t, /*upload=*/false));
    b.outputs_[d.name] = t;
  }
  return b;
}

Result<std::map<std::string, Tensor>> HostBindings::Outputs(const Engine& engine,
                                                            const ExecutionContext& ctx) const {
  std::map<std::string, Tensor> out;
  for (const TensorDesc& d : engine.io_tensors()) {
    if (d.is_input) continue;
    FRT_ASSIGN_OR_RETURN(Dims dims, ctx.GetTensorShape(d.name));
    const void* p = ctx.GetTensorAddress(d.name);
    if (p == nullptr) {
      return MakeError(StatusCode::kInternal, "output \"", d.name, "\" has no data");
    }
    out[d.name] = Tensor::View(d.dtype, dims, const_cast<void*>(p));
#ifdef FRT_HAVE_CUDA
    if (device_) {  // download from the device
      FRT_ASSIGN_OR_RETURN(Tensor host, Tensor::Allocate(d.dtype, dims));
      if (host.nbytes() > 0) {
        FRT_CUDA_RETURN_IF_ERROR(
            cudaMemcpy(host.raw(), p, host.nbytes(), cudaMemcpyDeviceToHost));
      }
      out[d.name] = host;
    }
#endif
  }
  return out;
}

uint64_t HostBindings::input_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, t] : inputs_) total += t.nbytes();
  return total;
}

}  // namespace frt::cli
