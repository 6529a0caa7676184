// Einsum: equation planning (nn_einsum.h) and the schema. Semantics follow
// numpy.einsum: in implicit mode the output is the broadcast ("...") dims
// followed by the labels that occur exactly once, in alphabetical (ASCII)
// order; labels missing from the output are summed over.
#include "ir/ops/nn_einsum.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "ir/ops/nn_schema_util.h"

namespace frt::nn {
namespace {

template <class... Args>
Status EinsumError(const Node& node, const Args&... args) {
  return MakeError(StatusCode::kInvalidModel, node.Describe(), ": ", args...);
}

struct Term {
  std::vector<int> before;  // letters before "..." (all letters when there is none)
  std::vector<int> after;   // letters after "..."
  bool ellipsis = false;
};

Result<Term> ParseTerm(const Node& node, const std::string& text) {
  Term t;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (std::isalpha(static_cast<unsigned char>(c))) {
      (t.ellipsis ? t.after : t.before).push_back(c);
    } else if (c == '.' && text.compare(i, 3, "...") == 0 && !t.ellipsis) {
      t.ellipsis = true;
      i += 2;
    } else {
      return EinsumError(node, "equation term \"", text, "\" has an unexpected '", c,
                         "' (allowed: letters and at most one \"...\")");
    }
  }
  return t;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts(1);
  for (char c : s) {
    if (c == sep) {
      parts.emplace_back();
    } else {
      parts.back().push_back(c);
    }
  }
  return parts;
}

}  // namespace

Result<EinsumPlan> PlanEinsum(const Node& node, const std::string& equation,
                              const std::vector<size_t>& ranks) {
  std::string eq;
  for (char c : equation) {
    if (!std::isspace(static_cast<unsigned char>(c))) eq.push_back(c);
  }
  std::string lhs = eq, rhs;
  const size_t arrow = eq.find("->");
  const bool explicit_out = arrow != std::string::npos;
  if (explicit_out) {
    lhs = eq.substr(0, arrow);
    rhs = eq.substr(arrow + 2);
  }
  std::vector<std::string> texts = Split(lhs, ',');
  if (texts.size() != ranks.size()) {
    return EinsumError(node, "equation \"", equation, "\" has ", texts.size(),
                       " input terms but the node has ", ranks.size(), " inputs");
  }
  std::vector<Term> terms;
  size_t ellipsis_rank = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    FRT_ASSIGN_OR_RETURN(Term t, ParseTerm(node, texts[i]));
    size_t letters = t.before.size() + t.after.size();
    if (t.ellipsis ? letters > ranks[i] : letters != ranks[i]) {
      return EinsumError(node, "equation term \"", texts[i], "\" names ", letters,
                         " axes but input ", i, " has rank ", ranks[i]);
    }
    if (t.ellipsis) ellipsis_rank = std::max(ellipsis_rank, ranks[i] - letters);
    terms.push_back(std::move(t));
  }
  EinsumPlan plan;
  std::map<int, int> count;
  for (size_t i = 0; i < terms.size(); ++i) {
    const Term& t = terms[i];
    std::vector<int> labels = t.before;
    if (t.ellipsis) {
      size_t own = ranks[i] - t.before.size() - t.after.size();
      for (size_t j = 0; j < own; ++j) {
        labels.push_back(EinsumPlan::kEllipsisLabel + static_cast<int>(ellipsis_rank - own + j));
      }
    }
    labels.insert(labels.end(), t.after.begin(), t.after.end());
    for (int l : t.before) ++count[l];
    for (int l : t.after) ++count[l];
    plan.operand_labels.push_back(std::move(labels));
  }
  auto ellipsis_labels = [&] {
    std::vector<int> v;
    for (size_t j = 0; j < ellipsis_rank; ++j) {
      v.push_back(EinsumPlan::kEllipsisLabel + static_cast<int>(j));
    }
    return v;
  };
  if (explicit_out) {
    FRT_ASSIGN_OR_RETURN(Term out, ParseTerm(node, rhs));
    std::vector<int> letters = out.before;
    letters.insert(letters.end(), out.after.begin(), out.after.end());
    for (size_t i = 0; i < letters.size(); ++i) {
      if (!count.count(letters[i])) {
        return EinsumError(node, "output label '", static_cast<char>(letters[i]),
                           "' of equation \"", equation, "\" appears in no input term");
      }
      if (std::count(letters.begin(), letters.end(), letters[i]) > 1) {
        return EinsumError(node, "output label '", static_cast<char>(letters[i]),
                           "' of equation \"", equation, "\" appears more than once");
      }
    }
    plan.output_labels = out.before;
    if (out.ellipsis) {
      std::vector<int> e = ellipsis_labels();
      plan.output_labels.insert(plan.output_labels.end(), e.begin(), e.end());
    }
    plan.output_labels.insert(plan.output_labels.end(), out.after.begin(), out.after.end());
  } else {
    plan.output_labels = ellipsis_labels();
    for (const auto& [label, n] : count) {  // std::map: ascending character order
      if (n == 1) plan.output_labels.push_back(label);
    }
  }
  plan.num_labels = EinsumPlan::kEllipsisLabel + static_cast<int>(ellipsis_rank);
  return plan;
}

Result<std::vector<int64_t>> EinsumLabelSizes(const Node& node, const EinsumPlan& plan,
                                              const std::vector<Dims>& dims) {
  std::vector<int64_t> size(plan.num_labels, -1);
  std::vector<bool> used(plan.num_labels, false);
  std::vector<bool> unknown(plan.num_labels, false);  // some operand's size is unknown
  for (size_t i = 0; i < plan.operand_labels.size(); ++i) {
    const std::vector<int>& labels = plan.operand_labels[i];
    for (size_t a = 0; a < labels.size(); ++a) {
      const int l = labels[a];
      const int64_t d = dims[i][a];
      const bool broadcast = l >= EinsumPlan::kEllipsisLabel;
      if (d < 0) unknown[l] = true;
      if (!used[l]) {
        used[l] = true;
        size[l] = d;
        continue;
      }
      if (d < 0) continue;
      if (size[l] < 0 || (broadcast && size[l] == 1)) {
        size[l] = d;
      } else if (d != size[l] && !(broadcast && d == 1)) {
        if (broadcast) {
          return EinsumError(node, "broadcast (\"...\") dimension of input ", i, " is ", d,
                             " but another operand has ", size[l]);
        }
        return EinsumError(node, "label '", static_cast<char>(l), "' has size ", d, " in input ", i,
                           " but ", size[l], " elsewhere");
      }
    }
  }
  // A broadcast dim seen as 1 and as unknown may stretch: unknown.
  for (int l = EinsumPlan::kEllipsisLabel; l < plan.num_labels; ++l) {
    if (unknown[l] && size[l] == 1) size[l] = -1;
  }
  return size;
}

namespace {

bool IsEinsumType(DType t) { return IsComputeFloat(t) || (IsInteger(t) && t != DType::kBool); }

Status InferEinsum(InferContext& ctx) {
  FRT_RETURN_IF_ERROR(RequireDType(ctx, 0, "Inputs", IsEinsumType, "a float or integer type"));
  FRT_RETURN_IF_ERROR(CheckSameDTypes(ctx, 0, ctx.num_inputs() - 1));
  const DType dtype = ctx.input_dtype(0);
  if (!ctx.attrs().Has("equation")) {
    return ctx.Error(StatusCode::kInvalidModel, "attribute equation is required");
  }
  std::vector<size_t> ranks;
  std::vector<Dims> dims;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Shape* s = ctx.input_shape(i);
    if (!s) {
      ctx.SetOutputDType(0, dtype);
      return Status::Ok();
    }
    ranks.push_back(s->rank());
    Dims d;
    for (const Dim& x : s->dims()) d.push_back(x.is_static() ? x.value() : -1);
    dims.push_back(std::move(d));
  }
  FRT_ASSIGN_OR_RETURN(EinsumPlan plan,
                       PlanEinsum(ctx.node(), ctx.attrs().GetString("equation"), ranks));
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> size, EinsumLabelSizes(ctx.node(), plan, dims));
  std::vector<Dim> out;
  for (int l : plan.output_labels) out.push_back(size[l] >= 0 ? Dim(size[l]) : Dim());
  ctx.SetOutput(0, dtype, Shape(std::move(out)));
  return Status::Ok();
}

}  // namespace

void RegisterNnEinsumOps(OpRegistry& r) {
  r.Register(
      {OpKind::kEinsum, FusionKind::kOpaque, PrecisionPolicy::kAlways, 1, -1, 1, 1, InferEinsum});
}

}  // namespace frt::nn
