#include "audit/audit_key.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/sha256.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

namespace {

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  std::string out(32, '\0');
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + 2 * i + 2) return std::nullopt;
    out[i] = static_cast<char>(v);
  }
  return out;
}

}  // namespace

sdk::Status write_private(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const auto parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::exists(parent)) {
    fs::create_directories(parent, ec);
    if (ec)
      return Error(Errc::unavailable, "cannot create " + parent.string() + ": " + ec.message());
    fs::permissions(parent, fs::perms::owner_all, ec);
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return Error(Errc::unavailable, "cannot write " + tmp);
  ::fchmod(fd, 0600);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error(Errc::unavailable, "cannot write " + path);
  }
  return {};
}

sdk::Result<AuditKeys> AuditKeys::load_file(const std::string& path, bool create) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) {
    if (!create) return Error(Errc::not_found, "no audit key file " + path);
    if (auto st = write_private(path, "# ctxmgr audit chain keys: <id> <hex>; the last seals\n1 " +
                                          random_hex(32) + "\n");
        !st) {
      return st.error();
    }
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Error(Errc::unavailable, "cannot read " + path);
  if ((info.st_mode & 077) != 0) {
    return Error(Errc::invalid_request,
                 "the audit key file " + path +
                     " may be read or written by other users; chmod 600 it (anyone who reads it "
                     "can forge the audit chain)");
  }
  std::ifstream in(path);
  if (!in) return Error(Errc::unavailable, "cannot read " + path);
  AuditKeys keys;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line.front() == '#') continue;
    std::istringstream fields(line);
    int id = 0;
    std::string hex, extra;
    fields >> id >> hex >> extra;
    auto raw = from_hex(hex);
    if (id < 1 || !raw || !extra.empty() || keys.keys_.count(id) != 0) {
      return Error(Errc::invalid_request, path + ":" + std::to_string(number) +
                                              ": expected \"<id> <64 hex digits>\" with a new id");
    }
    keys.keys_[id] = *raw;
    keys.current_ = id;
  }
  if (keys.keys_.empty()) return Error(Errc::invalid_request, path + " holds no key");
  return keys;
}

sdk::Result<AuditKeys> AuditKeys::parse_env(std::string_view text) {
  AuditKeys keys;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto colon = item.find(':');
    int id = 0;
    const auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    auto raw = colon == std::string_view::npos ? std::nullopt : from_hex(item.substr(colon + 1));
    if (ec != std::errc() || p != item.data() + colon || id < 1 || !raw ||
        keys.keys_.count(id) != 0) {
      return Error(Errc::invalid_request,
                   "CTXMGR_AUDIT_KEY: expected <id>:<64 hex digits>[,<id>:<hex>...]");
    }
    keys.keys_[id] = *raw;
    keys.current_ = id;
  }
  if (keys.keys_.empty()) return Error(Errc::invalid_request, "CTXMGR_AUDIT_KEY is empty");
  return keys;
}

sdk::Result<int> AuditKeys::rotate_file(const std::string& path) {
  auto keys = load_file(path, false);
  if (!keys) return keys.error();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  if (!all.empty() && all.back() != '\n') all += '\n';
  const int id = keys->keys_.rbegin()->first + 1;
  all += std::to_string(id) + " " + random_hex(32) + "\n";
  if (auto st = write_private(path, all); !st) return st.error();
  return id;
}

struct MacStream::Impl {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  ~Impl() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
};

MacStream::MacStream(const std::string& key) : impl_(std::make_unique<Impl>()) {
  impl_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  impl_->ctx = impl_->mac != nullptr ? EVP_MAC_CTX_new(impl_->mac) : nullptr;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  if (impl_->ctx == nullptr ||
      EVP_MAC_init(impl_->ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params) != 1) {
    throw std::runtime_error("OpenSSL HMAC is not available");
  }
}
MacStream::~MacStream() = default;
MacStream::MacStream(MacStream&&) noexcept = default;
MacStream& MacStream::operator=(MacStream&&) noexcept = default;

void MacStream::update(std::string_view data) {
  EVP_MAC_update(impl_->ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string MacStream::final_hex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t len = 0;
  EVP_MAC_final(impl_->ctx, out.data(), &len, out.size());
  return to_hex(out.data(), len);
}

std::vector<int> AuditKeys::ids() const {
  std::vector<int> out;
  for (const auto& [id, key] : keys_) out.push_back(id);
  return out;
}

std::optional<std::string> AuditKeys::mac(int id, std::string_view data) const {
  const auto it = keys_.find(id);
  if (it == keys_.end()) return std::nullopt;
  MacStream stream(it->second);
  stream.update(data);
  return stream.final_hex();
}

}  // namespace ctxmgr::kernel
