#pragma once
// Running the real ctxmgr executable from tests: one-shot commands with their output and exit
// code, and long-running children (a server) that a test can signal and wait for.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace ctxmgr::test {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] with argv, adding `env` to the inherited environment, in `cwd` if not empty.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          const std::string& cwd = {});

class ChildProcess {
 public:
  // Starts argv with stdout and stderr appended to `log_file`.
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& log_file, const std::string& cwd = {});
  ~ChildProcess();  // SIGKILLs a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for the exit, at most `timeout_ms`; the exit code, or -1 on timeout.
  int wait(int timeout_ms);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();
// The port in a log's first "listening on http://HOST:PORT" (transport-http's line, and the
// bench's fake embedder's), 0 while there is none. A server told to listen on port 0 says there
// which port it took: a port picked by free_port() and handed over can be taken meanwhile by a
// process of a test running beside this one (ctest -j2), which this test would then talk to.
int listening_port(const std::string& log);

// A fresh temporary directory, removed by the caller (or left for inspection on failure).
std::string make_temp_dir();

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

}  // namespace ctxmgr::test
