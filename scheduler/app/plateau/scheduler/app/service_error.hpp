// What a use case can answer besides success, in the terms the REST API and the CLI report:
// invalid input naming the field (400), not found (404), refused by admission with reasons and
// alternatives (409), a state conflict (409), storage failure (500).
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "plateau/common/result.hpp"
#include "plateau/scheduler/admission.hpp"
#include "plateau/scheduler/validation.hpp"

namespace plateau::scheduler::app {

struct ServiceError {
  enum class Kind { kInvalid, kNotFound, kRefused, kConflict, kStorage };
  Kind kind = Kind::kStorage;
  std::string code;  // kInvalid: the first field's code; kRefused: the first violation's code
  std::string message;
  std::vector<FieldError> fields;  // kInvalid: every offending field, the first is reported
  Refusal refusal;                 // kRefused

  static ServiceError Invalid(std::vector<FieldError> fields);
  static ServiceError Field(std::string field, std::string code, std::string message);
  static ServiceError NotFound(std::string code, std::string message);
  static ServiceError Conflict(std::string code, std::string message);
  static ServiceError Refused(Refusal refusal);
  static ServiceError Storage(const Error& error);
};

// Result<T> with a ServiceError.
template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : v_(std::in_place_index<0>, std::move(value)) {}             // NOLINT
  Outcome(ServiceError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const ServiceError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ServiceError> v_;
};

}  // namespace plateau::scheduler::app
