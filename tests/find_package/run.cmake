# Installs the build tree into a staging prefix, configures and builds the consumer
# against it with find_package(vnetsim), and runs it. Fails on the first step that fails.
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}")
  endif()
endfunction()

file(REMOVE_RECURSE "${STAGING}" "${CONSUMER_BUILD}")
step(${CMAKE_COMMAND} --install "${VNETSIM_BUILD_DIR}" --prefix "${STAGING}")
step(${CMAKE_COMMAND} -S "${CONSUMER_SOURCE}" -B "${CONSUMER_BUILD}"
     "-DCMAKE_PREFIX_PATH=${STAGING}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
     "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
     "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
step(${CMAKE_COMMAND} --build "${CONSUMER_BUILD}")
step("${CONSUMER_BUILD}/consumer")
