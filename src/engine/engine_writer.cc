// Engine writer: Plan -> engine-file bytes (docs/engine_format.md).
//
// One pass over the plan builds the FlatBuffers metadata bottom-up (children
// before parents, as FlatBuffers requires) and, whenever it meets a tensor
// (constant or tensor attribute), reserves the tensor's place in the weights
// section: the next 256-byte aligned offset, or the earlier place of a tensor
// sharing the same buffer. The file is then assembled as header | metadata |
// zero padding | weights and the three CRC-32C checksums are filled in.
// Everything iterates in a fixed order (creation order of values and nodes,
// sorted attribute and library maps), so equal plans give equal bytes.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <map>
#include <unordered_map>
#include <utility>

#include "engine/checksum.h"
#include "engine/engine_format.h"
#include "engine/engine_generated.h"

namespace frt {

static_assert(std::endian::native == std::endian::little,
              "engine files store raw little-endian tensors; big-endian hosts are unsupported");
static_assert(static_cast<int>(fb::DType::Float8E5M2) == static_cast<int>(DType::kFloat8E5M2) &&
                  static_cast<int>(fb::DType::Float32) == static_cast<int>(DType::kFloat32) &&
                  static_cast<int>(fb::DType::Bool) == static_cast<int>(DType::kBool),
              "engine.fbs DType must number dtypes exactly as core/dtype.h");

bool IsValidTacticName(std::string_view tactic) {
  // <backend>.<kernel>[.<variant>], each part [A-Za-z0-9_]+.
  int parts = 1;
  size_t part_len = 0;
  for (char c : tactic) {
    if (c == '.') {
      if (part_len == 0) return false;
      ++parts;
      part_len = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_') {
      ++part_len;
    } else {
      return false;
    }
  }
  return part_len > 0 && (parts == 2 || parts == 3);
}

namespace {

using flatbuffers::Offset;

// Tactic data is the only unbounded blob in the metadata; keep the FlatBuffer
// well below its 2 GiB hard limit (the builder would assert beyond it).
constexpr uint64_t kMaxTacticDataBytes = uint64_t{1} << 30;

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

void StoreLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void StoreLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

Status Invalid(const auto&... args) {
  return MakeError(StatusCode::kInvalidArgument, "cannot write engine: ", args...);
}

class EngineWriter {
 public:
  Result<std::vector<uint8_t>> Write(const Plan& plan);

 private:
  struct Blob {
    const void* data;
    uint64_t offset;  // within the weights section
    uint64_t size;
  };

  Result<Offset<fb::Graph>> WriteGraph(const Graph& g);
  Result<Offset<fb::Value>> WriteValue(const Graph& g, const Value& v);
  Result<Offset<fb::Node>> WriteNode(const Graph& g, const Node& n,
                                     const std::unordered_map<const Value*, int32_t>& index);
  Result<Offset<fb::Attribute>> WriteAttribute(const Node& n, const std::string& name,
                                               const AttrValue& value);
  Result<Offset<fb::WeightRef>> WriteWeight(const Tensor& t, const std::string& what);
  Offset<fb::Target> WriteTarget(const TargetInfo& t);
  Result<Offset<fb::Profile>> WriteProfile(const Profile& p);

  flatbuffers::FlatBufferBuilder fbb_{1 << 16};
  std::vector<Blob> blobs_;
  std::map<std::pair<const void*, uint64_t>, uint64_t> placed_;  // (data, size) -> offset
  uint64_t weights_size_ = 0;
};

Result<Offset<fb::WeightRef>> EngineWriter::WriteWeight(const Tensor& t, const std::string& what) {
  if (!t.defined()) return Invalid(what, " is a tensor of undefined dtype");
  uint64_t size = t.nbytes();
  if (size > 0 && t.raw() == nullptr) return Invalid(what, " (", t.Describe(), ") has no data");
  uint64_t offset = AlignUp(weights_size_, kWeightAlignment);
  if (size > 0) {
    auto [it, inserted] = placed_.try_emplace({t.raw(), size}, offset);
    if (inserted) {
      blobs_.push_back({t.raw(), offset, size});
      weights_size_ = offset + size;
    } else {
      offset = it->second;  // same buffer already stored: share it
    }
  }
  auto dims = fbb_.CreateVector(t.dims());
  return fb::CreateWeightRef(fbb_, static_cast<fb::DType>(t.dtype()), dims, offset, size);
}

Result<Offset<fb::Value>> EngineWriter::WriteValue(const Graph& g, const Value& v) {
  auto name = fbb_.CreateString(v.name);
  Offset<fb::Shape> shape = 0;
  if (v.shape) {
    std::vector<Offset<fb::Dim>> dims;
    for (const Dim& d : v.shape->dims()) {
      auto symbol = d.is_symbol() ? fbb_.CreateString(d.symbol()) : Offset<flatbuffers::String>();
      dims.push_back(fb::CreateDim(fbb_, d.is_static() ? d.value() : -1, symbol));
    }
    shape = fb::CreateShape(fbb_, fbb_.CreateVector(dims));
  }
  Offset<fb::WeightRef> constant = 0;
  if (v.constant) {
    FRT_ASSIGN_OR_RETURN(
        constant,
        WriteWeight(*v.constant, StrCat("constant \"", v.name, "\" of graph \"", g.name, "\"")));
  }
  return fb::CreateValue(fbb_, name, static_cast<fb::DType>(v.dtype), shape, v.is_graph_input,
                         v.is_outer_scope, constant);
}

Result<Offset<fb::Attribute>> EngineWriter::WriteAttribute(const Node& n, const std::string& name,
                                                           const AttrValue& value) {
  auto fb_name = fbb_.CreateString(name);
  // Children first, then the table.
  fb::AttrKind kind = fb::AttrKind::Int;
  int64_t i = 0;
  float f = 0.0f;
  Offset<flatbuffers::String> s = 0;
  Offset<flatbuffers::Vector<int64_t>> ints = 0;
  Offset<flatbuffers::Vector<float>> floats = 0;
  Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> strings = 0;
  Offset<fb::WeightRef> tensor = 0;
  Offset<fb::Graph> graph = 0;
  if (const auto* x = std::get_if<int64_t>(&value)) {
    i = *x;
  } else if (const auto* x = std::get_if<float>(&value)) {
    kind = fb::AttrKind::Float;
    f = *x;
  } else if (const auto* x = std::get_if<std::string>(&value)) {
    kind = fb::AttrKind::String;
    s = fbb_.CreateString(*x);
  } else if (const auto* x = std::get_if<std::vector<int64_t>>(&value)) {
    kind = fb::AttrKind::Ints;
    ints = fbb_.CreateVector(*x);
  } else if (const auto* x = std::get_if<std::vector<float>>(&value)) {
    kind = fb::AttrKind::Floats;
    floats = fbb_.CreateVector(*x);
  } else if (const auto* x = std::get_if<std::vector<std::string>>(&value)) {
    kind = fb::AttrKind::Strings;
    strings = fbb_.CreateVectorOfStrings(*x);
  } else if (const auto* x = std::get_if<Tensor>(&value)) {
    kind = fb::AttrKind::TensorAttr;
    FRT_ASSIGN_OR_RETURN(tensor, WriteWeight(*x, StrCat(n.Describe(), " attribute ", name)));
  } else if (const auto* x = std::get_if<std::shared_ptr<Graph>>(&value)) {
    kind = fb::AttrKind::GraphAttr;
    if (!*x) return Invalid(n.Describe(), " attribute ", name, " is a null graph");
    auto sub = WriteGraph(**x);
    if (!sub.ok()) return sub.status().WithPrefix(StrCat(n.Describe(), " attribute ", name));
    graph = *sub;
  }
  return fb::CreateAttribute(fbb_, fb_name, kind, i, f, s, ints, floats, strings, tensor, graph);
}

Result<Offset<fb::Node>> EngineWriter::WriteNode(
    const Graph& g, const Node& n, const std::unordered_map<const Value*, int32_t>& index) {
  auto indices = [&](const std::vector<Value*>& vs,
                     const char* what) -> Result<std::vector<int32_t>> {
    std::vector<int32_t> out;
    for (const Value* v : vs) {
      if (!v) {
        out.push_back(-1);
        continue;
      }
      auto it = index.find(v);
      if (it == index.end()) {
        return Invalid(n.Describe(), ": ", what, " \"", v->name, "\" is not a value of graph \"",
                       g.name, "\"");
      }
      out.push_back(it->second);
    }
    return out;
  };
  FRT_ASSIGN_OR_RETURN(std::vector<int32_t> in, indices(n.inputs, "input"));
  FRT_ASSIGN_OR_RETURN(std::vector<int32_t> out, indices(n.outputs, "output"));
  std::vector<Offset<fb::Attribute>> attrs;
  for (const auto& [name, value] : n.attrs.all()) {  // std::map: sorted by name
    FRT_ASSIGN_OR_RETURN(auto a, WriteAttribute(n, name, value));
    attrs.push_back(a);
  }
  return fb::CreateNode(fbb_, fbb_.CreateString(OpKindName(n.op)), fbb_.CreateString(n.name),
                        n.opset, fbb_.CreateVector(in), fbb_.CreateVector(out),
                        fbb_.CreateVector(attrs), fbb_.CreateVectorOfStrings(n.source_nodes));
}

Result<Offset<fb::Graph>> EngineWriter::WriteGraph(const Graph& g) {
  std::unordered_map<const Value*, int32_t> index;
  std::vector<Offset<fb::Value>> values;
  for (const Value* v : g.values()) {
    index[v] = static_cast<int32_t>(values.size());
    FRT_ASSIGN_OR_RETURN(auto fv, WriteValue(g, *v));
    values.push_back(fv);
  }
  std::vector<Offset<fb::Node>> nodes;
  for (const Node* n : g.nodes()) {
    FRT_ASSIGN_OR_RETURN(auto fn, WriteNode(g, *n, index));
    nodes.push_back(fn);
  }
  auto io = [&](const std::vector<Value*>& vs, const char* what) -> Result<std::vector<int32_t>> {
    std::vector<int32_t> out;
    for (const Value* v : vs) {
      auto it = v ? index.find(v) : index.end();
      if (it == index.end()) {
        return Invalid("graph \"", g.name, "\" ", what, " \"", v ? v->name : "<null>",
                       "\" is not a value of the graph");
      }
      out.push_back(it->second);
    }
    return out;
  };
  FRT_ASSIGN_OR_RETURN(std::vector<int32_t> inputs, io(g.inputs(), "input"));
  FRT_ASSIGN_OR_RETURN(std::vector<int32_t> outputs, io(g.outputs(), "output"));
  return fb::CreateGraph(fbb_, fbb_.CreateString(g.name), fbb_.CreateVector(values),
                         fbb_.CreateVector(nodes), fbb_.CreateVector(inputs),
                         fbb_.CreateVector(outputs));
}

Offset<fb::Target> EngineWriter::WriteTarget(const TargetInfo& t) {
  std::vector<Offset<fb::LibraryVersion>> libs;
  for (const auto& [name, version] : t.library_versions) {
    libs.push_back(
        fb::CreateLibraryVersion(fbb_, fbb_.CreateString(name), fbb_.CreateString(version)));
  }
  return fb::CreateTarget(fbb_, fbb_.CreateString(t.backend), fbb_.CreateString(t.device_name),
                          t.compute_capability, fbb_.CreateVector(libs));
}

Result<Offset<fb::Profile>> EngineWriter::WriteProfile(const Profile& p) {
  std::vector<Offset<fb::ProfileInput>> inputs;
  for (const ProfileInput& in : p.inputs) {
    inputs.push_back(fb::CreateProfileInput(fbb_, fbb_.CreateString(in.name),
                                            fbb_.CreateVector(in.min), fbb_.CreateVector(in.opt),
                                            fbb_.CreateVector(in.max)));
  }
  std::vector<Offset<fb::MemorySlot>> slots;
  for (const MemorySlot& s : p.memory.slots) {
    slots.push_back(fb::CreateMemorySlot(fbb_, fbb_.CreateString(s.value), s.offset, s.size,
                                         s.first_step, s.last_step));
  }
  return fb::CreateProfile(fbb_, fbb_.CreateVector(inputs), fbb_.CreateVector(slots),
                           p.memory.arena_size, p.memory.naive_size);
}

Result<std::vector<uint8_t>> EngineWriter::Write(const Plan& plan) {
  if (!plan.graph) return Invalid("the plan has no graph");
  if (plan.profiles.empty()) return Invalid("the plan has no optimization profile");
  FRT_ASSIGN_OR_RETURN(auto graph, WriteGraph(*plan.graph));

  const int64_t num_nodes = static_cast<int64_t>(plan.graph->num_nodes());
  uint64_t tactic_bytes = 0;
  std::vector<Offset<fb::Step>> steps;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const PlanStep& s = plan.steps[i];
    if (s.node < 0 || s.node >= num_nodes) {
      return Invalid("step ", i, " names node ", s.node, ", the graph has ", num_nodes, " nodes");
    }
    if (!IsValidTacticName(s.tactic)) {
      return Invalid("step ", i, " tactic \"", s.tactic,
                     "\" is not of the form <backend>.<kernel>[.<variant>]");
    }
    tactic_bytes += s.tactic_data.size();
    if (tactic_bytes > kMaxTacticDataBytes) {
      return Invalid("tactic data exceeds ", kMaxTacticDataBytes, " bytes in total");
    }
    steps.push_back(fb::CreateStep(fbb_, s.node, fbb_.CreateString(s.tactic),
                                   static_cast<fb::DType>(s.precision),
                                   fbb_.CreateVector(s.tactic_data)));
  }
  std::vector<Offset<fb::Profile>> profiles;
  for (const Profile& p : plan.profiles) {
    FRT_ASSIGN_OR_RETURN(auto fp, WriteProfile(p));
    profiles.push_back(fp);
  }
  auto target = WriteTarget(plan.target);
  const BuildInfo& b = plan.build;
  auto build = fb::CreateBuildInfo(fbb_, fbb_.CreateString(b.fusionrt_version), b.fp16, b.bf16,
                                   b.optimization_level, b.memory_limit);
  auto engine = fb::CreateEngine(fbb_, target, build, graph, fbb_.CreateVector(steps),
                                 fbb_.CreateVector(profiles));
  fb::FinishEngineBuffer(fbb_, engine);

  const uint64_t metadata_offset = kEngineHeaderSize;
  const uint64_t metadata_size = fbb_.GetSize();
  const uint64_t weights_offset = AlignUp(metadata_offset + metadata_size, kWeightAlignment);
  const uint64_t file_size = weights_offset + weights_size_;
  std::vector<uint8_t> out(file_size, 0);
  std::memcpy(out.data() + metadata_offset, fbb_.GetBufferPointer(), metadata_size);
  for (const Blob& blob : blobs_) {
    std::memcpy(out.data() + weights_offset + blob.offset, blob.data, blob.size);
  }
  uint8_t* h = out.data();
  std::memcpy(h, kEngineMagic.data(), kEngineMagic.size());
  StoreLe32(h + kHeaderVersionOffset, kEngineFormatVersion);
  StoreLe32(h + kHeaderSizeOffset, kEngineHeaderSize);
  StoreLe64(h + kHeaderMetadataOffsetOffset, metadata_offset);
  StoreLe64(h + kHeaderMetadataSizeOffset, metadata_size);
  StoreLe64(h + kHeaderWeightsOffsetOffset, weights_offset);
  StoreLe64(h + kHeaderWeightsSizeOffset, weights_size_);
  StoreLe32(h + kHeaderChecksumOffset, Crc32c({h, kHeaderChecksumOffset}));
  StoreLe32(h + kMetadataChecksumOffset, Crc32c({h + metadata_offset, metadata_size}));
  StoreLe32(h + kWeightsChecksumOffset, Crc32c({h + weights_offset, weights_size_}));
  return out;
}

// write(2) until done, retrying on EINTR and short writes.
Status WriteAll(int fd, const uint8_t* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      return MakeError(StatusCode::kIoError, "writing engine file \"", path,
                       "\" failed: ", std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<uint8_t>> WriteEngine(const Plan& plan) { return EngineWriter().Write(plan); }

Status WriteEngineFile(const Plan& plan, const std::string& path) {
  FRT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, WriteEngine(plan));
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = StrCat(path, ".tmp.", ::getpid(), ".", counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return MakeError(StatusCode::kIoError, "cannot create engine file \"", tmp,
                     "\": ", std::strerror(errno));
  }
  Status s = WriteAll(fd, bytes.data(), bytes.size(), tmp);
  // fsync before rename: after a crash the path holds the old or the new engine, never a mix.
  if (s.ok() && ::fsync(fd) != 0) {
    s = MakeError(StatusCode::kIoError, "flushing engine file \"", tmp,
                  "\" failed: ", std::strerror(errno));
  }
  if (::close(fd) != 0 && s.ok()) {
    s = MakeError(StatusCode::kIoError, "closing engine file \"", tmp,
                  "\" failed: ", std::strerror(errno));
  }
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    s = MakeError(StatusCode::kIoError, "renaming \"", tmp, "\" to \"", path,
                  "\" failed: ", std::strerror(errno));
  }
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

}  // namespace frt
