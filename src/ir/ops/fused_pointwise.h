// FusedPointwise's program encoding (docs/fused_ops.md): an op whose
// computation is a small straight-line program over registers, evaluated
// element by element with numpy broadcasting of its inputs onto the output
// shape (the broadcast of every input's shape).
//
// Attributes of a FusedPointwise node:
//   program      ints, 5 per instruction: opcode, dst, a, b, c
//   params       floats, the scalar parameters some opcodes read (may be absent)
//   output_dtype int, an frt::DType: the dtype of the last instruction's register
//
// Registers: 0 .. num_inputs-1 hold the inputs; instruction k writes register
// num_inputs + k (dst must say so: the program is in SSA form, every register
// is written once, and a source must name a lower register). The result is
// the last instruction's register. Unused source slots are -1.
//
// Operands per opcode (x, y: source registers):
//   unary   a = x                           Identity Neg Abs Exp Log Sqrt Reciprocal Erf Tanh
//                                           Sigmoid Relu Gelu GeluTanh Floor Ceil Sin Cos
//                                           Softplus Mish Not IsNaN
//   unary+p a = x, b = index into params   Swish (alpha), LeakyRelu (alpha)
//   Cast    a = x, b = target frt::DType
//   binary  a = x, b = y                    Add Sub Mul Div Pow Max Min Equal Less LessOrEqual
//                                           Greater GreaterOrEqual And Or Xor
//   Where   a = condition, b = x, c = y
//   Clip    a = x, b = min register or -1, c = max register or -1 (ONNX Clip: max wins)
//
// Register dtypes: f16, bf16, f32, f64 and bool, nothing else (integer
// tensors are left to the unfused ops; fuse_elementwise never builds a group
// that touches one). Typing follows the ONNX op each opcode stands for:
// arithmetic and math take floats of one dtype (Pow: any two float dtypes,
// result the base's); comparisons take two operands of one dtype (float, or
// bool for Equal) and give bool; Not/And/Or/Xor take and give bool; Where
// takes a bool condition and two operands of one dtype; Cast converts between
// any two register dtypes; Clip's bounds have x's dtype.
//
// Numerics: each instruction computes what the unfused op computes and its
// result is rounded to its register's dtype, as the unfused op's output would
// be; the CPU reference (double per instruction, then that rounding) is
// therefore bit-identical to the unfused reference kernels, which lets the
// engine keep its bit-exact checks against the reference executor. Opcodes
// map to single ONNX ops for that reason (no multi-input Sum: its kernel
// rounds once over all inputs). A GPU kernel may keep f16/bf16 intermediates
// in f32 (rounding only at Casts and the output); its tolerance is stated
// with its op-conformance case.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace frt::pointwise {

enum class Opcode : int64_t {
  // Unary.
  kIdentity = 0,
  kNeg = 1,
  kAbs = 2,
  kExp = 3,
  kLog = 4,
  kSqrt = 5,
  kReciprocal = 6,
  kErf = 7,
  kTanh = 8,
  kSigmoid = 9,
  kRelu = 10,
  kGelu = 11,
  kGeluTanh = 12,
  kFloor = 13,
  kCeil = 14,
  kSin = 15,
  kCos = 16,
  kSoftplus = 17,
  kMish = 18,
  kNot = 19,
  kIsNaN = 20,
  // Unary with a parameter (b indexes `params`).
  kSwish = 32,
  kLeakyRelu = 33,
  // Conversion (b is the target DType).
  kCast = 40,
  // Binary.
  kAdd = 48,
  kSub = 49,
  kMul = 50,
  kDiv = 51,
  kPow = 52,
  kMax = 53,
  kMin = 54,
  kEqual = 55,
  kLess = 56,
  kLessOrEqual = 57,
  kGreater = 58,
  kGreaterOrEqual = 59,
  kAnd = 60,
  kOr = 61,
  kXor = 62,
  // Ternary.
  kWhere = 64,
  kClip = 65,
};

// Ints per instruction in the `program` attribute.
inline constexpr size_t kInstructionWidth = 5;

struct Instruction {
  Opcode op = Opcode::kIdentity;
  int64_t dst = 0;
  int64_t a = -1;
  int64_t b = -1;
  int64_t c = -1;
};

// A decoded and validated program.
struct Program {
  std::vector<Instruction> code;
  std::vector<float> params;
  // Dtype of every register: the inputs', then one per instruction.
  std::vector<DType> reg_dtypes;
  DType output_dtype = DType::kUndefined;
};

// "Add", "GeluTanh", ...; "?" for a value that is no opcode.
std::string_view OpcodeName(Opcode op);

// True for the dtypes a register may have (f16, bf16, f32, f64, bool).
bool IsRegisterDType(DType t);

// Decodes `node`'s attributes and checks them against the given input dtypes:
// width, known opcodes, SSA numbering, sources defined before use, parameter
// indices, typing of each instruction, output_dtype equal to the last
// register's dtype. Errors (kInvalidModel) start with node.Describe() and name
// the instruction. Thread safe (pure function).
Result<Program> DecodeProgram(const Node& node, const std::vector<DType>& input_dtypes);

// Appends one instruction to an encoded program (for passes building one).
void AppendInstruction(std::vector<int64_t>& program, const Instruction& ins);

}  // namespace frt::pointwise
