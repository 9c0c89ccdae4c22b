#include "log/log_sink.hpp"

#include <spdlog/common.h>

namespace ctxmgr::kernel {

namespace {

constexpr std::size_t kBuffer = 1 << 16;

}  // namespace

LogSink::LogSink() : file_(stderr) { std::setvbuf(file_, nullptr, _IOFBF, kBuffer); }

LogSink::LogSink(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "a");
  if (file_ == nullptr) throw spdlog::spdlog_ex("cannot open " + path_, errno);
  std::setvbuf(file_, nullptr, _IOFBF, kBuffer);
}

LogSink::~LogSink() {
  std::fflush(file_);
  if (!path_.empty()) std::fclose(file_);
}

bool LogSink::reopen() {
  if (path_.empty()) return true;
  std::lock_guard lock(mutex_);
  std::FILE* fresh = std::fopen(path_.c_str(), "a");
  if (fresh == nullptr) return false;
  std::setvbuf(fresh, nullptr, _IOFBF, kBuffer);
  std::fclose(file_);  // writes what waited to the old file first
  file_ = fresh;
  pending_ = false;
  return true;
}

void LogSink::flush_pending() {
  std::lock_guard lock(mutex_);
  if (pending_) flush_();
}

void LogSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  std::fwrite(line.data(), 1, line.size(), file_);
  const auto now = std::chrono::steady_clock::now();
  if (msg.level >= spdlog::level::warn || now - written_at_ >= kPace) {
    flush_();
  } else {
    pending_ = true;
  }
}

void LogSink::flush_() {
  std::fflush(file_);
  pending_ = false;
  written_at_ = std::chrono::steady_clock::now();
}

}  // namespace ctxmgr::kernel
