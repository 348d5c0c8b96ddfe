#include "kvs_tags.h"

#include <optional>
#include <string>
#include <utility>

#include "values.h"

namespace kvs {

namespace {

template <typename T>
void Set(std::optional<T>* field, std::optional<T> value, bool keep_first) {
  if (!(keep_first && field->has_value())) *field = std::move(value);
}

}  // namespace

void ApplyKvsTag(const Tag& tag, FragmentMetadata* metadata, bool keep_first_identity) {
  const bool keep = keep_first_identity;
  static constexpr char kPrefix[] = "AWS_KINESISVIDEO_";
  if (tag.is_binary || tag.name.compare(0, sizeof kPrefix - 1, kPrefix) != 0) return;
  const std::string key = tag.name.substr(sizeof kPrefix - 1);
  const std::string& value = tag.value;
  if (key == "FRAGMENT_NUMBER") {
    Set(&metadata->fragment_number, std::optional<std::string>(value), keep);
  } else if (key == "SERVER_TIMESTAMP" || key == "SERVER_SIDE_TIMESTAMP") {
    Set(&metadata->server_timestamp_ms, ParseSecondsAsMillis(value), keep);
  } else if (key == "PRODUCER_TIMESTAMP" || key == "PRODUCER_SIDE_TIMESTAMP") {
    Set(&metadata->producer_timestamp_ms, ParseSecondsAsMillis(value), keep);
  } else if (key == "MILLIS_BEHIND_NOW") {
    metadata->millis_behind_now = ParseInteger(value);
  } else if (key == "CONTINUATION_TOKEN") {
    metadata->continuation_token = value;
  } else if (key == "ERROR_CODE") {  // GetMedia: a text description
    Set(&metadata->error_code, std::optional<std::string>(value), keep);
  } else if (key == "ERROR_ID" || key == "EXCEPTION_ERROR_CODE") {  // the integer code, in either API
    Set(&metadata->error_id, ParseInteger(value), keep);
  } else if (key == "EXCEPTION_MESSAGE") {  // GetMediaForFragmentList: the text description
    Set(&metadata->error_message, std::optional<std::string>(value), keep);
    Set(&metadata->error_code, std::optional<std::string>(value), keep);
  }
}

}  // namespace kvs
