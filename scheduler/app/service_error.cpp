#include "plateau/scheduler/app/service_error.hpp"

namespace plateau::scheduler::app {

ServiceError ServiceError::Invalid(std::vector<FieldError> fields) {
  ServiceError e;
  e.kind = Kind::kInvalid;
  if (!fields.empty()) {
    e.code = fields.front().code;
    e.message = fields.front().message;
  } else {
    e.code = "invalid";
    e.message = "the request is invalid";
  }
  e.fields = std::move(fields);
  return e;
}

ServiceError ServiceError::Field(std::string field, std::string code, std::string message) {
  return Invalid({FieldError{std::move(field), std::move(code), std::move(message)}});
}

ServiceError ServiceError::NotFound(std::string code, std::string message) {
  ServiceError e;
  e.kind = Kind::kNotFound;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

ServiceError ServiceError::Conflict(std::string code, std::string message) {
  ServiceError e;
  e.kind = Kind::kConflict;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

ServiceError ServiceError::Refused(Refusal refusal) {
  ServiceError e;
  e.kind = Kind::kRefused;
  if (refusal.violations.empty()) {
    e.code = "refused";
    e.message = "the booking does not fit";
  } else {
    e.code = refusal.violations.front().code;
    e.message = "the booking does not fit: " + refusal.violations.front().message;
    if (refusal.violations.size() > 1)
      e.message += " (and " + std::to_string(refusal.violations.size() - 1) + " more)";
  }
  e.refusal = std::move(refusal);
  return e;
}

ServiceError ServiceError::Storage(const Error& error) {
  ServiceError e;
  e.kind = Kind::kStorage;
  e.code = error.code.empty() ? "storage_error" : error.code;
  e.message = error.message;
  return e;
}

}  // namespace plateau::scheduler::app
