#pragma once
// A file sink that appends and can reopen its file: logrotate renames the file, sends SIGHUP,
// and the next line goes to a new file of the old name.

#include <cstdio>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>

namespace ctxmgr::kernel {

class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Throws spdlog::spdlog_ex when the file cannot be opened.
  explicit ReopenableFileSink(std::string path);
  ~ReopenableFileSink() override;
  ReopenableFileSink(const ReopenableFileSink&) = delete;
  ReopenableFileSink& operator=(const ReopenableFileSink&) = delete;

  // Closes and opens the file again by its name; false (and the old file kept) when that fails.
  bool reopen();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace ctxmgr::kernel
