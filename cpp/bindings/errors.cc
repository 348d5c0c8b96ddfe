#include "errors.h"

#include <string>

namespace py = pybind11;

namespace kvs::py_binding {

namespace {

// Set once by _register_errors; never freed, so no Python object is released after interpreter exit.
struct ErrorTypes {
  py::object parse_error;
  py::object truncated;
  py::object limit_exceeded;
  py::object closed;
};

ErrorTypes*& Registered() {
  static ErrorTypes* types = nullptr;
  return types;
}

const py::object& ClassFor(ErrorCode code) {
  const ErrorTypes& types = *Registered();
  switch (code) {
    case ErrorCode::kTruncated: return types.truncated;
    case ErrorCode::kElementTooLarge:
    case ErrorCode::kFrameTooLarge:
    case ErrorCode::kTooDeep:
    case ErrorCode::kLimitExceeded: return types.limit_exceeded;
    default: return types.parse_error;
  }
}

}  // namespace

py::object MakeParseError(const ParseError& error) {
  if (Registered() == nullptr) {
    return py::reinterpret_borrow<py::object>(PyExc_ValueError)(std::string(ErrorCodeName(error.code)) + ": " +
                                                                 error.message);
  }
  return ClassFor(error.code)(error.message, py::arg("code") = ErrorCodeName(error.code),
                              py::arg("offset") = error.offset, py::arg("element_path") = error.element_path);
}

void RaiseObject(const py::object& exception) {
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())), exception.ptr());
  throw py::error_already_set();
}

void RaiseClosed(const char* message) {
  if (Registered() == nullptr) throw std::runtime_error(message);
  RaiseObject(Registered()->closed(message));
}

void init_errors(py::module_& m) {
  m.def(
      "_register_errors",
      [](py::type parse_error, py::type truncated, py::type limit_exceeded, py::type closed) {
        if (Registered() == nullptr) Registered() = new ErrorTypes;
        *Registered() = ErrorTypes{parse_error, truncated, limit_exceeded, closed};
      },
      py::arg("parse_error"), py::arg("truncated"), py::arg("limit_exceeded"), py::arg("closed"),
      "Called once by kvs_parser.errors: the classes parse errors are raised as.");
}

}  // namespace kvs::py_binding
