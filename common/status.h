#pragma once
// Status and Result<T>: how every layer reports an error caused by outside input. The code is
// stable and machine-readable; the message is for a person.

#include <string>
#include <utility>
#include <variant>

#include "common/assert.h"

namespace gongshe {

class Status {
 public:
  Status() = default;
  Status(std::string code, std::string message) : code_(std::move(code)), message_(std::move(message)) {
    GS_ASSERT(!code_.empty());
  }
  static Status Ok() { return {}; }

  bool ok() const { return code_.empty(); }
  // A short stable identifier such as "BAD_SIGNATURE"; empty when ok.
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? "OK" : code_ + ": " + message_; }

 private:
  std::string code_;
  std::string message_;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) { GS_ASSERT(!std::get<Status>(v_).ok()); }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    GS_ASSERT(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    GS_ASSERT(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    GS_ASSERT(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace gongshe

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define GS_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::gongshe::Status gs_status_ = (expr); \
    if (!gs_status_.ok()) return gs_status_; \
  } while (0)
