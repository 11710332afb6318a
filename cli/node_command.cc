// `gongshe node --home DIR`: runs one validator until SIGINT or SIGTERM.

#include <google/protobuf/stubs/logging.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "node/config.h"
#include "node/node.h"

namespace gongshe::cli {
namespace {

// libprotobuf reports some parse problems of outside bytes (e.g. bad UTF-8 in a string field) on
// its own; they are already answered as errors, so they belong in the debug log only.
void ProtobufLog(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  if (level >= google::protobuf::LOGLEVEL_FATAL) {
    spdlog::critical("protobuf {}:{}: {}", file, line, message);
  } else {
    spdlog::debug("protobuf {}:{}: {}", file, line, message);
  }
}

void SetUpLogging(const node::NodeConfig& config) {
  auto logger = spdlog::stderr_color_mt("gongshe");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + config.moniker + "] %v");
  logger->set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_default_logger(logger);
  spdlog::flush_on(spdlog::level::warn);
  google::protobuf::SetLogHandler(&ProtobufLog);
}

int RunNode(const std::string& home, const std::string& log_level) {
  // Block the stop signals before any thread starts, so every thread inherits the mask and only
  // sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Result<node::NodeConfig> config = node::LoadNodeConfig(home);
  if (!config.ok()) {
    std::fprintf(stderr, "gongshe node: %s\n", config.status().ToString().c_str());
    return 1;
  }
  if (!log_level.empty()) config->log_level = log_level;
  SetUpLogging(*config);
  Result<std::unique_ptr<node::Node>> node = node::Node::Start(*config);
  if (!node.ok()) {
    spdlog::error("cannot start: {}", node.status().ToString());
    return 1;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("signal {}: stopping", signal);
  (*node)->Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void AddNodeCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("node", "Run one validator (its home folder is written by `gongshe init`)");
  auto home = std::make_shared<std::string>();
  auto log_level = std::make_shared<std::string>();
  cmd->add_option("--home", *home, "The validator's home folder (config.toml, keys/, data/)")->required();
  cmd->add_option("--log-level", *log_level, "trace, debug, info, warn or error (default: config.toml's)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cmd->callback([home, log_level] {
    const int code = RunNode(*home, *log_level);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace gongshe::cli
