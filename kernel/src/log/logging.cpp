#include "log/logging.hpp"
#include "log/log_sink.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ctxmgr::kernel {

namespace {

// One JSON object per line: {"time","level","logger","message"}; Boost.JSON does the escaping.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(us / 1000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char when[40];
    const auto n = std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(when + n, sizeof when - n, ".%03dZ", static_cast<int>(us / 1000 % 1000));
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line = "{\"time\":\"";
    line += when;
    line += "\",\"level\":\"";
    line.append(level.data(), level.size());
    line += "\",\"logger\":";
    line += boost::json::serialize(boost::json::value(
        boost::json::string_view(msg.logger_name.data(), msg.logger_name.size())));
    line += ",\"message\":";
    line += boost::json::serialize(
        boost::json::value(boost::json::string_view(msg.payload.data(), msg.payload.size())));
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::unique_ptr<spdlog::formatter> make_formatter(bool json);

// Writes what a burst left in the sink's buffer every kFlushEvery (log_sink.hpp).
constexpr auto kFlushEvery = std::chrono::milliseconds(20);

struct LogState {
  LogState() {
    sink->set_formatter(make_formatter(false));
    flusher = std::thread([this] {
      std::unique_lock lock(mu);
      while (!stopping) {
        stopped.wait_for(lock, kFlushEvery, [this] { return stopping; });
        // The write happens outside `mu`: configuring or making a logger never waits for it.
        auto current = sink;
        lock.unlock();
        current->flush_pending();
        lock.lock();
      }
    });
  }
  ~LogState() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    stopped.notify_all();
    flusher.join();
    sink->flush();
  }
  std::mutex mu;  // guards sink (the pointer), level, json, stopping
  std::shared_ptr<LogSink> sink = std::make_shared<LogSink>();
  spdlog::level::level_enum level = spdlog::level::info;
  bool json = false;
  bool stopping = false;
  std::condition_variable stopped;
  std::thread flusher;
};

LogState& state() {
  static LogState s;
  return s;
}

std::unique_ptr<spdlog::formatter> make_formatter(bool json) {
  if (json) return std::make_unique<JsonFormatter>();
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v",
                                                     spdlog::pattern_time_type::utc);
}

void apply(spdlog::logger& logger, const LogState& s) {
  logger.sinks().clear();
  logger.sinks().push_back(s.sink);
  logger.set_level(s.level);
  logger.flush_on(spdlog::level::warn);
}

std::shared_ptr<spdlog::logger> get_or_make(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto& s = state();
  auto logger = std::make_shared<spdlog::logger>(name, s.sink);
  apply(*logger, s);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace

sdk::Status configure_logging(const LogConfig& config) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  std::shared_ptr<LogSink> sink;
  if (config.file.empty()) {
    sink = std::make_shared<LogSink>();
  } else {
    try {
      sink = std::make_shared<LogSink>(config.file);
    } catch (const spdlog::spdlog_ex& e) {
      return sdk::Error(sdk::Errc::invalid_request,
                        "server.log.file: cannot open " + config.file + ": " + e.what());
    }
  }
  s.json = config.format == "json";
  sink->set_formatter(make_formatter(s.json));
  s.sink->flush();  // what the old sink holds goes out before the new one writes
  s.sink = sink;
  s.level = spdlog::level::from_str(config.level);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { apply(*l, s); });
  return {};
}

bool reopen_log_file() {
  auto& s = state();
  std::shared_ptr<LogSink> sink;
  {
    std::lock_guard lock(s.mu);
    sink = s.sink;
  }
  return sink->reopen();
}

spdlog::logger& kernel_log() {
  static std::shared_ptr<spdlog::logger> log = [] {
    std::lock_guard lock(state().mu);
    return get_or_make("ctxmgr");
  }();
  return *log;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name) {
  std::lock_guard lock(state().mu);
  return get_or_make(name);
}

}  // namespace ctxmgr::kernel
