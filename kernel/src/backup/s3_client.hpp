#pragma once
// Upload and download of one object on S3-compatible storage (AWS S3, Cloudflare R2, MinIO),
// signed with AWS Signature Version 4 by libcurl. Path-style URLs (<endpoint>/<bucket>/<key>),
// which every S3-compatible service accepts. The payload is signed too (its SHA-256 in
// x-amz-content-sha256), so a changed body is refused as well as a wrong key.

#include <string>
#include <string_view>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

struct S3Object {
  std::string bucket;
  std::string key;
  std::string url() const { return "s3://" + bucket + "/" + key; }
};

// "s3://bucket/key/with/slashes"; anything else is invalid_request.
sdk::Result<S3Object> parse_s3_url(std::string_view url);

// Where and as whom. From the environment as the AWS tools read it: AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL (else AWS itself for the region), AWS_REGION or AWS_DEFAULT_REGION (else
// us-east-1; R2 takes "auto"), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
struct S3Settings {
  std::string endpoint;
  std::string region;
  std::string access_key;
  std::string secret_key;  // never printed
  std::string session_token;
};
// `endpoint_flag` wins over the environment when not empty. invalid_request when the credentials
// are missing.
sdk::Result<S3Settings> s3_settings_from_environment(const std::string& endpoint_flag);

sdk::Status s3_put_file(const S3Settings& s3, const S3Object& object, const std::string& path);
sdk::Status s3_get_file(const S3Settings& s3, const S3Object& object, const std::string& path);

}  // namespace ctxmgr::kernel
