// lower_precision on the optimized zoo models: the lowered graph verifies,
// keeps the network's I/O types, runs on the reference backend and stays
// within reduced-precision rounding of the float32 graph.
#include <gtest/gtest.h>

#include "backends/cpu/reference_executor.h"
#include "ir/graph_clone.h"
#include "ir/shape_inference.h"
#include "ir/verifier.h"
#include "onnx/importer.h"
#include "passes/lower_precision.h"
#include "passes/pass_manager.h"
#include "passes/pass_test_util.h"

namespace frt {
namespace {

double RelL2(const Tensor& got, const Tensor& want) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    double d = got.GetAsDouble(i) - want.GetAsDouble(i);
    num += d * d;
    den += want.GetAsDouble(i) * want.GetAsDouble(i);
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

// Inputs for a zoo model: batch 2, sequence 16; token ids, masks and types
// alternate 0/1 (valid for every vocabulary), images uniform in [-1, 1).
std::map<std::string, Tensor> ZooInputs(const Graph& g) {
  std::map<std::string, Tensor> inputs;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const Value* in : g.inputs()) {
    if (in->constant) continue;
    Dims dims;
    for (const Dim& d : in->shape->dims()) dims.push_back(d.is_static() ? d.value() : (dims.empty() ? 2 : 16));
    Tensor t = Tensor::Allocate(in->dtype, dims).value();
    for (int64_t i = 0; i < t.num_elements(); ++i) {
      if (in->dtype == DType::kInt64) t.data<int64_t>()[i] = (i % 3 == 2) ? 0 : 1;
      if (in->dtype == DType::kFloat32) t.data<float>()[i] = u(rng);
    }
    inputs[in->name] = t;
  }
  return inputs;
}

struct Case {
  const char* model;
  DType low;
  double tolerance;  // relative L2 vs float32
};

TEST(LowerPrecision, ZooModelsStayCloseToFloat32) {
  // f16 keeps 11 significant bits (unit roundoff 4.9e-4); every lowered op rounds its output on
  // the reference backend, and a few layers compound that to ~1e-3..5e-3. bf16 keeps 8 bits
  // (3.9e-3 per rounding). The bounds leave room for that and fail on a wrong rewrite (O(1)).
  for (const Case& c : {Case{"bert", DType::kFloat16, 2e-2}, Case{"gpt2", DType::kFloat16, 2e-2},
                        Case{"t5enc", DType::kFloat16, 2e-2}, Case{"vit", DType::kFloat16, 2e-2},
                        Case{"resnet50", DType::kFloat16, 2e-2},
                        Case{"mobilenetv2", DType::kFloat16, 2e-2},
                        Case{"bert", DType::kBFloat16, 8e-2}}) {
    SCOPED_TRACE(StrCat(c.model, " ", DTypeName(c.low)));
    auto model = ImportOnnxFile(StrCat(FRT_SOURCE_DIR, "/tests/models/tiny/", c.model, ".onnx"));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    Graph& g = **model;
    ASSERT_TRUE(InferGraphShapes(g).ok());
    ASSERT_TRUE(RunPasses(g, 3, nullptr, /*verify_each=*/false).ok());
    auto lowered = CloneGraph(g).value();
    auto count = LowerPrecision(*lowered, c.low);
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    EXPECT_GT(*count, 0);
    Status inferred = InferGraphShapes(*lowered);
    ASSERT_TRUE(inferred.ok()) << inferred.ToString();
    Status verified = VerifyGraph(*lowered);
    ASSERT_TRUE(verified.ok()) << verified.ToString();
    for (size_t i = 0; i < g.outputs().size(); ++i) {
      EXPECT_EQ(lowered->outputs()[i]->name, g.outputs()[i]->name);
      EXPECT_EQ(lowered->outputs()[i]->dtype, g.outputs()[i]->dtype);
    }
    int low_values = 0;
    for (const Value* v : lowered->values()) low_values += v->dtype == c.low;
    EXPECT_GT(low_values, 0);
    auto inputs = ZooInputs(g);
    auto want = ReferenceExecutor::Create(g).value()->Run(inputs);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    auto got = ReferenceExecutor::Create(*lowered).value()->Run(inputs);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (size_t i = 0; i < want->size(); ++i) {
      EXPECT_LE(RelL2((*got)[i], (*want)[i]), c.tolerance) << "output " << i;
    }
  }
}

}  // namespace
}  // namespace frt
