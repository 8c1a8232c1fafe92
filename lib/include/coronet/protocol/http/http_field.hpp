// coronet::http_field: a name and a value of an HTTP request.
#pragma once

#include <string_view>

namespace coronet {

/// A name and a value: a header, a query parameter or a path parameter.
struct http_field {
  /// The name, as sent (headers) or as declared in the pattern (path parameters).
  std::string_view name;
  /// The value, percent-decoded for path and query parameters.
  std::string_view value;
};

}  // namespace coronet
