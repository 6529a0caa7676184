// Option parsing shared by the fusionrt subcommands.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace frt::cli {

// trtexec syntax: "input_ids:1x128,mask:1x128". The separator is the last ':'
// of each item so names may contain ':'; "x:" is a scalar.
Result<std::map<std::string, Dims>> ParseShapes(const std::string& text);

// "name=path.npy" -> {name, path}.
Result<std::pair<std::string, std::string>> ParseInputFlag(const std::string& text);

// Prints "error: <code>: <message>" to stderr and returns the exit code 1.
int ReportError(const Status& s);

}  // namespace frt::cli
