#include "coronet/core/error.hpp"

#include <string>

namespace coronet {
namespace {

class coronet_category final : public std::error_category {
public:
  const char* name() const noexcept override { return "coronet"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::timeout: return "operation timed out";
    }
    return "unknown coronet error " + std::to_string(value);
  }

  // std::error_category::equivalent compares with this condition by default, so
  // `ec == std::errc::timed_out` holds for a coronet timeout.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::timeout: return std::errc::timed_out;
    }
    return {value, *this};
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const coronet_category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace coronet
