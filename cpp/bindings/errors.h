// The Python exception classes parse errors become. kvs_parser/errors.py defines them and hands them
// over at import (_kvsparser._register_errors), so the binding itself imports no Python module.
#pragma once

#include <pybind11/pybind11.h>

#include "kvs_parser/status.h"

namespace kvs::py_binding {

// The exception object for a core parse error (a built-in ValueError before registration).
pybind11::object MakeParseError(const ParseError& error);
// Raises ParserClosedError (RuntimeError before registration) with `message`.
[[noreturn]] void RaiseClosed(const char* message);
// Raises `exception` (an instance) as the current Python error.
[[noreturn]] void RaiseObject(const pybind11::object& exception);

void init_errors(pybind11::module_& m);

}  // namespace kvs::py_binding
