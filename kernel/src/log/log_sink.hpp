#pragma once
// Where log lines go: standard error or a file, which can be reopened (logrotate renames the file,
// sends SIGHUP, and the next line goes to a new file of the old name).
//
// Lines are written at once, except under a burst: a line that comes within kPace of the last
// write waits in the buffer (64 KiB) for the next line past kPace, a warning, a full buffer or
// flush_pending() (the logging module calls it every 20 ms). So a quiet server's lines are out as
// they are logged (tail -f, the tests that read the log), and a busy one's access log — a line
// per request — costs a write per kPace instead of a write per request (bench/README.md). A crash
// loses at most what waited, 20 ms of a burst; warnings and errors never wait.
//
// Thread-safety: spdlog's sink mutex; every method from any thread.

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>

namespace ctxmgr::kernel {

class LogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr auto kPace = std::chrono::milliseconds(1);

  // Standard error.
  LogSink();
  // The file at `path`, appended to. Throws spdlog::spdlog_ex when it cannot be opened.
  explicit LogSink(std::string path);
  ~LogSink() override;
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  // Closes and opens the file again by its name; false (and the old file kept) when that fails.
  // Standard error: true, nothing to do.
  bool reopen();
  // Writes what waits in the buffer, if anything does.
  void flush_pending();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  std::string path_;  // empty: standard error
  std::FILE* file_ = nullptr;
  bool pending_ = false;  // lines in the buffer
  std::chrono::steady_clock::time_point written_at_{};
};

}  // namespace ctxmgr::kernel
