#include "events/webhook_post.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "audit/audit_key.hpp"
#include "json/json_text.hpp"

namespace ctxmgr::kernel {

namespace {

constexpr std::size_t kMaxAnswerKept = 512;  // of a failed answer's body, for the log

}  // namespace

std::string webhook_body(std::string_view webhook_id, std::int64_t unix_seconds,
                         std::string_view event_json) {
  return "{\"webhook_id\":" + json_quote(webhook_id) +
         ",\"timestamp\":" + std::to_string(unix_seconds) + ",\"event\":" +
         std::string(event_json) + "}";
}

std::string webhook_signature(std::string_view secret, std::string_view body) {
  MacStream mac{std::string(secret)};
  mac.update(body);
  return "sha256=" + mac.final_hex();
}

PostOutcome post_webhook(const OutboundPolicy& policy, const WebhookPost& post,
                         std::int64_t unix_seconds) {
  const auto started = std::chrono::steady_clock::now();
  PostOutcome out;
  auto finish = [&](std::string error) {
    out.error = std::move(error);
    out.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    return out;
  };
  try {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    auto target = check_url(policy, post.url);
    if (!target) return finish(target.error().message());
    if (auto st = resolve_allowed(policy, *target); !st) return finish(st.error().message());

    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return finish("cannot start an HTTP client");
    // Connect to the addresses just checked, never to a second DNS answer.
    std::string pinned = target->host + ":" + std::to_string(target->port) + ":";
    for (std::size_t i = 0; i < target->addresses.size(); ++i) {
      const auto& a = target->addresses[i];
      pinned += (i == 0 ? "" : ",") + (a.find(':') != std::string::npos ? "[" + a + "]" : a);
    }
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> resolve(
        curl_slist_append(nullptr, pinned.c_str()), curl_slist_free_all);
    const std::string body = webhook_body(post.webhook_id, unix_seconds, post.event_json);
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
    auto add = [&](const std::string& h) {
      headers.reset(curl_slist_append(headers.release(), h.c_str()));
    };
    add("Content-Type: application/json");
    add("User-Agent: ctxmgr-webhooks/" CTXMGR_VERSION_TEXT);
    add("X-Ctxmgr-Webhook-Id: " + post.webhook_id);
    add("X-Ctxmgr-Event-Seq: " + std::to_string(post.seq));
    add("X-Ctxmgr-Timestamp: " + std::to_string(unix_seconds));
    add("X-Ctxmgr-Signature: " + webhook_signature(post.secret, body));
    add("Expect:");  // no 100-continue round trip

    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, post.url.c_str());
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(post.timeout.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    std::string answer;
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION,
                     +[](char* data, std::size_t size, std::size_t n, void* p) -> std::size_t {
                       auto* s = static_cast<std::string*>(p);
                       if (s->size() < kMaxAnswerKept) {
                         s->append(data, std::min(size * n, kMaxAnswerKept - s->size()));
                       }
                       return size * n;
                     });
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      return finish(rc == CURLE_OPERATION_TIMEDOUT
                        ? "no answer within " + std::to_string(post.timeout.count()) + " ms"
                        : std::string(curl_easy_strerror(rc)));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    out.status = static_cast<int>(status);
    if (out.delivered()) return finish("");
    std::string why = "the receiver answered " + std::to_string(status);
    // A receiver's text goes to the delivery log: printable ASCII only.
    for (char& ch : answer) {
      if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = ' ';
    }
    if (!answer.empty()) why += ": " + answer;
    return finish(std::move(why));
  } catch (const std::exception& e) {
    return finish(e.what());
  }
}

}  // namespace ctxmgr::kernel
