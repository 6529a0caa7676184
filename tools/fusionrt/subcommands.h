// Each fusionrt subcommand registers its flags on the app and returns the
// function that runs it once parsing succeeded.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace frt::cli {

using Runner = std::function<int()>;

Runner AddRunCommand(CLI::App& app);
Runner AddOpsCommand(CLI::App& app);

}  // namespace frt::cli
