#pragma once
// The kernel's logging, on spdlog: levels, text or JSON lines, stderr or a file. Every logger
// (the kernel's and one per plugin instance) shares one sink, so all lines go to one place in
// one format.

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "config/config.hpp"

namespace ctxmgr::kernel {

// Replaces the sink, format and level of every logger. Before it is called, logs go to stderr as
// text at level info. Returns an error when the log file cannot be opened.
sdk::Status configure_logging(const LogConfig& config);

// Reopens the log file by its name (SIGHUP, after logrotate moved it); true without a file.
bool reopen_log_file();

// The kernel's own logger ("ctxmgr").
spdlog::logger& kernel_log();

// A logger named `name` that writes through the shared sink.
std::shared_ptr<spdlog::logger> make_logger(const std::string& name);

}  // namespace ctxmgr::kernel
