// A well-formed selector for the loader tests: scores by the storage's text score times `factor`,
// and counts its live objects so a test can see that the registry destroyed them.

#include <atomic>

#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/selector.hpp"

#ifndef GOOD_NAME
#define GOOD_NAME "good"
#endif

namespace {

class GoodSelector final : public ctxmgr::sdk::Selector {
 public:
  GoodSelector(ctxmgr::sdk::Host& host, const ctxmgr::sdk::Options& options)
      : factor_(options.get_number("factor", 1.0)) {
    if (options.get_string("mode") == "reject") {
      throw ctxmgr::sdk::Error(ctxmgr::sdk::Errc::invalid_request,
                               "options.mode: 'reject' asks this test plugin to refuse");
    }
    host.log().info("good selector created");
  }
  ctxmgr::sdk::Result<std::vector<double>> score(
      const ctxmgr::sdk::SelectQuery&,
      std::span<const ctxmgr::sdk::Candidate> candidates) override {
    std::vector<double> out;
    for (const auto& c : candidates) out.push_back(c.text_score * factor_);
    return out;
  }

 private:
  double factor_;
};

constexpr ctxmgr_option_spec kOptions[] = {
    {.name = "factor",
     .type = CTXMGR_OPT_NUMBER,
     .flags = CTXMGR_OPT_HAS_MIN | CTXMGR_OPT_HAS_MAX,
     .default_json = "1.0",
     .min = 0,
     .max = 100,
     .allowed = nullptr,
     .description = "multiplies the text score"},
    {.name = "mode",
     .type = CTXMGR_OPT_STRING,
     .flags = 0,
     .default_json = "\"normal\"",
     .min = 0,
     .max = 0,
     .allowed = "normal|reject",
     .description = "reject makes the factory fail"},
    {.name = "api_key",
     .type = CTXMGR_OPT_STRING,
     .flags = CTXMGR_OPT_SECRET,
     .default_json = nullptr,
     .min = 0,
     .max = 0,
     .allowed = nullptr,
     .description = "a secret, to test redaction"},
    {.name = "retries",
     .type = CTXMGR_OPT_INTEGER,
     .flags = CTXMGR_OPT_HAS_MIN,
     .default_json = "3",
     .min = 0,
     .max = 0,
     .allowed = nullptr,
     .description = "an integer option"},
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::selector, GOOD_NAME, "1.2.3", "loader test selector",
              GoodSelector, kOptions)
