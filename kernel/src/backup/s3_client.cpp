#include "backup/s3_client.hpp"

#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <regex>

#include "core/sha256.hpp"

namespace ctxmgr::kernel {

namespace {

// The SHA-256 of nothing: the payload hash of a GET.
constexpr const char* kEmptyHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// Percent-encodes a key for the URL path, keeping its slashes (as S3 expects).
std::string encode_key(CURL* curl, const std::string& key) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const auto slash = key.find('/', start);
    const std::string part = key.substr(start, slash - start);
    char* enc = curl_easy_escape(curl, part.c_str(), static_cast<int>(part.size()));
    out += enc != nullptr ? enc : "";
    curl_free(enc);
    if (slash == std::string::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

std::size_t append_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::size_t write_file(char* data, std::size_t size, std::size_t n, void* out) {
  return std::fwrite(data, size, n, static_cast<FILE*>(out)) * size;
}

// The <Code> of an S3 error body, if it has one.
std::string error_code(const std::string& body) {
  static const std::regex kCode("<Code>([^<]{1,100})</Code>");
  std::smatch m;
  return std::regex_search(body, m, kCode) ? m[1].str() : std::string();
}

struct Request {
  const S3Settings& s3;
  const S3Object& object;
  const char* method;  // for messages
};

// Runs a prepared transfer; sdk::Error names the object and the outcome, never a credential.
sdk::Status perform(const Request& r, CURL* curl, const std::string& payload_hash, FILE* download,
                    std::string& error_body) {
  std::string url = r.s3.endpoint;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/" + r.object.bucket + "/" + encode_key(curl, r.object.key);
  const std::string sigv4 = "aws:amz:" + r.s3.region + ":s3";

  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
  auto add = [&](const std::string& h) {
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  };
  add("x-amz-content-sha256: " + payload_hash);
  if (!r.s3.session_token.empty()) add("x-amz-security-token: " + r.s3.session_token);

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_AWS_SIGV4);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, r.s3.access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, r.s3.secret_key.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  // A transfer that moves less than 1 byte/s for 60 s is dead; a big one may take its time.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");

  // The body goes to the file only on success; an error body is kept to name the S3 error code.
  struct Sink {
    FILE* file;
    std::string* error;
    long status = 0;
    CURL* curl;
  } sink{download, &error_body, 0, curl};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION,
      +[](char* data, std::size_t size, std::size_t n, void* p) -> std::size_t {
        auto* s = static_cast<Sink*>(p);
        if (s->status == 0) curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
        if (s->status / 100 == 2 && s->file != nullptr) return write_file(data, size, n, s->file);
        return append_body(data, size, n, s->error);
      });

  const CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    return sdk::Error(sdk::Errc::unavailable,
                      std::string(r.method) + " " + r.object.url() + ": " + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status / 100 != 2) {
    const std::string code = error_code(error_body);
    return sdk::Error(status == 404 ? sdk::Errc::not_found : sdk::Errc::unavailable,
                      std::string(r.method) + " " + r.object.url() + ": HTTP " +
                          std::to_string(status) + (code.empty() ? "" : " " + code));
  }
  return {};
}

using CurlPtr = std::unique_ptr<CURL, void (*)(CURL*)>;

CurlPtr new_curl() {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)initialised;
  return CurlPtr(curl_easy_init(), curl_easy_cleanup);
}

}  // namespace

sdk::Result<S3Object> parse_s3_url(std::string_view url) {
  constexpr std::string_view kScheme = "s3://";
  if (!url.starts_with(kScheme)) {
    return sdk::Error(sdk::Errc::invalid_request, "not an s3:// URL: " + std::string(url));
  }
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == url.size()) {
    return sdk::Error(sdk::Errc::invalid_request, "an S3 URL is s3://bucket/key");
  }
  S3Object o{std::string(url.substr(0, slash)), std::string(url.substr(slash + 1))};
  static const std::regex kBucket("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
  if (!std::regex_match(o.bucket, kBucket)) {
    return sdk::Error(sdk::Errc::invalid_request, "not a valid S3 bucket name: " + o.bucket);
  }
  // "." and ".." segments would be resolved by the HTTP path (s3://b/../other/k is another
  // bucket's object), and empty ones are a typo: refused rather than sent.
  for (std::size_t start = 0;;) {
    const auto end = o.key.find('/', start);
    const std::string segment = o.key.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return sdk::Error(sdk::Errc::invalid_request,
                        "an S3 key must not have empty, \".\" or \"..\" segments: " + o.key);
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return o;
}

sdk::Result<S3Settings> s3_settings_from_environment(const std::string& endpoint_flag) {
  S3Settings s;
  s.region = env("AWS_REGION");
  if (s.region.empty()) s.region = env("AWS_DEFAULT_REGION");
  if (s.region.empty()) s.region = "us-east-1";
  s.endpoint = endpoint_flag;
  if (s.endpoint.empty()) s.endpoint = env("AWS_ENDPOINT_URL_S3");
  if (s.endpoint.empty()) s.endpoint = env("AWS_ENDPOINT_URL");
  if (s.endpoint.empty()) s.endpoint = "https://s3." + s.region + ".amazonaws.com";
  s.access_key = env("AWS_ACCESS_KEY_ID");
  s.secret_key = env("AWS_SECRET_ACCESS_KEY");
  s.session_token = env("AWS_SESSION_TOKEN");
  if (s.access_key.empty() || s.secret_key.empty()) {
    return sdk::Error(sdk::Errc::invalid_request,
                      "S3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
  }
  return s;
}

sdk::Status s3_put_file(const S3Settings& s3, const S3Object& object, const std::string& path) {
  auto hash = sha256_file_hex(path);
  if (!hash) return hash.error();
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) {
    return sdk::Error(sdk::Errc::internal, "cannot read " + path + ": " + std::strerror(errno));
  }
  std::fseek(f.get(), 0, SEEK_END);
  const long size = std::ftell(f.get());
  std::rewind(f.get());
  auto curl = new_curl();
  curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_READDATA, f.get());
  curl_easy_setopt(curl.get(), CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  std::string error_body;
  return perform({s3, object, "PUT"}, curl.get(), *hash, nullptr, error_body);
}

sdk::Status s3_get_file(const S3Settings& s3, const S3Object& object, const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!f) {
    return sdk::Error(sdk::Errc::internal, "cannot write " + path + ": " + std::strerror(errno));
  }
  auto curl = new_curl();
  std::string error_body;
  auto got = perform({s3, object, "GET"}, curl.get(), kEmptyHash, f.get(), error_body);
  if (!got) return got;
  if (std::fflush(f.get()) != 0) {
    return sdk::Error(sdk::Errc::internal, "cannot write " + path + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace ctxmgr::kernel
