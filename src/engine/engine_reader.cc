// Engine reader: engine-file bytes -> Plan, and the target check.
//
// Verify first, then read. The bytes are copied once into a 256-byte aligned
// buffer that the Plan keeps (Plan::storage); every later step works on that
// copy, so nothing the caller changes afterwards can invalidate a check. In
// order (docs/engine_format.md, "Verification on load"): magic, format
// version, header length, header checksum, header fields and section bounds,
// inter-section padding, metadata and weights checksums, the FlatBuffers
// verifier (bounds of every table, vector and string; depth and table count
// bounded by the metadata size). Only then is the metadata converted into IR,
// checking every index, dtype, dim, weight reference, op name and value name
// as it goes; the finished graph must pass the IR verifier, the steps must be
// a valid execution order and the profiles must name existing values.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <unordered_set>

#include "engine/checksum.h"
#include "engine/engine_format.h"
#include "engine/engine_generated.h"
#include "ir/verifier.h"

namespace frt {
namespace {

static_assert(std::endian::native == std::endian::little,
              "engine files store raw little-endian tensors; big-endian hosts are unsupported");

uint32_t LoadLe32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

template <class T>
uint32_t Count(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

// The verifier checks vectors for 4-byte alignment only, so a crafted file can
// misalign the elements of an 8-byte vector: copy them out bytewise instead of
// dereferencing (the host is little-endian, like the file).
std::vector<int64_t> ToInt64s(const flatbuffers::Vector<int64_t>* v) {
  std::vector<int64_t> out(Count(v));
  if (!out.empty()) std::memcpy(out.data(), v->Data(), out.size() * sizeof(int64_t));
  return out;
}
Dims ToDims(const flatbuffers::Vector<int64_t>* v) { return ToInt64s(v); }

// A buffer of at least `n` bytes aligned to kWeightAlignment, freed with the last reference.
Result<std::shared_ptr<uint8_t>> AllocateAligned(size_t n, const std::string& source) {
  if (n > HostAllocationLimit() || n > SIZE_MAX - kWeightAlignment) {
    return MakeError(StatusCode::kResourceExhausted, "engine \"", source, "\" is ", n,
                     " bytes, above the host allocation limit of ", HostAllocationLimit(),
                     " bytes");
  }
  size_t rounded = (n / kWeightAlignment + 1) * kWeightAlignment;
  void* p = std::aligned_alloc(kWeightAlignment, rounded);
  if (p == nullptr) {
    return MakeError(StatusCode::kResourceExhausted, "out of host memory reading engine \"", source,
                     "\" (", n, " bytes)");
  }
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}

class EngineReader {
 public:
  EngineReader(std::shared_ptr<uint8_t> buf, size_t size, const std::string& source)
      : buf_(std::move(buf)), size_(size), source_(source) {}
  Result<Plan> Read();

 private:
  template <class... Args>
  Status Error(const Args&... args) const {
    return MakeError(StatusCode::kInvalidEngine, "engine \"", source_, "\": ", args...);
  }
  Status CheckLayout();
  Result<DType> ReadDType(fb::DType t, const std::string& what) const;
  Result<Tensor> ReadWeight(const fb::WeightRef* ref, const std::string& what) const;
  Status ReadValue(const fb::Value* fv, uint32_t i, Graph& g, const std::string& where);
  Status ReadNode(const fb::Node* fn, uint32_t i, Graph& g, const std::vector<Value*>& values,
                  const std::string& where);
  Status ReadAttribute(const fb::Attribute* fa, Node& n, Graph& g, const std::string& where);
  Status ReadGraph(const fb::Graph* fg, Graph& g, const std::string& where);
  Status ReadSteps(const fb::Engine& e, Plan& plan) const;
  Status ReadProfiles(const fb::Engine& e, Plan& plan) const;
  Status ReadTarget(const fb::Engine& e, Plan& plan) const;

  std::shared_ptr<uint8_t> buf_;
  size_t size_;
  const std::string& source_;
  const uint8_t* metadata_ = nullptr;
  uint64_t metadata_size_ = 0;
  uint8_t* weights_ = nullptr;
  uint64_t weights_size_ = 0;
};

Status EngineReader::CheckLayout() {
  const uint8_t* h = buf_.get();
  if (size_ >= kEngineMagic.size() && std::memcmp(h, kEngineMagic.data(), kEngineMagic.size())) {
    return Error(
        "not a FusionRT engine file (it does not start with the magic bytes "
        "\"FRTENGN\\0\")");
  }
  if (size_ >= kHeaderVersionOffset + 4) {
    uint32_t version = LoadLe32(h + kHeaderVersionOffset);
    if (version != kEngineFormatVersion) {
      return Error("built by a", version > kEngineFormatVersion ? " newer" : "n older",
                   " FusionRT, engine format ", version, ", this build reads format ",
                   kEngineFormatVersion, "; rebuild the engine");
    }
  }
  if (size_ < kEngineHeaderSize) {
    return Error("file is ", size_, " bytes, shorter than the ", kEngineHeaderSize,
                 "-byte engine header (truncated?)");
  }
  uint32_t stored = LoadLe32(h + kHeaderChecksumOffset);
  uint32_t actual = Crc32c({h, kHeaderChecksumOffset});
  if (stored != actual) {
    return Error("header checksum mismatch (stored ", stored, ", computed ", actual,
                 "): the header is corrupt");
  }
  uint32_t header_size = LoadLe32(h + kHeaderSizeOffset);
  if (header_size != kEngineHeaderSize || LoadLe32(h + kWeightsChecksumOffset + 4) != 0) {
    return Error("header size field is ", header_size, " and reserved bytes must be zero; format ",
                 kEngineFormatVersion, " expects a ", kEngineHeaderSize, "-byte header");
  }
  const uint64_t mo = LoadLe64(h + kHeaderMetadataOffsetOffset);
  const uint64_t ms = LoadLe64(h + kHeaderMetadataSizeOffset);
  const uint64_t wo = LoadLe64(h + kHeaderWeightsOffsetOffset);
  const uint64_t ws = LoadLe64(h + kHeaderWeightsSizeOffset);
  if (mo < kEngineHeaderSize || mo % 8 != 0) {
    return Error("metadata offset ", mo, " must be a multiple of 8 after the ", kEngineHeaderSize,
                 "-byte header");
  }
  if (ms > size_ || mo > size_ - ms) {
    return Error("metadata section (offset ", mo, ", ", ms, " bytes) extends past the end of the ",
                 size_, "-byte file (truncated?)");
  }
  if (ms < 8 || ms >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return Error("metadata section is ", ms, " bytes; expected 8 to ",
                 FLATBUFFERS_MAX_BUFFER_SIZE - 1);
  }
  if (ws > size_ || wo > size_ - ws) {
    return Error("weights section (offset ", wo, ", ", ws, " bytes) extends past the end of the ",
                 size_, "-byte file (truncated?)");
  }
  if (wo % kWeightAlignment != 0) {
    return Error("weights offset ", wo, " is not a multiple of ", kWeightAlignment);
  }
  if (wo < mo + ms) {
    return Error("weights section at offset ", wo, " overlaps the metadata section ending at ",
                 mo + ms);
  }
  if (wo + ws != size_) {
    return Error("file is ", size_, " bytes but its weights section ends at ", wo + ws,
                 " (trailing bytes)");
  }
  for (uint64_t i = kEngineHeaderSize; i < wo; ++i) {
    if (i == mo) i = mo + ms;
    if (i < wo && h[i] != 0) return Error("padding byte at offset ", i, " is not zero (corrupt)");
  }
  metadata_ = h + mo;
  metadata_size_ = ms;
  weights_ = buf_.get() + wo;
  weights_size_ = ws;
  stored = LoadLe32(h + kMetadataChecksumOffset);
  actual = Crc32c({metadata_, metadata_size_});
  if (stored != actual) {
    return Error("metadata checksum mismatch (stored ", stored, ", computed ", actual,
                 "): the metadata section is corrupt");
  }
  stored = LoadLe32(h + kWeightsChecksumOffset);
  actual = Crc32c({weights_, weights_size_});
  if (stored != actual) {
    return Error("weights checksum mismatch (stored ", stored, ", computed ", actual,
                 "): the weights section is corrupt");
  }
  return Status::Ok();
}

Result<DType> EngineReader::ReadDType(fb::DType t, const std::string& what) const {
  if (static_cast<uint8_t>(t) > static_cast<uint8_t>(fb::DType::MAX)) {
    return Error(what, " has unknown dtype code ", static_cast<int>(t), " (known: 0..",
                 static_cast<int>(fb::DType::MAX), ")");
  }
  return static_cast<DType>(t);
}

Result<Tensor> EngineReader::ReadWeight(const fb::WeightRef* ref, const std::string& what) const {
  if (!ref) return Error(what, " has no weight reference");
  FRT_ASSIGN_OR_RETURN(DType dtype, ReadDType(ref->dtype(), what));
  if (dtype == DType::kUndefined) return Error(what, " has undefined dtype");
  Dims dims = ToDims(ref->dims());
  auto n = NumElements(dims);
  if (!n.ok()) return Error(what, ": bad dims ", DimsToString(dims), ": ", n.status().message());
  const uint64_t elem = DTypeSize(dtype);
  if (static_cast<uint64_t>(*n) > UINT64_MAX / elem) {
    return Error(what, ": ", DimsToString(dims), " overflows a byte count");
  }
  const uint64_t bytes = static_cast<uint64_t>(*n) * elem;
  if (ref->size() != bytes) {
    return Error(what, ": weight size ", ref->size(), " bytes, expected ", bytes, " for ",
                 DTypeName(dtype), DimsToString(dims));
  }
  if (ref->offset() % kWeightAlignment != 0) {
    return Error(what, ": weight offset ", ref->offset(), " is not a multiple of ",
                 kWeightAlignment);
  }
  if (ref->offset() > weights_size_ || bytes > weights_size_ - ref->offset()) {
    return Error(what, ": weight bytes [", ref->offset(), ", +", bytes,
                 ") lie outside the weights section of ", weights_size_, " bytes");
  }
  return Tensor::View(dtype, std::move(dims), weights_ + ref->offset());
}

Status EngineReader::ReadValue(const fb::Value* fv, uint32_t i, Graph& g,
                               const std::string& where) {
  if (!fv->name()) return Error(where, ": value ", i, " has no name");
  auto added = g.AddValue(fv->name()->str());
  if (!added.ok()) return Error(where, ": value name \"", fv->name()->str(), "\" appears twice");
  Value* v = *added;
  const std::string what = StrCat(where, " value \"", v->name, "\"");
  FRT_ASSIGN_OR_RETURN(v->dtype, ReadDType(fv->dtype(), what));
  if (const fb::Shape* fs = fv->shape()) {
    std::vector<Dim> dims;
    for (uint32_t d = 0; d < Count(fs->dims()); ++d) {
      const fb::Dim* fd = fs->dims()->Get(d);
      if (fd->value() < -1 || (fd->value() >= 0 && fd->symbol())) {
        return Error(what, ": dim ", d, " has value ", fd->value(),
                     fd->symbol() ? " and a symbol" : "", "; expected a size >= 0, or -1 with ",
                     "an optional symbol");
      }
      dims.push_back(fd->value() >= 0 ? Dim(fd->value())
                     : fd->symbol()   ? Dim::Symbol(fd->symbol()->str())
                                      : Dim::Unknown());
    }
    v->shape = Shape(std::move(dims));
  }
  if (fv->constant()) {
    FRT_ASSIGN_OR_RETURN(v->constant, ReadWeight(fv->constant(), what));
  }
  v->is_outer_scope = fv->is_outer_scope();
  if (v->is_outer_scope) {
    bool found = false;
    for (const Graph* p = g.parent; p && !found; p = p->parent) found = p->FindValue(v->name);
    if (!found) {
      return Error(what, " is marked outer-scope but no enclosing graph defines it");
    }
  }
  return Status::Ok();
}

Status EngineReader::ReadAttribute(const fb::Attribute* fa, Node& n, Graph& g,
                                   const std::string& where) {
  if (!fa->name()) return Error(where, ": an attribute has no name");
  const std::string name = fa->name()->str();
  if (n.attrs.Has(name)) return Error(where, ": attribute ", name, " appears twice");
  const std::string what = StrCat(where, " attribute ", name);
  auto list = [](const auto* v) {
    using T = std::remove_cvref_t<decltype(v->Get(0))>;
    std::vector<T> out;
    for (uint32_t i = 0; i < Count(v); ++i) out.push_back(v->Get(i));
    return out;
  };
  switch (fa->kind()) {
    case fb::AttrKind::Int:
      n.attrs.Set(name, fa->i());
      break;
    case fb::AttrKind::Float:
      n.attrs.Set(name, fa->f());
      break;
    case fb::AttrKind::String:
      n.attrs.Set(name, Str(fa->s()));
      break;
    case fb::AttrKind::Ints:
      n.attrs.Set(name, ToInt64s(fa->ints()));
      break;
    case fb::AttrKind::Floats:
      n.attrs.Set(name, list(fa->floats()));
      break;
    case fb::AttrKind::Strings: {
      std::vector<std::string> out;
      for (uint32_t i = 0; i < Count(fa->strings()); ++i)
        out.push_back(fa->strings()->Get(i)->str());
      n.attrs.Set(name, std::move(out));
      break;
    }
    case fb::AttrKind::TensorAttr: {
      FRT_ASSIGN_OR_RETURN(Tensor t, ReadWeight(fa->tensor(), what));
      n.attrs.Set(name, std::move(t));
      break;
    }
    case fb::AttrKind::GraphAttr: {
      auto sub = std::make_shared<Graph>();
      sub->parent = &g;  // before reading: its outer-scope values are resolved through it
      FRT_RETURN_IF_ERROR(ReadGraph(fa->graph(), *sub, StrCat(what, " subgraph")));
      n.attrs.Set(name, std::move(sub));
      break;
    }
    default:
      return Error(what, " has unknown kind ", static_cast<int>(fa->kind()), " (known: 0..",
                   static_cast<int>(fb::AttrKind::MAX), ")");
  }
  return Status::Ok();
}

Status EngineReader::ReadNode(const fb::Node* fn, uint32_t i, Graph& g,
                              const std::vector<Value*>& values, const std::string& where) {
  const std::string op_name = Str(fn->op_type());
  std::optional<OpKind> op = OpKindFromName(op_name);
  if (!op) {
    return Error(where, ": node ", i, " (\"", Str(fn->name()), "\") has unknown op type \"",
                 op_name, "\"; this build of FusionRT does not implement it");
  }
  Node* n = g.AddNode(*op, Str(fn->name()));
  n->opset = fn->opset();
  const std::string what = StrCat(where, " node ", i, " ", n->Describe());
  auto value_at = [&](int32_t idx, const char* role) -> Result<Value*> {
    if (idx == -1) return static_cast<Value*>(nullptr);
    if (idx < 0 || static_cast<size_t>(idx) >= values.size()) {
      return Error(what, ": ", role, " value index ", idx, " out of range [-1, ", values.size(),
                   ")");
    }
    return values[idx];
  };
  for (uint32_t k = 0; k < Count(fn->inputs()); ++k) {
    FRT_ASSIGN_OR_RETURN(Value * v, value_at(fn->inputs()->Get(k), "input"));
    n->inputs.push_back(v);
  }
  for (uint32_t k = 0; k < Count(fn->outputs()); ++k) {
    FRT_ASSIGN_OR_RETURN(Value * v, value_at(fn->outputs()->Get(k), "output"));
    if (v && v->producer) {
      return Error(what, ": output \"", v->name, "\" is already produced by ",
                   v->producer->Describe());
    }
    if (v) v->producer = n;
    n->outputs.push_back(v);
  }
  for (uint32_t k = 0; k < Count(fn->attributes()); ++k) {
    FRT_RETURN_IF_ERROR(ReadAttribute(fn->attributes()->Get(k), *n, g, what));
  }
  for (uint32_t k = 0; k < Count(fn->source_nodes()); ++k) {
    n->source_nodes.push_back(fn->source_nodes()->Get(k)->str());
  }
  return Status::Ok();
}

Status EngineReader::ReadGraph(const fb::Graph* fg, Graph& g, const std::string& where) {
  if (!fg) return Error(where, " is missing");
  g.name = Str(fg->name());
  const std::string here = StrCat(where, " \"", g.name, "\"");
  // All values first: nodes (and nested subgraphs' outer-scope references) refer to them.
  for (uint32_t i = 0; i < Count(fg->values()); ++i) {
    FRT_RETURN_IF_ERROR(ReadValue(fg->values()->Get(i), i, g, here));
  }
  const std::vector<Value*> values = g.values();
  for (uint32_t i = 0; i < Count(fg->nodes()); ++i) {
    FRT_RETURN_IF_ERROR(ReadNode(fg->nodes()->Get(i), i, g, values, here));
  }
  auto value_at = [&](int32_t idx, const char* role) -> Result<Value*> {
    if (idx < 0 || static_cast<size_t>(idx) >= values.size()) {
      return Error(here, ": ", role, " value index ", idx, " out of range [0, ", values.size(),
                   ")");
    }
    return values[idx];
  };
  for (uint32_t i = 0; i < Count(fg->inputs()); ++i) {
    FRT_ASSIGN_OR_RETURN(Value * v, value_at(fg->inputs()->Get(i), "graph input"));
    g.AddInput(v);
  }
  for (uint32_t i = 0; i < Count(fg->outputs()); ++i) {
    FRT_ASSIGN_OR_RETURN(Value * v, value_at(fg->outputs()->Get(i), "graph output"));
    g.AddOutput(v);
  }
  for (uint32_t i = 0; i < values.size(); ++i) {
    if (values[i]->is_graph_input != fg->values()->Get(i)->is_graph_input()) {
      return Error(here, " value \"", values[i]->name, "\": is_graph_input flag disagrees with ",
                   "the graph's input list");
    }
  }
  return Status::Ok();
}

Status EngineReader::ReadSteps(const fb::Engine& e, Plan& plan) const {
  const Graph& g = *plan.graph;
  const std::vector<Node*> nodes = g.nodes();
  // Values readable so far: graph inputs, constants, then outputs of earlier steps.
  std::unordered_set<const Value*> ready;
  for (const Value* v : g.values()) {
    if (v->is_graph_input || v->constant) ready.insert(v);
  }
  std::vector<bool> scheduled(nodes.size(), false);
  for (uint32_t i = 0; i < Count(e.steps()); ++i) {
    const fb::Step* fs = e.steps()->Get(i);
    PlanStep step;
    step.node = fs->node();
    if (step.node < 0 || static_cast<size_t>(step.node) >= nodes.size()) {
      return Error("step ", i, " names node ", step.node, ", out of range [0, ", nodes.size(), ")");
    }
    const Node* n = nodes[step.node];
    if (scheduled[step.node]) return Error("step ", i, ": ", n->Describe(), " is run twice");
    scheduled[step.node] = true;
    for (const Value* in : n->inputs) {
      if (in && !ready.count(in)) {
        return Error("steps are not a valid order: step ", i, " (", n->Describe(), ") reads \"",
                     in->name, "\" before any step produces it");
      }
    }
    for (const Value* out : n->outputs) {
      if (out) ready.insert(out);
    }
    step.tactic = Str(fs->tactic());
    if (!IsValidTacticName(step.tactic)) {
      return Error("step ", i, " tactic \"", step.tactic,
                   "\" is not of the form <backend>.<kernel>[.<variant>]");
    }
    FRT_ASSIGN_OR_RETURN(step.precision, ReadDType(fs->precision(), StrCat("step ", i)));
    if (fs->tactic_data())
      step.tactic_data.assign(fs->tactic_data()->begin(), fs->tactic_data()->end());
    plan.steps.push_back(std::move(step));
  }
  for (const Value* out : g.outputs()) {
    if (!ready.count(out)) {
      return Error("steps are not a valid order: graph output \"", out->name,
                   "\" is never computed");
    }
  }
  return Status::Ok();
}

Status EngineReader::ReadProfiles(const fb::Engine& e, Plan& plan) const {
  if (Count(e.profiles()) == 0) return Error("has no optimization profile; expected at least one");
  const Graph& g = *plan.graph;
  for (uint32_t p = 0; p < Count(e.profiles()); ++p) {
    const fb::Profile* fp = e.profiles()->Get(p);
    Profile profile;
    std::set<std::string> seen;
    for (uint32_t i = 0; i < Count(fp->inputs()); ++i) {
      const fb::ProfileInput* fi = fp->inputs()->Get(i);
      ProfileInput in;
      in.name = Str(fi->name());
      const std::string what = StrCat("profile ", p, " input \"", in.name, "\"");
      const Value* v = g.FindValue(in.name);
      if (!v || !v->is_graph_input) return Error(what, " is not a graph input");
      if (!seen.insert(in.name).second) return Error(what, " appears twice");
      in.min = ToDims(fi->min());
      in.opt = ToDims(fi->opt());
      in.max = ToDims(fi->max());
      bool ok = in.min.size() == in.opt.size() && in.opt.size() == in.max.size();
      for (size_t d = 0; ok && d < in.min.size(); ++d) {
        ok = 0 <= in.min[d] && in.min[d] <= in.opt[d] && in.opt[d] <= in.max[d];
      }
      if (!ok) {
        return Error(what, ": expected 0 <= min <= opt <= max of one rank, got min ",
                     DimsToString(in.min), " opt ", DimsToString(in.opt), " max ",
                     DimsToString(in.max));
      }
      profile.inputs.push_back(std::move(in));
    }
    MemoryPlan& mem = profile.memory;
    mem.arena_size = fp->arena_size();
    mem.naive_size = fp->naive_size();
    seen.clear();
    for (uint32_t i = 0; i < Count(fp->slots()); ++i) {
      const fb::MemorySlot* fs = fp->slots()->Get(i);
      MemorySlot s{Str(fs->value()), fs->offset(), fs->size(), fs->first_step(), fs->last_step()};
      const std::string what = StrCat("profile ", p, " memory slot ", i, " (\"", s.value, "\")");
      if (!g.FindValue(s.value)) return Error(what, " names no value of the graph");
      if (!seen.insert(s.value).second) return Error(what, ": the value has two slots");
      if (s.offset % kArenaAlignment != 0 || s.offset > mem.arena_size ||
          s.size > mem.arena_size - s.offset) {
        return Error(what, ": bytes [", s.offset, ", +", s.size, ") must be ", kArenaAlignment,
                     "-aligned and inside the ", mem.arena_size, "-byte arena");
      }
      if (s.first_step < 0 || s.first_step > s.last_step ||
          static_cast<size_t>(s.last_step) >= plan.steps.size()) {
        return Error(what, ": live steps [", s.first_step, ", ", s.last_step,
                     "] must satisfy 0 <= first <= last < ", plan.steps.size());
      }
      mem.slots.push_back(std::move(s));
    }
    plan.profiles.push_back(std::move(profile));
  }
  return Status::Ok();
}

Status EngineReader::ReadTarget(const fb::Engine& e, Plan& plan) const {
  const fb::Target* t = e.target();
  if (!t || !t->backend() || t->backend()->size() == 0) return Error("names no target backend");
  plan.target.backend = t->backend()->str();
  plan.target.device_name = Str(t->device_name());
  plan.target.compute_capability = t->compute_capability();
  for (uint32_t i = 0; i < Count(t->library_versions()); ++i) {
    const fb::LibraryVersion* lib = t->library_versions()->Get(i);
    if (!plan.target.library_versions.emplace(Str(lib->name()), Str(lib->version())).second) {
      return Error("target library \"", Str(lib->name()), "\" is listed twice");
    }
  }
  if (const fb::BuildInfo* b = e.build()) {
    plan.build.fusionrt_version = Str(b->fusionrt_version());
    plan.build.fp16 = b->fp16();
    plan.build.bf16 = b->bf16();
    plan.build.optimization_level = b->optimization_level();
    plan.build.memory_limit = b->memory_limit();
  }
  return Status::Ok();
}

Result<Plan> EngineReader::Read() {
  FRT_RETURN_IF_ERROR(CheckLayout());
  flatbuffers::Verifier::Options options;
  options.max_depth = 128;  // about 25 levels of nested subgraphs
  // Every table takes at least 4 bytes, so a legitimate file has fewer tables than this;
  // the bound also caps verification work on a file whose offsets share subtrees.
  options.max_tables = static_cast<flatbuffers::uoffset_t>(metadata_size_ / 4 + 1);
  flatbuffers::Verifier verifier(metadata_, metadata_size_, options);
  if (!fb::VerifyEngineBuffer(verifier)) {
    return Error("metadata fails FlatBuffers verification (corrupt, or not FusionRT metadata)");
  }
  const fb::Engine& e = *fb::GetEngine(metadata_);
  Plan plan;
  plan.graph = std::make_unique<Graph>();
  FRT_RETURN_IF_ERROR(ReadGraph(e.graph(), *plan.graph, "graph"));
  if (Status s = VerifyGraph(*plan.graph); !s.ok()) {
    return Error("the graph fails IR verification: ", s.message());
  }
  FRT_RETURN_IF_ERROR(ReadSteps(e, plan));
  FRT_RETURN_IF_ERROR(ReadProfiles(e, plan));
  FRT_RETURN_IF_ERROR(ReadTarget(e, plan));
  plan.storage = buf_;
  return plan;
}

// Reads the open file `fd` of `size` bytes into an aligned buffer.
Result<std::shared_ptr<uint8_t>> ReadAll(int fd, size_t size, const std::string& path) {
  FRT_ASSIGN_OR_RETURN(std::shared_ptr<uint8_t> buf, AllocateAligned(size, path));
  size_t done = 0;
  while (done < size) {
    ssize_t r = ::read(fd, buf.get() + done, size - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      return MakeError(
          StatusCode::kIoError, "reading engine file \"", path, "\" failed after ", done, " of ",
          size, " bytes: ", r < 0 ? std::strerror(errno) : "the file shrank while being read");
    }
    done += static_cast<size_t>(r);
  }
  return buf;
}

}  // namespace

Result<Plan> ReadEngine(std::span<const uint8_t> bytes, const std::string& source) {
  FRT_ASSIGN_OR_RETURN(std::shared_ptr<uint8_t> buf, AllocateAligned(bytes.size(), source));
  if (!bytes.empty()) std::memcpy(buf.get(), bytes.data(), bytes.size());
  return EngineReader(std::move(buf), bytes.size(), source).Read();
}

Result<Plan> ReadEngineFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return MakeError(errno == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError,
                     "cannot open engine file \"", path, "\": ", std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return MakeError(StatusCode::kIoError, "engine file \"", path, "\" is not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  Result<std::shared_ptr<uint8_t>> buf = ReadAll(fd, size, path);
  ::close(fd);
  if (!buf.ok()) return buf.status();
  return EngineReader(std::move(*buf), size, path).Read();
}

std::string DescribeTarget(const TargetInfo& t) {
  std::string out = t.backend;
  if (t.compute_capability > 0 || !t.device_name.empty()) {
    out += " (";
    if (t.compute_capability > 0) out += StrCat("sm_", t.compute_capability);
    if (t.compute_capability > 0 && !t.device_name.empty()) out += ", ";
    out += t.device_name + ")";
  }
  return out;
}

Status CheckTarget(const TargetInfo& built_for, const TargetInfo& host, const std::string& source) {
  auto error = [&](const auto&... args) {
    return MakeError(StatusCode::kInvalidEngine, "engine \"", source, "\" built for ",
                     DescribeTarget(built_for), " cannot run on ", DescribeTarget(host), args...);
  };
  if (built_for.backend != host.backend) return error();
  if (built_for.backend != "cuda") return Status::Ok();
  if (built_for.compute_capability != host.compute_capability) {
    return error(": compute capability sm_", built_for.compute_capability, " expected, the device ",
                 "has sm_", host.compute_capability, "; rebuild the engine on this GPU");
  }
  auto major = [](const std::string& v) { return v.substr(0, v.find('.')); };
  for (const auto& [lib, version] : built_for.library_versions) {
    auto it = host.library_versions.find(lib);
    if (it == host.library_versions.end()) {
      return error(": it was built against ", lib, " ", version, ", which the host does not have");
    }
    if (major(it->second) != major(version)) {
      return error(": it was built against ", lib, " ", version, ", the host has ", it->second,
                   " (major versions differ); rebuild the engine");
    }
  }
  return Status::Ok();
}

}  // namespace frt
