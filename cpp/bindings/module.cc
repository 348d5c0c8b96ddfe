// The kvs_parser._kvsparser extension: one init_<area> per file.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace kvs::py_binding {
void init_errors(py::module_& m);
void init_objects(py::module_& m);
void init_parser(py::module_& m);
}  // namespace kvs::py_binding

PYBIND11_MODULE(_kvsparser, m) {
  m.doc() = "Native streaming Matroska/EBML parser for Kinesis Video Streams GetMedia output.";
  kvs::py_binding::init_errors(m);
  kvs::py_binding::init_objects(m);
  kvs::py_binding::init_parser(m);
  m.attr("__version__") = KVS_PARSER_VERSION;
#ifdef KVS_PARSER_HAVE_ZLIB
  m.attr("_inflates_zlib") = true;  // built with zlib: zlib-compressed frames are inflated
#else
  m.attr("_inflates_zlib") = false;
#endif
}
