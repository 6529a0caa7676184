// Each fusionrt subcommand registers its flags on the app and returns the
// function that runs it once parsing succeeded.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace frt::cli {

using Runner = std::function<int()>;

Runner AddBuildCommand(CLI::App& app);
Runner AddRunCommand(CLI::App& app);
Runner AddBenchCommand(CLI::App& app);
Runner AddInspectCommand(CLI::App& app);
Runner AddOpsCommand(CLI::App& app);

}  // namespace frt::cli
