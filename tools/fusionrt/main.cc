// fusionrt: the command-line front end. One file per subcommand.
#include <iostream>

#include "subcommands.h"

int main(int argc, char** argv) {
  CLI::App app{"FusionRT: ONNX inference optimizer and runtime"};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, frt::cli::Runner>> commands;
  auto add = [&](frt::cli::Runner (*fn)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    frt::cli::Runner r = fn(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(r));
  };
  add(frt::cli::AddBuildCommand);
  add(frt::cli::AddRunCommand);
  add(frt::cli::AddBenchCommand);
  add(frt::cli::AddInspectCommand);
  add(frt::cli::AddOpsCommand);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (auto& [sub, runner] : commands) {
    if (sub->parsed()) return runner();
  }
  return 2;
}
