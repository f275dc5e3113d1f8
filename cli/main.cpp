// keel — train, evaluate and inspect RL agents and environments.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"keel: a C++ reinforcement-learning framework"};
  app.require_subcommand(1);
  keel::cli::add_env_commands(app);
  keel::cli::add_list_command(app);
  keel::cli::add_train_commands(app);
  keel::cli::add_doctor_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const keel::Error& e) {
    std::fprintf(stderr, "keel: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keel: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
