// Hostile and malformed models: each must be rejected with a clear error
// (right code, message naming the file/node/tensor and what was expected),
// never a crash. Both the library and the CLI (non-zero exit) are checked.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "backends/cpu/reference_executor.h"
#include "onnx/importer.h"
#include "test_util.h"

namespace frt {
namespace {

using testing_util::AddReluModel;
using testing_util::RunCli;
using testing_util::TempDir;

Status ImportBytes(const std::string& bytes, const std::string& dir = "") {
  return ImportOnnxBytes(bytes, dir).status();
}

void ExpectError(const Status& s, StatusCode code, const std::string& fragment) {
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(fragment), std::string::npos)
      << "message \"" << s.message() << "\" lacks \"" << fragment << "\"";
}

TEST(OnnxNegative, ValidModelImportsAndRuns) {
  auto g = ImportOnnxBytes(AddReluModel().SerializeAsString(), "");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto exec = ReferenceExecutor::Create(**g);
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  Tensor x = Tensor::FromVector<float>({1, 2, 3, -4, -5, -6}, {2, 3});
  auto out = (*exec)->Run({{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<float> want = {1.5f, 1.0f, 5.0f, 0.0f, 0.0f, 0.0f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ((*out)[0].data<float>()[i], want[i]);
}

TEST(OnnxNegative, ZeroByteFile) {
  TempDir dir;
  std::string path = dir.Write("empty.onnx", "");
  Status s = ImportOnnxFile(path).status();
  ExpectError(s, StatusCode::kInvalidModel, "0 bytes");
  EXPECT_NE(s.message().find(path), std::string::npos);
  auto cli = RunCli("run --onnx " + path);
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_NE(cli.output.find("empty.onnx"), std::string::npos) << cli.output;
}

TEST(OnnxNegative, RandomBytes) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 50; ++trial) {
    std::string bytes(1 + rng() % 4096, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    Status s = ImportBytes(bytes);
    EXPECT_FALSE(s.ok());
  }
}

TEST(OnnxNegative, TruncatedProtobufAtEveryLength) {
  std::string bytes = AddReluModel().SerializeAsString();
  for (size_t n = 1; n < bytes.size(); ++n) {
    Status s = ImportBytes(bytes.substr(0, n));
    EXPECT_FALSE(s.ok()) << "truncated at " << n << " bytes was accepted";
  }
}

TEST(OnnxNegative, IrVersionZero) {
  auto m = AddReluModel();
  m.set_ir_version(0);
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kInvalidModel, "IR version 0");
}

TEST(OnnxNegative, OutputNothingProduces) {
  auto m = AddReluModel();
  m.mutable_graph()->mutable_output(0)->set_name("ghost");
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kInvalidModel,
              "graph output \"ghost\" is not produced");
}

TEST(OnnxNegative, RawDataSizeDisagreesWithShape) {
  auto m = AddReluModel();
  auto* b = m.mutable_graph()->mutable_initializer(0);
  b->clear_float_data();
  b->set_raw_data(std::string(8, '\0'));  // 2 floats for dims [3]
  Status s = ImportBytes(m.SerializeAsString());
  ExpectError(s, StatusCode::kInvalidModel, "raw_data has 8 bytes");
  EXPECT_NE(s.message().find("tensor \"b\""), std::string::npos) << s.message();
}

TEST(OnnxNegative, TypedFieldCountDisagreesWithShape) {
  auto m = AddReluModel();
  m.mutable_graph()->mutable_initializer(0)->add_float_data(9.0f);
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kInvalidModel, "float_data holds 4");
}

void MakeExternal(onnx::ModelProto& m, const std::string& location, const std::string& offset = "",
                  const std::string& length = "") {
  auto* b = m.mutable_graph()->mutable_initializer(0);
  b->clear_float_data();
  b->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = b->add_external_data();
  kv->set_key("location");
  kv->set_value(location);
  if (!offset.empty()) {
    kv = b->add_external_data();
    kv->set_key("offset");
    kv->set_value(offset);
  }
  if (!length.empty()) {
    kv = b->add_external_data();
    kv->set_key("length");
    kv->set_value(length);
  }
}

TEST(OnnxNegative, ExternalDataWithDotDot) {
  TempDir dir;
  auto m = AddReluModel();
  MakeExternal(m, "../secret.bin");
  std::string path = dir.Write("model.onnx", m.SerializeAsString());
  ExpectError(ImportOnnxFile(path).status(), StatusCode::kInvalidModel, "contains \"..\"");
  auto cli = RunCli("run --onnx " + path);
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_NE(cli.output.find("../secret.bin"), std::string::npos) << cli.output;
}

TEST(OnnxNegative, ExternalDataAbsolutePath) {
  TempDir dir;
  auto m = AddReluModel();
  MakeExternal(m, "/etc/passwd");
  std::string path = dir.Write("model.onnx", m.SerializeAsString());
  ExpectError(ImportOnnxFile(path).status(), StatusCode::kInvalidModel, "must be a relative path");
}

TEST(OnnxNegative, ExternalDataSymlinkOutOfFolder) {
  TempDir outside, dir;
  outside.Write("weights.bin", std::string(12, '\0'));
  std::filesystem::create_symlink(outside.path() / "weights.bin", dir.path() / "weights.bin");
  auto m = AddReluModel();
  MakeExternal(m, "weights.bin");
  std::string path = dir.Write("model.onnx", m.SerializeAsString());
  ExpectError(ImportOnnxFile(path).status(), StatusCode::kInvalidModel, "outside the model's folder");
}

TEST(OnnxNegative, ExternalDataPastEndOfFile) {
  TempDir dir;
  dir.Write("weights.bin", std::string(12, '\0'));
  auto m = AddReluModel();
  MakeExternal(m, "weights.bin", "8");
  std::string path = dir.Write("model.onnx", m.SerializeAsString());
  ExpectError(ImportOnnxFile(path).status(), StatusCode::kInvalidModel, "exceeds the file size");
}

TEST(OnnxNegative, ExternalDataLoadsInsideFolder) {
  TempDir dir;
  std::string payload(4, '\0');
  float vals[3] = {0.5f, -1.0f, 2.0f};
  payload.append(reinterpret_cast<const char*>(vals), sizeof(vals));
  dir.Write("weights.bin", payload);
  auto m = AddReluModel();
  MakeExternal(m, "weights.bin", "4", "12");
  std::string path = dir.Write("model.onnx", m.SerializeAsString());
  auto g = ImportOnnxFile(path);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_FLOAT_EQ((*g)->FindValue("b")->constant->data<float>()[2], 2.0f);
}

TEST(OnnxNegative, NodeWithMissingInput) {
  auto m = AddReluModel();
  m.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
  Status s = ImportBytes(m.SerializeAsString());
  ExpectError(s, StatusCode::kInvalidModel, "\"nowhere\" is not defined");
  EXPECT_NE(s.message().find("node \"relu0\""), std::string::npos) << s.message();
}

TEST(OnnxNegative, UnsupportedOpNamesNodeAndOpset) {
  auto m = AddReluModel();
  m.mutable_graph()->mutable_node(1)->set_op_type("FancyOp");
  Status s = ImportBytes(m.SerializeAsString());
  ExpectError(s, StatusCode::kUnsupported, "FancyOp (node \"relu0\", opset 17)");
}

TEST(OnnxNegative, UnsupportedDomain) {
  auto m = AddReluModel();
  m.mutable_graph()->mutable_node(1)->set_domain("com.microsoft");
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kUnsupported, "com.microsoft");
}

TEST(OnnxNegative, OpsetOutOfRange) {
  auto m = AddReluModel();
  m.mutable_opset_import(0)->set_version(99);
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kUnsupported, "opset 99");
}

TEST(OnnxNegative, CyclicGraph) {
  auto m = AddReluModel();
  m.mutable_graph()->mutable_node(0)->set_input(0, "y");  // add reads relu's output
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kInvalidModel, "cycle");
}

TEST(OnnxNegative, DuplicateValueName) {
  auto m = AddReluModel();
  m.mutable_graph()->mutable_node(1)->set_output(0, "s");  // both nodes write "s"
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kInvalidModel, "\"s\"");
}

TEST(OnnxNegative, NegativeDimInInitializer) {
  auto m = AddReluModel();
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, -3);
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kInvalidModel, "negative dimension");
}

TEST(OnnxNegative, HugeDimsFailCleanly) {
  auto m = AddReluModel();
  auto* b = m.mutable_graph()->mutable_initializer(0);
  b->clear_float_data();
  b->set_dims(0, int64_t{1} << 40);
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kResourceExhausted,
              "above the host allocation limit");
}

TEST(OnnxNegative, NoOpsetImport) {
  auto m = AddReluModel();
  m.clear_opset_import();
  ExpectError(ImportBytes(m.SerializeAsString()), StatusCode::kInvalidModel, "no ai.onnx opset");
}

TEST(OnnxNegative, MissingFile) {
  auto cli = RunCli("run --onnx /nonexistent/model.onnx");
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_NE(cli.output.find("does not exist"), std::string::npos) << cli.output;
}

class RunMisuse : public ::testing::Test {
 protected:
  void SetUp() override {
    auto g = ImportOnnxBytes(AddReluModel().SerializeAsString(), "");
    ASSERT_TRUE(g.ok());
    graph_ = std::move(*g);
    exec_ = std::move(*ReferenceExecutor::Create(*graph_));
  }
  std::unique_ptr<Graph> graph_;
  std::unique_ptr<ReferenceExecutor> exec_;
};

TEST_F(RunMisuse, WrongShape) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {2, 2});
  ExpectError(exec_->Run({{"x", x}}).status(), StatusCode::kInvalidArgument,
              "input \"x\": expected shape [batch,3], got [2,2] (dimension 1: expected 3, got 2)");
}

TEST_F(RunMisuse, WrongDType) {
  Tensor x = Tensor::FromVector<int64_t>({1, 2, 3}, {1, 3});
  ExpectError(exec_->Run({{"x", x}}).status(), StatusCode::kInvalidArgument,
              "expected dtype f32, got i64");
}

TEST_F(RunMisuse, MissingInput) {
  ExpectError(exec_->Run({}).status(), StatusCode::kInvalidArgument, "missing graph input \"x\"");
}

TEST_F(RunMisuse, UnknownInputName) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3}, {1, 3});
  ExpectError(exec_->Run({{"x", x}, {"z", x}}).status(), StatusCode::kNotFound, "\"z\"");
}

TEST(CliNegative, ShapesForUnknownInputAndBadSyntax) {
  TempDir dir;
  std::string path = dir.Write("m.onnx", AddReluModel().SerializeAsString());
  auto bad_name = RunCli("run --onnx " + path + " --shapes q:1x3");
  EXPECT_EQ(bad_name.exit_code, 1);
  EXPECT_NE(bad_name.output.find("\"q\", which is not a runtime input"), std::string::npos) << bad_name.output;
  auto bad_syntax = RunCli("run --onnx " + path + " --shapes x:1xZ");
  EXPECT_EQ(bad_syntax.exit_code, 1);
  EXPECT_NE(bad_syntax.output.find("\"Z\" is not a non-negative integer"), std::string::npos);
  auto dynamic = RunCli("run --onnx " + path);
  EXPECT_EQ(dynamic.exit_code, 1);
  EXPECT_NE(dynamic.output.find("--shapes x:<dims>"), std::string::npos) << dynamic.output;
  auto ok = RunCli("run --onnx " + path + " --shapes x:4x3");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("output \"y\": f32[4,3]"), std::string::npos) << ok.output;
}

TEST(CliNegative, BadNpyInput) {
  TempDir dir;
  std::string path = dir.Write("m.onnx", AddReluModel().SerializeAsString());
  std::string npy = dir.Write("x.npy", "\x93NUMPY garbage");
  auto r = RunCli("run --onnx " + path + " --input x=" + npy);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("not a valid .npy file"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace frt
