// The library's log lines, captured for one test.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/core/log.hpp"

namespace coronet_test {

/// Collects the log lines containing `needle` (all of them when empty) while
/// alive, then restores the default sink. Declare it before the server it
/// watches, so that the server and its threads are gone before it is.
class log_capture {
public:
  explicit log_capture(std::string needle = {}) : needle_(std::move(needle)) {
    coronet::set_log_handler([this](coronet::log_level, std::string_view m) {
      if (m.find(needle_) == std::string_view::npos)
        return;
      const std::lock_guard lock(mutex_);
      lines_.emplace_back(m);
    });
  }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;
  ~log_capture() { coronet::set_log_handler({}); }

  /// The lines so far.
  std::vector<std::string> lines() const {
    const std::lock_guard lock(mutex_);
    return lines_;
  }

  /// The lines so far that contain `part`.
  std::vector<std::string> containing(std::string_view part) const {
    std::vector<std::string> out;
    for (std::string& l : lines())
      if (l.find(part) != std::string::npos)
        out.push_back(std::move(l));
    return out;
  }

private:
  std::string needle_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace coronet_test
