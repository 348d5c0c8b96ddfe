#include "kvs_tags.h"

#include <string>

#include "values.h"

namespace kvs {

void ApplyKvsTag(const Tag& tag, FragmentMetadata* metadata) {
  static constexpr char kPrefix[] = "AWS_KINESISVIDEO_";
  if (tag.is_binary || tag.name.compare(0, sizeof kPrefix - 1, kPrefix) != 0) return;
  const std::string key = tag.name.substr(sizeof kPrefix - 1);
  const std::string& value = tag.value;
  if (key == "FRAGMENT_NUMBER") {
    metadata->fragment_number = value;
  } else if (key == "SERVER_TIMESTAMP" || key == "SERVER_SIDE_TIMESTAMP") {
    metadata->server_timestamp_ms = ParseSecondsAsMillis(value);
  } else if (key == "PRODUCER_TIMESTAMP" || key == "PRODUCER_SIDE_TIMESTAMP") {
    metadata->producer_timestamp_ms = ParseSecondsAsMillis(value);
  } else if (key == "MILLIS_BEHIND_NOW") {
    metadata->millis_behind_now = ParseInteger(value);
  } else if (key == "CONTINUATION_TOKEN") {
    metadata->continuation_token = value;
  } else if (key == "ERROR_CODE" || key == "EXCEPTION_ERROR_CODE") {
    metadata->error_code = value;
  } else if (key == "ERROR_ID") {
    metadata->error_id = ParseInteger(value);
  } else if (key == "EXCEPTION_MESSAGE") {
    metadata->error_message = value;
  }
}

}  // namespace kvs
