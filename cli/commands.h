// The keel command's subcommands. Each add_* registers one subcommand on the CLI11 app.
#pragma once

namespace CLI {
class App;
}

namespace keel::cli {

void add_env_commands(CLI::App& app);    // env-stats, env-replay
void add_list_command(CLI::App& app);    // list envs|agents|configs
void add_train_commands(CLI::App& app);  // train, eval, config
void add_doctor_command(CLI::App& app);  // doctor

}  // namespace keel::cli
