# ctest script: installs the build tree into a scratch prefix, then configures, builds and runs a consumer
# project (cpp/tests/consumer) that finds it with find_package(kvs_parser CONFIG).
# Inputs (-D): BUILD_DIR, SOURCE_DIR, WORK_DIR, SAMPLE, GENERATOR, C_COMPILER, CXX_COMPILER, CONFIG.
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed (${result}): ${ARGV}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

set(prefix "${WORK_DIR}/prefix")
set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}" ${config_args})

# The installed package must not point back into the source or build tree.
file(GLOB_RECURSE package_files "${prefix}/*.cmake")
if(NOT package_files)
  message(FATAL_ERROR "no CMake package files installed under ${prefix}")
endif()
foreach(file IN LISTS package_files)
  file(READ "${file}" text)
  foreach(tree IN ITEMS "${SOURCE_DIR}" "${BUILD_DIR}")
    string(FIND "${text}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} refers to ${tree}")
    endif()
  endforeach()
endforeach()
if(NOT EXISTS "${prefix}/include/kvs_parser/kvs_parser.h")
  message(FATAL_ERROR "kvs_parser.h not installed")
endif()

run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/cpp/tests/consumer" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${CONFIG}"
    "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" ${config_args})
file(GLOB_RECURSE consumers "${WORK_DIR}/build/consumer_c*" "${WORK_DIR}/build/consumer_cxx*")
list(FILTER consumers INCLUDE REGEX "consumer_cx*(\\.exe)?$")
if(NOT consumers)
  message(FATAL_ERROR "no consumer executable built")
endif()
foreach(exe IN LISTS consumers)
  run("${exe}" "${SAMPLE}")
endforeach()
