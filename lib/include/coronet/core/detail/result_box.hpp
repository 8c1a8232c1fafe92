// Storage for the outcome of a coroutine: nothing yet, a value, or an exception.
#pragma once

#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace coronet::detail {

/// Holds a `T` (a pointer for references, nothing for `void`) or an exception.
template <class T>
class result_box {
public:
  result_box() noexcept {}
  result_box(const result_box&) = delete;
  result_box& operator=(const result_box&) = delete;
  ~result_box() {
    if (state_ == state::value)
      std::destroy_at(std::addressof(value_));
    else if (state_ == state::exception)
      std::destroy_at(std::addressof(exception_));
  }

  template <class U>
  void set_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    std::construct_at(std::addressof(value_), std::forward<U>(v));
    state_ = state::value;
  }

  void set_exception(std::exception_ptr e) noexcept {
    std::construct_at(std::addressof(exception_), std::move(e));
    state_ = state::exception;
  }

  bool has_outcome() const noexcept { return state_ != state::empty; }

  /// True if the outcome is an exception.
  bool failed() const noexcept { return state_ == state::exception; }

  /// Rethrows the stored exception, if that is the outcome.
  void rethrow_if_failed() const {
    if (state_ == state::exception)
      std::rethrow_exception(exception_);
  }

  /// The stored value, in place; only when the outcome is a value.
  T& value() noexcept { return value_; }

  /// The stored exception; only when `failed()`.
  const std::exception_ptr& exception() const noexcept { return exception_; }

  /// Moves the value out, or rethrows the stored exception.
  T take() {
    if (state_ == state::exception)
      std::rethrow_exception(exception_);
    if (state_ != state::value)
      throw std::logic_error("coronet: a task finished without a result");
    return std::move(value_);
  }

private:
  enum class state : unsigned char { empty, value, exception };
  union {
    T value_;
    std::exception_ptr exception_;
  };
  state state_ = state::empty;
};

template <class T>
class result_box<T&> {
public:
  void set_value(T& v) noexcept { value_ = std::addressof(v); }
  void set_exception(std::exception_ptr e) noexcept { exception_ = std::move(e); }
  bool has_outcome() const noexcept { return value_ != nullptr || exception_ != nullptr; }
  bool failed() const noexcept { return exception_ != nullptr; }
  void rethrow_if_failed() const {
    if (exception_)
      std::rethrow_exception(exception_);
  }
  T& take() {
    if (exception_)
      std::rethrow_exception(exception_);
    if (value_ == nullptr)
      throw std::logic_error("coronet: a task finished without a result");
    return *value_;
  }

private:
  T* value_ = nullptr;
  std::exception_ptr exception_;
};

template <>
class result_box<void> {
public:
  void set_value() noexcept { done_ = true; }
  void set_exception(std::exception_ptr e) noexcept { exception_ = std::move(e); }
  bool has_outcome() const noexcept { return done_ || exception_ != nullptr; }
  bool failed() const noexcept { return exception_ != nullptr; }
  void rethrow_if_failed() const {
    if (exception_)
      std::rethrow_exception(exception_);
  }
  void take() {
    if (exception_)
      std::rethrow_exception(exception_);
  }

private:
  bool done_ = false;
  std::exception_ptr exception_;
};

}  // namespace coronet::detail
