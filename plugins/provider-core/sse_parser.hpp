#pragma once
// Server-sent events as the providers stream them: `event:` and `data:` lines, a blank line ends
// an event (several data lines join with "\n"; comments and other fields are skipped; CRLF or
// LF). Bytes may arrive cut anywhere.

#include <functional>
#include <string>
#include <string_view>

namespace ctxmgr::provider {

class SseParser {
 public:
  // Called per event; false stops the stream.
  using OnEvent = std::function<bool(std::string_view event, std::string_view data)>;
  explicit SseParser(OnEvent on_event) : on_event_(std::move(on_event)) {}

  // false once on_event asked to stop.
  bool feed(std::string_view bytes);

 private:
  bool line(std::string_view text);

  OnEvent on_event_;
  std::string partial_;
  std::string event_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace ctxmgr::provider
