#include "services/analytics/webhooks/sender.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace crm::analytics::webhooks {

namespace {

// The answer's body is not used; reading it lets the connection finish cleanly.
size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

CurlSender::CurlSender() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

SendResult CurlSender::Post(const std::string& url, const Headers& headers, const std::string& body,
                            absl::Duration timeout) {
  SendResult result;
  const absl::Time start = absl::Now();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    result.error = "libcurl could not make a handle";
    return result;
  }
  curl_slist* raw_list = nullptr;
  for (const auto& [name, value] : headers) {
    raw_list = curl_slist_append(raw_list, absl::StrCat(name, ": ", value).c_str());
  }
  // Without this libcurl waits for "100 Continue" before sending a larger body.
  raw_list = curl_slist_append(raw_list, "Expect:");
  std::unique_ptr<curl_slist, ListDeleter> list(raw_list);
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(c);
  result.took = absl::Now() - start;
  if (code != CURLE_OK) {
    result.error = error[0] != '\0' ? std::string(error) : curl_easy_strerror(code);
    return result;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  result.http_status = static_cast<int>(status);
  if (!result.ok()) result.error = absl::StrCat("the receiver answered HTTP ", status);
  return result;
}

}  // namespace crm::analytics::webhooks
