#include "sse_parser.hpp"

namespace ctxmgr::provider {

bool SseParser::feed(std::string_view bytes) {
  partial_.append(bytes);
  std::size_t start = 0;
  for (;;) {
    const auto nl = partial_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view text(partial_.data() + start, nl - start);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    start = nl + 1;
    if (!line(text)) {
      partial_.clear();
      return false;
    }
  }
  partial_.erase(0, start);
  return true;
}

bool SseParser::line(std::string_view text) {
  if (text.empty()) {
    const bool go = !has_data_ && event_.empty() ? true : on_event_(event_, data_);
    event_.clear();
    data_.clear();
    has_data_ = false;
    return go;
  }
  if (text.front() == ':') return true;  // a comment
  const auto colon = text.find(':');
  std::string_view field = text.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "event") {
    event_ = std::string(value);
  } else if (field == "data") {
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
  }
  return true;
}

}  // namespace ctxmgr::provider
