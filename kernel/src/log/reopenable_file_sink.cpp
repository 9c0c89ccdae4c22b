#include "log/reopenable_file_sink.hpp"

#include <spdlog/common.h>

namespace ctxmgr::kernel {

ReopenableFileSink::ReopenableFileSink(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "a");
  if (file_ == nullptr) throw spdlog::spdlog_ex("cannot open " + path_, errno);
  // Line by line: a line is in the file once logged (tail -f, a crash loses none).
  std::setvbuf(file_, nullptr, _IOLBF, 1 << 16);
}

ReopenableFileSink::~ReopenableFileSink() {
  if (file_ != nullptr) std::fclose(file_);
}

bool ReopenableFileSink::reopen() {
  std::lock_guard lock(mutex_);
  std::FILE* fresh = std::fopen(path_.c_str(), "a");
  if (fresh == nullptr) return false;
  std::setvbuf(fresh, nullptr, _IOLBF, 1 << 16);
  std::fclose(file_);
  file_ = fresh;
  return true;
}

void ReopenableFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  std::fwrite(line.data(), 1, line.size(), file_);
}

void ReopenableFileSink::flush_() { std::fflush(file_); }

}  // namespace ctxmgr::kernel
