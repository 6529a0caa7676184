// Engine file format tests: CRC-32C against a bitwise reference, round trips
// (a hand-built plan covering every field and attribute variant, and the
// bundled tiny transformer run through the reference executor), determinism,
// and rejection of corrupt, truncated, foreign, future and inconsistent files
// (byte flips, truncations, in-place edits of metadata fields with the
// checksum recomputed so that the deeper checks are reached).
#include "engine/engine_format.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <unordered_map>

#include "backends/cpu/reference_executor.h"
#include "engine/checksum.h"
#include "engine/engine_generated.h"
#include "ir/printer.h"
#include "onnx/importer.h"
#include "engine_bytes.h"
#include "test_util.h"

namespace frt {
namespace {

using testing_util::FixHeaderCrc;
using testing_util::Le64;
using testing_util::PutLe32;
using testing_util::PutLe64;

// ---------------------------------------------------------------- helpers

uint32_t BitwiseCrc32c(const std::vector<uint8_t>& data) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t byte : data) {
    c ^= byte;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}

void FixMetadataCrc(std::vector<uint8_t>& b) {
  uint64_t mo = Le64(b, kHeaderMetadataOffsetOffset), ms = Le64(b, kHeaderMetadataSizeOffset);
  PutLe32(b, kMetadataChecksumOffset, Crc32c({b.data() + mo, ms}));
}
// Overwrites character i of a string inside a mutable buffer. Goes through
// uintptr_t because GCC's object-size analysis (under ASan) takes the
// flatbuffers::String object for the whole string and warns.
void SetChar(const flatbuffers::String* s, size_t i, char c) {
  ASSERT_LT(i, s->size());
  *reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(s->c_str()) + i) = c;
}
fb::Engine* MutableMetadata(std::vector<uint8_t>& b) {
  return fb::GetMutableEngine(b.data() + Le64(b, kHeaderMetadataOffsetOffset));
}

template <class T>
Tensor RandomTensor(std::mt19937& rng, Dims dims) {
  Tensor t = Tensor::Allocate(DTypeOf<T>(), dims).value();
  std::uniform_real_distribution<float> u(-4.0f, 4.0f);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if constexpr (std::is_same_v<T, bool>) {
      t.data<bool>()[i] = (rng() & 1) != 0;
    } else {
      t.data<T>()[i] = FromDouble<T>(std::is_integral_v<T> ? static_cast<double>(rng() % 100)
                                                           : static_cast<double>(u(rng)));
    }
  }
  return t;
}

Value* AddValue(Graph& g, const std::string& name, DType dtype, std::optional<Shape> shape) {
  Value* v = g.AddValue(name).value();
  v->dtype = dtype;
  v->shape = std::move(shape);
  return v;
}
Value* AddConst(Graph& g, const std::string& name, Tensor t) {
  Value* v = AddValue(g, name, t.dtype(), Shape::FromDims(t.dims()));
  v->constant = std::move(t);
  return v;
}
Node* AddNode(Graph& g, OpKind op, const std::string& name, std::vector<Value*> in,
              std::vector<Value*> out) {
  Node* n = g.AddNode(op, name);
  n->opset = 17;
  n->inputs = std::move(in);
  n->outputs = std::move(out);
  for (Value* v : n->outputs) {
    if (v) v->producer = n;
  }
  return n;
}

// A plan touching every field: constants of many dtypes (one empty), symbolic,
// unknown and unknown-rank shapes, absent inputs/outputs, an If whose branches
// read an outer-scope value (one branch has its own constant), every attribute
// variant, source_nodes, two profiles with memory plans, tactic data.
Plan MakeHandPlan(std::mt19937& rng) {
  Plan plan;
  plan.graph = std::make_unique<Graph>();
  Graph& g = *plan.graph;
  g.name = "hand";
  const Shape batch8({Dim::Symbol("batch"), Dim(8)});
  Value* x = AddValue(g, "x", DType::kFloat32, batch8);
  Value* cond = AddValue(g, "cond", DType::kBool, Shape());
  g.AddInput(x);
  g.AddInput(cond);
  Value* w = AddConst(g, "w", RandomTensor<float>(rng, {8, 8}));
  AddConst(g, "b16", RandomTensor<Float16>(rng, {8}));
  AddConst(g, "bf", RandomTensor<BFloat16>(rng, {3}));
  Value* hi = AddConst(g, "hi", RandomTensor<float>(rng, {}));
  AddConst(g, "idx", RandomTensor<int64_t>(rng, {3}));
  AddConst(g, "q", RandomTensor<int8_t>(rng, {5}));
  AddConst(g, "mask", RandomTensor<bool>(rng, {2, 3}));
  AddConst(g, "d64", RandomTensor<double>(rng, {2}));
  AddConst(g, "f8", RandomTensor<Float8E4M3FN>(rng, {4}));
  AddConst(g, "empty", Tensor::Allocate(DType::kFloat32, {0, 4}).value());
  Value* h = AddValue(g, "h", DType::kFloat32, batch8);
  Value* h2 = AddValue(g, "h2", DType::kFloat32, batch8);
  Value* y = AddValue(g, "y", DType::kFloat32, batch8);
  Value* z = AddValue(g, "z", DType::kFloat32, Shape({Dim::Unknown(), Dim(8)}));
  Value* u = AddValue(g, "u", DType::kFloat32, std::nullopt);

  AddNode(g, OpKind::kMatMul, "mm", {x, w}, {h});
  AddNode(g, OpKind::kClip, "clip", {h, nullptr, hi}, {h2});
  auto then_g = std::make_shared<Graph>();
  then_g->name = "then";
  then_g->parent = &g;
  {
    Value* o = AddValue(*then_g, "h2", DType::kFloat32, batch8);
    o->is_outer_scope = true;
    Value* t = AddValue(*then_g, "t", DType::kFloat32, batch8);
    AddNode(*then_g, OpKind::kRelu, "then/relu", {o}, {t});
    then_g->AddOutput(t);
  }
  auto else_g = std::make_shared<Graph>();
  else_g->name = "else";
  else_g->parent = &g;
  {
    Value* o = AddValue(*else_g, "h2", DType::kFloat32, batch8);
    o->is_outer_scope = true;
    Value* k = AddConst(*else_g, "k", RandomTensor<float>(rng, {8}));
    Value* e = AddValue(*else_g, "e", DType::kFloat32, batch8);
    Value* e2 = AddValue(*else_g, "e2", DType::kFloat32, batch8);
    AddNode(*else_g, OpKind::kNeg, "else/neg", {o}, {e});
    AddNode(*else_g, OpKind::kAdd, "else/add", {e, k}, {e2});
    else_g->AddOutput(e2);
  }
  Node* if_node = AddNode(g, OpKind::kIf, "if", {cond, h2}, {y});
  if_node->attrs.Set("then_branch", then_g);
  if_node->attrs.Set("else_branch", else_g);
  if_node->attrs.Set("implicit_inputs", int64_t{1});
  Node* id = AddNode(g, OpKind::kIdentity, "all_attrs", {y}, {z});
  std::uniform_real_distribution<float> uf(-100.0f, 100.0f);
  id->attrs.Set("an_int", static_cast<int64_t>(rng()) - (int64_t{1} << 31));
  id->attrs.Set("a_float", uf(rng));
  id->attrs.Set("a_string", std::string("héllo \"world\""));
  id->attrs.Set("ints", std::vector<int64_t>{-1, static_cast<int64_t>(rng()), INT64_MAX});
  id->attrs.Set("floats", std::vector<float>{uf(rng), uf(rng), -0.0f});
  id->attrs.Set("strings", std::vector<std::string>{"a", "", "c/d"});
  id->attrs.Set("tensor", RandomTensor<int32_t>(rng, {2, 3}));
  id->attrs.Set("empty_ints", std::vector<int64_t>{});
  Node* ln = AddNode(g, OpKind::kLayerNormalization, "ln", {z, w}, {u, nullptr, nullptr});
  ln->source_nodes = {"orig/ln", "orig/add"};
  g.AddOutput(u);
  g.AddOutput(h2);

  const DType precisions[] = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                              DType::kFloat8E4M3FN};
  const char* tactics[] = {"cuda.cublaslt.algo12", "cuda.pointwise", "cpu.reference",
                           "cuda.copy.v2", "cuda.layernorm.warp_per_row"};
  for (int i = 0; i < 5; ++i) {
    PlanStep s;
    s.node = i;
    s.tactic = tactics[i];
    s.precision = precisions[i];
    s.tactic_data.resize(rng() % 40);
    for (uint8_t& b : s.tactic_data) b = static_cast<uint8_t>(rng());
    plan.steps.push_back(std::move(s));
  }
  for (int p = 0; p < 2; ++p) {
    Profile prof;
    int64_t max_batch = 16 << p;
    prof.inputs.push_back({"x", {1, 8}, {max_batch / 2, 8}, {max_batch, 8}});
    uint64_t bytes = static_cast<uint64_t>(max_batch) * 8 * 4;
    prof.memory.slots = {{"h", 0, bytes, 0, 1},
                         {"h2", bytes, bytes, 1, 4},
                         {"y", 0, bytes, 2, 3},
                         {"z", 2 * bytes, bytes, 3, 4}};
    prof.memory.arena_size = 3 * bytes;
    prof.memory.naive_size = 4 * bytes;
    plan.profiles.push_back(std::move(prof));
  }
  plan.target = {"cuda", "NVIDIA H100 80GB HBM3", 90, {{"cublasLt", "13.1.0"}, {"cudnn", "9.8"}}};
  plan.build = {"0.1.0", true, false, 5, uint64_t{3} << 32};
  return plan;
}

void ExpectTensorsEqual(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  ASSERT_EQ(a.dims(), b.dims()) << what;
  ASSERT_EQ(a.nbytes(), b.nbytes()) << what;
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0) << what << ": bytes differ";
}

void ExpectGraphsEqual(const Graph& a, const Graph& b, const Graph* b_parent) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(b.parent, b_parent) << "graph " << b.name << ": parent pointer";
  std::unordered_map<const Value*, int> ia, ib;
  std::unordered_map<const Node*, int> na, nb;
  for (const Value* v : a.values()) ia.emplace(v, static_cast<int>(ia.size()));
  for (const Value* v : b.values()) ib.emplace(v, static_cast<int>(ib.size()));
  for (const Node* n : a.nodes()) na.emplace(n, static_cast<int>(na.size()));
  for (const Node* n : b.nodes()) nb.emplace(n, static_cast<int>(nb.size()));
  auto idx = [](const auto& map, const auto* p) { return p ? map.at(p) : -1; };
  ASSERT_EQ(a.values().size(), b.values().size());
  for (size_t i = 0; i < a.values().size(); ++i) {
    const Value& va = *a.values()[i];
    const Value& vb = *b.values()[i];
    SCOPED_TRACE("value " + va.name);
    EXPECT_EQ(va.name, vb.name);
    EXPECT_EQ(va.dtype, vb.dtype);
    EXPECT_EQ(va.shape, vb.shape);
    EXPECT_EQ(va.is_graph_input, vb.is_graph_input);
    EXPECT_EQ(va.is_outer_scope, vb.is_outer_scope);
    EXPECT_EQ(idx(na, va.producer), idx(nb, vb.producer));
    ASSERT_EQ(va.constant.has_value(), vb.constant.has_value());
    if (va.constant) ExpectTensorsEqual(*va.constant, *vb.constant, va.name);
  }
  ASSERT_EQ(a.nodes().size(), b.nodes().size());
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const Node& x = *a.nodes()[i];
    const Node& y = *b.nodes()[i];
    SCOPED_TRACE("node " + x.name);
    EXPECT_EQ(x.op, y.op);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.opset, y.opset);
    EXPECT_EQ(x.source_nodes, y.source_nodes);
    ASSERT_EQ(x.inputs.size(), y.inputs.size());
    for (size_t k = 0; k < x.inputs.size(); ++k)
      EXPECT_EQ(idx(ia, x.inputs[k]), idx(ib, y.inputs[k]));
    ASSERT_EQ(x.outputs.size(), y.outputs.size());
    for (size_t k = 0; k < x.outputs.size(); ++k) {
      EXPECT_EQ(idx(ia, x.outputs[k]), idx(ib, y.outputs[k]));
    }
    ASSERT_EQ(x.attrs.all().size(), y.attrs.all().size());
    for (const auto& [name, va] : x.attrs.all()) {
      ASSERT_TRUE(y.attrs.Has(name)) << name;
      const AttrValue& vb = y.attrs.all().at(name);
      ASSERT_EQ(va.index(), vb.index()) << name;
      if (const auto* t = std::get_if<Tensor>(&va)) {
        ExpectTensorsEqual(*t, std::get<Tensor>(vb), name);
      } else if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&va)) {
        ExpectGraphsEqual(**sub, *std::get<std::shared_ptr<Graph>>(vb), &b);
      } else if (const auto* f = std::get_if<float>(&va)) {
        EXPECT_EQ(std::memcmp(f, &std::get<float>(vb), sizeof(float)), 0) << name;
      } else if (const auto* fs = std::get_if<std::vector<float>>(&va)) {
        const auto& gs = std::get<std::vector<float>>(vb);
        ASSERT_EQ(fs->size(), gs.size());
        EXPECT_EQ(std::memcmp(fs->data(), gs.data(), fs->size() * sizeof(float)), 0) << name;
      } else if (const auto* i = std::get_if<int64_t>(&va)) {
        EXPECT_EQ(*i, std::get<int64_t>(vb)) << name;
      } else if (const auto* str = std::get_if<std::string>(&va)) {
        EXPECT_EQ(*str, std::get<std::string>(vb)) << name;
      } else if (const auto* is = std::get_if<std::vector<int64_t>>(&va)) {
        EXPECT_EQ(*is, std::get<std::vector<int64_t>>(vb)) << name;
      } else {
        EXPECT_EQ(std::get<std::vector<std::string>>(va), std::get<std::vector<std::string>>(vb))
            << name;
      }
    }
  }
  std::vector<int> in_a, in_b, out_a, out_b;
  for (const Value* v : a.inputs()) in_a.push_back(ia.at(v));
  for (const Value* v : b.inputs()) in_b.push_back(ib.at(v));
  for (const Value* v : a.outputs()) out_a.push_back(ia.at(v));
  for (const Value* v : b.outputs()) out_b.push_back(ib.at(v));
  EXPECT_EQ(in_a, in_b);
  EXPECT_EQ(out_a, out_b);
}

void ExpectPlansEqual(const Plan& a, const Plan& b) {
  EXPECT_EQ(PrintGraph(*a.graph), PrintGraph(*b.graph));
  ExpectGraphsEqual(*a.graph, *b.graph, nullptr);
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) {
    EXPECT_EQ(a.steps[i].node, b.steps[i].node);
    EXPECT_EQ(a.steps[i].tactic, b.steps[i].tactic);
    EXPECT_EQ(a.steps[i].precision, b.steps[i].precision);
    EXPECT_EQ(a.steps[i].tactic_data, b.steps[i].tactic_data);
  }
  ASSERT_EQ(a.profiles.size(), b.profiles.size());
  for (size_t p = 0; p < a.profiles.size(); ++p) {
    const Profile& x = a.profiles[p];
    const Profile& y = b.profiles[p];
    ASSERT_EQ(x.inputs.size(), y.inputs.size());
    for (size_t i = 0; i < x.inputs.size(); ++i) {
      EXPECT_EQ(x.inputs[i].name, y.inputs[i].name);
      EXPECT_EQ(x.inputs[i].min, y.inputs[i].min);
      EXPECT_EQ(x.inputs[i].opt, y.inputs[i].opt);
      EXPECT_EQ(x.inputs[i].max, y.inputs[i].max);
    }
    ASSERT_EQ(x.memory.slots.size(), y.memory.slots.size());
    for (size_t i = 0; i < x.memory.slots.size(); ++i) {
      const MemorySlot& s = x.memory.slots[i];
      const MemorySlot& t = y.memory.slots[i];
      EXPECT_EQ(std::tie(s.value, s.offset, s.size, s.first_step, s.last_step),
                std::tie(t.value, t.offset, t.size, t.first_step, t.last_step));
    }
    EXPECT_EQ(x.memory.arena_size, y.memory.arena_size);
    EXPECT_EQ(x.memory.naive_size, y.memory.naive_size);
  }
  EXPECT_EQ(a.target.backend, b.target.backend);
  EXPECT_EQ(a.target.device_name, b.target.device_name);
  EXPECT_EQ(a.target.compute_capability, b.target.compute_capability);
  EXPECT_EQ(a.target.library_versions, b.target.library_versions);
  EXPECT_EQ(a.build.fusionrt_version, b.build.fusionrt_version);
  EXPECT_EQ(a.build.fp16, b.build.fp16);
  EXPECT_EQ(a.build.bf16, b.build.bf16);
  EXPECT_EQ(a.build.optimization_level, b.build.optimization_level);
  EXPECT_EQ(a.build.memory_limit, b.build.memory_limit);
}

// Fresh random data in every run; the seed is printed on failure.
class EngineFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = std::random_device{}();
    rng_.seed(seed_);
    plan_ = MakeHandPlan(rng_);
    auto bytes = WriteEngine(plan_);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    bytes_ = std::move(*bytes);
  }
  // Reads `b` and expects kInvalidEngine with `phrase` in the message.
  void ExpectRejected(const std::vector<uint8_t>& b, const std::string& phrase) {
    auto r = ReadEngine(b, "test.engine");
    ASSERT_FALSE(r.ok()) << "accepted; expected an error containing: " << phrase;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidEngine) << r.status().ToString();
    EXPECT_NE(r.status().message().find(phrase), std::string::npos)
        << "message: " << r.status().message() << "\nexpected phrase: " << phrase;
    EXPECT_NE(r.status().message().find("test.engine"), std::string::npos) << r.status().message();
  }
  uint64_t MetadataOffset() const { return Le64(bytes_, kHeaderMetadataOffsetOffset); }
  uint64_t MetadataSize() const { return Le64(bytes_, kHeaderMetadataSizeOffset); }
  uint64_t WeightsOffset() const { return Le64(bytes_, kHeaderWeightsOffsetOffset); }
  uint64_t WeightsSize() const { return Le64(bytes_, kHeaderWeightsSizeOffset); }

  uint32_t seed_ = 0;
  std::mt19937 rng_;
  Plan plan_;
  std::vector<uint8_t> bytes_;
};

// ---------------------------------------------------------------- checksum

TEST(EngineChecksum, MatchesKnownVectorsAndBitwiseReference) {
  const char* check = "123456789";
  EXPECT_EQ(Crc32c({reinterpret_cast<const uint8_t*>(check), 9}), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::vector<uint8_t>(32, 0)), 0x8A9136AAu);  // RFC 3720 B.4
  EXPECT_EQ(Crc32c(std::vector<uint8_t>(32, 0xFF)), 0x62A8AB43u);
  std::mt19937 rng(std::random_device{}());
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<uint8_t> data(rng() % 3000);
    for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
    uint32_t whole = Crc32c(data);
    EXPECT_EQ(whole, BitwiseCrc32c(data)) << "size " << data.size();
    size_t cut = data.empty() ? 0 : rng() % data.size();
    std::span<const uint8_t> s(data);
    EXPECT_EQ(Crc32cExtend(Crc32c(s.first(cut)), s.subspan(cut)), whole);
  }
}

// ---------------------------------------------------------------- round trips

TEST_F(EngineFormat, HandBuiltPlanRoundTripsExactly) {
  SCOPED_TRACE(StrCat("seed ", seed_));
  auto read = ReadEngine(bytes_, "hand.engine");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectPlansEqual(plan_, *read);
  // Weights are views into the Plan's one aligned buffer, not copies.
  ASSERT_TRUE(read->storage);
  const auto* base = static_cast<const uint8_t*>(read->storage.get());
  for (const Value* v : read->graph->values()) {
    if (!v->constant || v->constant->nbytes() == 0) continue;
    const auto* p = static_cast<const uint8_t*>(v->constant->raw());
    EXPECT_GE(p, base + WeightsOffset()) << v->name;
    EXPECT_LE(p + v->constant->nbytes(), base + bytes_.size()) << v->name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kWeightAlignment, 0u) << v->name;
  }
  // Determinism: the read plan writes the same bytes.
  auto again = WriteEngine(*read);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(*again == bytes_) << "rewriting the read plan changed the bytes";
}

TEST_F(EngineFormat, SharedBuffersAreStoredOnce) {
  // Two constants over one buffer (Reshaped shares it) occupy one place.
  Value* w = plan_.graph->FindValue("w");
  AddConst(*plan_.graph, "w_flat", w->constant->Reshaped({64}));
  auto bytes = WriteEngine(plan_);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(Le64(*bytes, kHeaderWeightsSizeOffset), WeightsSize());
  auto read = ReadEngine(*bytes, "shared.engine");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->graph->FindValue("w")->constant->raw(),
            read->graph->FindValue("w_flat")->constant->raw());
}

TEST_F(EngineFormat, FileRoundTripAndIoErrors) {
  testing_util::TempDir dir;
  const std::string path = (dir.path() / "plan.engine").string();
  ASSERT_TRUE(WriteEngineFile(plan_, path).ok());
  ASSERT_TRUE(WriteEngineFile(plan_, path).ok());  // overwrites atomically
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u) << "temporary files left behind";
  auto read = ReadEngineFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectPlansEqual(plan_, *read);

  auto missing = ReadEngineFile((dir.path() / "nope.engine").string());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.engine"), std::string::npos);
  EXPECT_EQ(ReadEngineFile(dir.path().string()).status().code(), StatusCode::kIoError);
  Status bad_dir = WriteEngineFile(plan_, (dir.path() / "no/such/dir/x.engine").string());
  EXPECT_EQ(bad_dir.code(), StatusCode::kIoError);

  size_t old_limit = HostAllocationLimit();
  SetHostAllocationLimit(bytes_.size() - 1);
  auto too_big = ReadEngineFile(path);
  SetHostAllocationLimit(old_limit);
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
}

TEST(EngineFormatModel, TinyTransformerRunsBitIdenticallyAfterRoundTrip) {
  auto graph = ImportOnnxFile(std::string(FRT_SOURCE_DIR) + "/models/tiny_transformer.onnx");
  ASSERT_TRUE(graph.ok()) << graph.status().ToString();
  Plan plan;
  plan.graph = std::move(*graph);
  std::unordered_map<const Node*, int32_t> index;
  for (const Node* n : plan.graph->nodes()) index.emplace(n, static_cast<int32_t>(index.size()));
  auto order = plan.graph->TopologicalOrder();
  ASSERT_TRUE(order.ok());
  for (const Node* n : *order)
    plan.steps.push_back({index.at(n), "cpu.reference", DType::kFloat32, {}});
  Profile profile;
  profile.inputs.push_back({"x", {1, 1, 64}, {2, 16, 64}, {8, 128, 64}});
  plan.profiles.push_back(profile);
  plan.target.backend = "cpu";
  plan.build.fusionrt_version = "0.1.0";

  auto bytes = WriteEngine(plan);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto read = ReadEngine(*bytes, "tiny.engine");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(PrintGraph(*plan.graph), PrintGraph(*read->graph));
  EXPECT_TRUE(WriteEngine(*read).value() == *bytes) << "rewrite changed the bytes";

  uint32_t seed = std::random_device{}();
  SCOPED_TRACE(StrCat("seed ", seed));
  std::mt19937 rng(seed);
  Tensor x = RandomTensor<float>(rng, {2, 16, 64});
  auto run = [&](const Graph& g) {
    auto exec = ReferenceExecutor::Create(g);
    EXPECT_TRUE(exec.ok()) << exec.status().ToString();
    auto out = (*exec)->Run({{"x", x}});
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return std::move(*out);
  };
  std::vector<Tensor> want = run(*plan.graph);
  plan.graph.reset();  // the read plan must not depend on the original
  std::vector<Tensor> got = run(*read->graph);
  ASSERT_EQ(want.size(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].dims(), (Dims{2, 16, 64}));
  ExpectTensorsEqual(want[0], got[0], "y");
}

// ---------------------------------------------------------------- rejection

TEST_F(EngineFormat, RejectsFlippedBytesInEverySection) {
  SCOPED_TRACE(StrCat("seed ", seed_));
  for (size_t at = 0; at < kEngineHeaderSize; ++at) {  // every header byte
    std::vector<uint8_t> b = bytes_;
    b[at] ^= static_cast<uint8_t>(1 + rng_() % 255);
    auto r = ReadEngine(b, "test.engine");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidEngine) << "header byte " << at;
  }
  std::vector<uint8_t> b = bytes_;
  b[kHeaderMetadataSizeOffset] ^= 0x10;
  ExpectRejected(b, "header checksum mismatch");
  for (int trial = 0; trial < 20; ++trial) {
    b = bytes_;
    b[MetadataOffset() + rng_() % MetadataSize()] ^= static_cast<uint8_t>(1 + rng_() % 255);
    ExpectRejected(b, "metadata checksum mismatch");
    b = bytes_;
    b[WeightsOffset() + rng_() % WeightsSize()] ^= static_cast<uint8_t>(1 << (rng_() % 8));
    ExpectRejected(b, "weights checksum mismatch");
  }
  // A non-zero padding byte before the weights; when the metadata happens to end
  // on a 256-byte boundary there is no padding, so grow it by 8 bytes first.
  b = bytes_;
  while (Le64(b, kHeaderWeightsOffsetOffset) ==
         Le64(b, kHeaderMetadataOffsetOffset) + Le64(b, kHeaderMetadataSizeOffset)) {
    plan_.steps[0].tactic_data.resize(plan_.steps[0].tactic_data.size() + 8);
    b = WriteEngine(plan_).value();
  }
  b[Le64(b, kHeaderMetadataOffsetOffset) + Le64(b, kHeaderMetadataSizeOffset)] = 1;
  ExpectRejected(b, "padding");
}

TEST_F(EngineFormat, RejectsTruncationAnywhere) {
  const size_t n = bytes_.size();
  const size_t cuts[] = {0,
                         1,
                         7,
                         8,
                         11,
                         12,
                         kEngineHeaderSize - 1,
                         kEngineHeaderSize,
                         MetadataOffset() + MetadataSize() / 2,
                         MetadataOffset() + MetadataSize(),
                         WeightsOffset(),
                         WeightsOffset() + WeightsSize() / 2,
                         n - 1};
  for (size_t cut : cuts) {
    SCOPED_TRACE(StrCat("truncated to ", cut, " of ", n, " bytes"));
    ExpectRejected(std::vector<uint8_t>(bytes_.begin(), bytes_.begin() + cut), "truncated");
  }
  std::vector<uint8_t> longer = bytes_;
  longer.push_back(0);
  ExpectRejected(longer, "trailing bytes");
}

TEST_F(EngineFormat, RejectsForeignFilesAndOtherVersions) {
  std::vector<uint8_t> b = bytes_;
  std::memcpy(b.data(), "NOTENGN", 8);
  ExpectRejected(b, "not a FusionRT engine file");
  std::string onnx = testing_util::AddReluModel().SerializeAsString();
  ExpectRejected(std::vector<uint8_t>(onnx.begin(), onnx.end()), "not a FusionRT engine file");

  b = bytes_;
  PutLe32(b, kHeaderVersionOffset, kEngineFormatVersion + 1);
  FixHeaderCrc(b);  // only the version is wrong
  ExpectRejected(
      b, StrCat("built by a newer FusionRT, engine format ", kEngineFormatVersion + 1,
                ", this build reads format ", kEngineFormatVersion, "; rebuild the engine"));
  PutLe32(b, kHeaderVersionOffset, kEngineFormatVersion - 1);
  FixHeaderCrc(b);
  ExpectRejected(b, "built by an older FusionRT");
}

TEST_F(EngineFormat, RejectsBadSectionBounds) {
  auto with = [&](size_t field, uint64_t value) {
    std::vector<uint8_t> b = bytes_;
    PutLe64(b, field, value);
    FixHeaderCrc(b);
    return b;
  };
  ExpectRejected(with(kHeaderMetadataSizeOffset, UINT64_MAX), "extends past the end");
  ExpectRejected(with(kHeaderMetadataOffsetOffset, UINT64_MAX - 7), "extends past the end");
  ExpectRejected(with(kHeaderWeightsOffsetOffset, UINT64_MAX - 255), "extends past the end");
  ExpectRejected(with(kHeaderWeightsSizeOffset, UINT64_MAX), "extends past the end");
  ExpectRejected(with(kHeaderWeightsOffsetOffset, 0), "overlaps the metadata");
  ExpectRejected(with(kHeaderWeightsOffsetOffset, WeightsOffset() - 8), "not a multiple of 256");
  ExpectRejected(with(kHeaderMetadataOffsetOffset, 0), "after the 64-byte header");
  std::vector<uint8_t> b = bytes_;
  PutLe32(b, kHeaderSizeOffset, 128);
  FixHeaderCrc(b);
  ExpectRejected(b, "header size field is 128");
}

// In-place edits of the metadata with its checksum recomputed, so that the
// FlatBuffers verifier and the semantic checks behind it are what must object.
TEST_F(EngineFormat, RejectsInconsistentMetadata) {
  auto edit = [&](const std::function<bool(fb::Engine&)>& f) {
    std::vector<uint8_t> b = bytes_;
    EXPECT_TRUE(f(*MutableMetadata(b))) << "the edit did not apply";
    FixMetadataCrc(b);
    return b;
  };
  auto node = [](fb::Engine& e, int i) {
    return e.mutable_graph()->mutable_nodes()->GetMutableObject(i);
  };
  auto value = [](fb::Engine& e, const char* name) -> fb::Value* {
    auto* values = e.mutable_graph()->mutable_values();
    for (uint32_t i = 0; i < values->size(); ++i) {
      if (values->Get(i)->name()->str() == name) return values->GetMutableObject(i);
    }
    return nullptr;
  };
  // Value index out of range (node 1 is Clip: inputs h, -1, hi).
  ExpectRejected(edit([&](fb::Engine& e) {
                   node(e, 1)->mutable_inputs()->Mutate(0, 999);
                   return true;
                 }),
                 "input value index 999 out of range");
  ExpectRejected(edit([&](fb::Engine& e) {
                   node(e, 1)->mutable_inputs()->Mutate(1, -2);
                   return true;
                 }),
                 "out of range");
  ExpectRejected(edit([&](fb::Engine& e) {
                   e.mutable_graph()->mutable_outputs()->Mutate(0, 77);
                   return true;
                 }),
                 "graph output value index 77 out of range");
  // Step node index out of range; steps out of order (If before the Clip it reads).
  ExpectRejected(
      edit([&](fb::Engine& e) { return e.mutable_steps()->GetMutableObject(1)->mutate_node(42); }),
      "names node 42, out of range");
  ExpectRejected(edit([&](fb::Engine& e) {
                   auto* steps = e.mutable_steps();
                   return steps->GetMutableObject(1)->mutate_node(2) &&
                          steps->GetMutableObject(2)->mutate_node(1);
                 }),
                 "not a valid order");
  ExpectRejected(
      edit([&](fb::Engine& e) { return e.mutable_steps()->GetMutableObject(2)->mutate_node(1); }),
      "is run twice");
  // Weight references: misaligned, outside the section, wrong size, bad dims.
  ExpectRejected(edit([&](fb::Engine& e) {
                   auto* c = value(e, "b16")->mutable_constant();
                   return c->mutate_offset(c->offset() + 64);
                 }),
                 "is not a multiple of 256");
  ExpectRejected(edit([&](fb::Engine& e) {
                   return value(e, "b16")->mutable_constant()->mutate_offset(uint64_t{1} << 40);
                 }),
                 "outside the weights section");
  ExpectRejected(edit([&](fb::Engine& e) {
                   auto* c = value(e, "w")->mutable_constant();
                   return c->mutate_size(c->size() + 4);
                 }),
                 "expected 256 for f32[8,8]");
  ExpectRejected(edit([&](fb::Engine& e) {
                   value(e, "w")->mutable_constant()->mutable_dims()->Mutate(0, -8);
                   return true;
                 }),
                 "bad dims");
  ExpectRejected(edit([&](fb::Engine& e) {
                   auto* dims = value(e, "w")->mutable_constant()->mutable_dims();
                   dims->Mutate(0, INT64_MAX / 2);
                   dims->Mutate(1, INT64_MAX / 2);
                   return true;
                 }),
                 "bad dims");
  // Unknown dtype and negative shape dim.
  ExpectRejected(
      edit([&](fb::Engine& e) { return value(e, "h")->mutate_dtype(static_cast<fb::DType>(200)); }),
      "unknown dtype code 200");
  ExpectRejected(
      edit([&](fb::Engine& e) {
        return value(e, "h")->mutable_shape()->mutable_dims()->GetMutableObject(1)->mutate_value(
            -5);
      }),
      "dim 1 has value -5");
  // Strings edited in place: an unknown op type, a duplicate value name.
  ExpectRejected(edit([&](fb::Engine& e) {
                   SetChar(node(e, 0)->op_type(), 0, 'X');  // MatMul -> XatMul
                   return true;
                 }),
                 "unknown op type \"XatMul\"");
  ExpectRejected(edit([&](fb::Engine& e) {
                   SetChar(value(e, "h2")->name(), 1, 'i');  // h2 -> hi
                   return true;
                 }),
                 "value name \"hi\" appears twice");
  // A subgraph's outer-scope reference to a name no enclosing graph defines.
  ExpectRejected(edit([&](fb::Engine& e) {
                   auto* attrs = node(e, 2)->mutable_attributes();
                   for (uint32_t i = 0; i < attrs->size(); ++i) {
                     if (attrs->Get(i)->name()->str() != "then_branch") continue;
                     auto* sub = attrs->GetMutableObject(i)->mutable_graph();
                     SetChar(sub->values()->Get(0)->name(), 0, 'q');
                     return true;
                   }
                   return false;
                 }),
                 "no enclosing graph defines it");
  // Memory slot outside its arena.
  ExpectRejected(
      edit([&](fb::Engine& e) {
        auto* slot =
            e.mutable_profiles()->GetMutableObject(1)->mutable_slots()->GetMutableObject(3);
        return slot->mutate_size(slot->size() + 1);
      }),
      "inside the");
  // The FlatBuffer itself: a root offset pointing past the end.
  std::vector<uint8_t> b = bytes_;
  PutLe32(b, MetadataOffset(), 0x7FFFFFF0u);
  FixMetadataCrc(b);
  ExpectRejected(b, "FlatBuffers verification");
}

// Random byte edits behind a valid checksum: whatever they hit, the reader
// must return a value or kInvalidEngine, never crash or read out of bounds
// (this is the test to run under ASan/UBSan).
TEST_F(EngineFormat, SurvivesRandomMetadataEditsBehindValidChecksums) {
  SCOPED_TRACE(StrCat("seed ", seed_));
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> b = bytes_;
    int edits = 1 + static_cast<int>(rng_() % 3);
    for (int k = 0; k < edits; ++k) {
      b[MetadataOffset() + rng_() % MetadataSize()] = static_cast<uint8_t>(rng_());
    }
    FixMetadataCrc(b);
    auto r = ReadEngine(b, "fuzz.engine");
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidEngine) << r.status().ToString();
    }
  }
}

TEST_F(EngineFormat, WriterRejectsPlansTheReaderWould) {
  plan_.steps[0].tactic = "cuda..algo";
  EXPECT_NE(WriteEngine(plan_).status().message().find("<backend>.<kernel>[.<variant>]"),
            std::string::npos);
  plan_.steps[0].tactic = "cuda.gemm";
  plan_.steps[0].node = 5;
  EXPECT_EQ(WriteEngine(plan_).status().code(), StatusCode::kInvalidArgument);
  plan_.steps[0].node = 0;
  plan_.profiles.clear();
  EXPECT_NE(WriteEngine(plan_).status().message().find("no optimization profile"),
            std::string::npos);
  EXPECT_TRUE(IsValidTacticName("cpu.reference"));
  EXPECT_TRUE(IsValidTacticName("cuda.cublaslt.algo12"));
  EXPECT_FALSE(IsValidTacticName("cuda"));
  EXPECT_FALSE(IsValidTacticName("a.b.c.d"));
  EXPECT_FALSE(IsValidTacticName("cuda.gemm."));
  EXPECT_FALSE(IsValidTacticName("cuda.ge mm"));
}

// ---------------------------------------------------------------- target check

TEST(EngineTarget, ChecksBackendComputeCapabilityAndLibraryMajors) {
  TargetInfo h100{"cuda", "NVIDIA H100", 90, {{"cublasLt", "13.1.0"}, {"cudnn", "9.8.0"}}};
  TargetInfo cpu{"cpu", "", 0, {}};
  Status s = CheckTarget(h100, cpu, "m.engine");
  EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
  EXPECT_NE(s.message().find("engine \"m.engine\" built for cuda (sm_90, NVIDIA H100) cannot run "
                             "on cpu"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(CheckTarget(cpu, h100, "m.engine").code(), StatusCode::kInvalidEngine);
  EXPECT_TRUE(CheckTarget(cpu, cpu, "m.engine").ok());
  EXPECT_TRUE(CheckTarget(h100, h100, "m.engine").ok());

  TargetInfo a100 = h100;
  a100.device_name = "NVIDIA A100";
  a100.compute_capability = 80;
  s = CheckTarget(h100, a100, "m.engine");
  EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
  EXPECT_NE(s.message().find("compute capability sm_90 expected, the device has sm_80"),
            std::string::npos)
      << s.message();

  TargetInfo newer_minor = h100;  // same majors, other minor versions: compatible
  newer_minor.library_versions = {{"cublasLt", "13.4.2"}, {"cudnn", "9.1"}, {"nccl", "2.1"}};
  newer_minor.device_name = "NVIDIA H100 NVL";
  EXPECT_TRUE(CheckTarget(h100, newer_minor, "m.engine").ok());
  TargetInfo older_major = h100;
  older_major.library_versions["cublasLt"] = "12.9.1";
  s = CheckTarget(h100, older_major, "m.engine");
  EXPECT_EQ(s.code(), StatusCode::kInvalidEngine);
  EXPECT_NE(s.message().find("cublasLt 13.1.0, the host has 12.9.1 (major versions differ)"),
            std::string::npos)
      << s.message();
  TargetInfo missing = h100;
  missing.library_versions.erase("cudnn");
  EXPECT_NE(CheckTarget(h100, missing, "m.engine").message().find("does not have"),
            std::string::npos);
}

}  // namespace
}  // namespace frt
