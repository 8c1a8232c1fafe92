#include "coronet/core/spawn.hpp"

#include <atomic>
#include <exception>
#include <string>

#include "coronet/core/log.hpp"

namespace coronet {
namespace {

std::atomic<std::size_t> g_unhandled{0};

}  // namespace

std::size_t unhandled_exception_count() noexcept { return g_unhandled.load(std::memory_order_relaxed); }

namespace detail {

void report_unhandled_exception(std::exception_ptr e) noexcept {
  g_unhandled.fetch_add(1, std::memory_order_relaxed);
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    try {
      log(log_level::error, std::string("exception escaped a spawned task: ") + ex.what());
    } catch (...) {
      log(log_level::error, "exception escaped a spawned task (message lost: out of memory)");
    }
  } catch (...) {
    log(log_level::error, "exception of unknown type escaped a spawned task");
  }
}

}  // namespace detail
}  // namespace coronet
