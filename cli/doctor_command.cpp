// keel doctor RUN_DIR [--json]: what looked unhealthy in a run, when, and what usually helps.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "experiments/doctor.h"

namespace keel::cli {

void add_doctor_command(CLI::App& app) {
  struct Args {
    std::string run_dir;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "doctor", "read a run's metrics and events; name what looked unhealthy and when");
  cmd->add_option("RUN_DIR", args->run_dir, "a run directory")->required();
  cmd->add_flag("--json", args->json, "print the findings as JSON");
  cmd->callback([args] {
    const Json d = experiments::doctor(args->run_dir);
    if (args->json) {
      std::printf("%s\n", d.dump(2).c_str());
    } else {
      std::printf("%s", experiments::doctor_report(d).c_str());
    }
  });
}

}  // namespace keel::cli
