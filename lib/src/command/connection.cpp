// A connection's close hooks and transaction: the parts of `connection` that
// are not inline.
#include "coronet/command/connection.hpp"

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "command/transaction.hpp"
#include "coronet/core/log.hpp"

namespace coronet {

connection::connection() = default;

connection::extras& connection::more() {
  if (!extras_)
    extras_ = std::make_unique<extras>();
  return *extras_;
}

void connection::set_text(std::string extras::*field, std::string_view text) {
  if (text.empty() && !extras_)
    return;
  (more().*field).assign(text);
}

connection::~connection() { run_close_hooks(); }

void connection::run_close_hooks() noexcept {
  // Taken out first: a hook that adds a hook, or runs the hooks again, never
  // sees one run twice.
  while (extras_ && !extras_->close_hooks.empty()) {
    std::vector<std::function<void(connection&)>> hooks = std::move(extras_->close_hooks);
    extras_->close_hooks.clear();
    for (auto& hook : hooks) {
      try {
        hook(*this);
      } catch (const std::exception& e) {
        log(log_level::error, std::string("a connection's close hook threw: ") + e.what());
      } catch (...) {
        log(log_level::error, "a connection's close hook threw an exception of unknown type");
      }
    }
  }
}

void connection::begin_transaction() {
  if (!transaction_)
    transaction_ = std::make_unique<detail::transaction>();
}

void connection::discard_transaction() noexcept { transaction_.reset(); }

std::unique_ptr<detail::transaction> connection::take_transaction() noexcept { return std::move(transaction_); }

}  // namespace coronet
