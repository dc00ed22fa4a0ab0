# Runs one `simulate` command line and checks its exit status (and optionally its output).
# -DSIMULATE=<exe> -DARGS=<arguments separated by |> -DEXPECT=<status> [-DSTDIN=<file>] [-DMATCH=<regex on stdout+stderr>]
string(REPLACE "|" ";" ARGS "${ARGS}")
if(DEFINED STDIN)
  execute_process(COMMAND ${SIMULATE} ${ARGS} INPUT_FILE ${STDIN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
else()
  execute_process(COMMAND ${SIMULATE} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
endif()
if(NOT rc STREQUAL EXPECT)
  message(FATAL_ERROR "simulate ${ARGS}: exit status ${rc}, expected ${EXPECT}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(DEFINED MATCH AND NOT "${out}${err}" MATCHES "${MATCH}")
  message(FATAL_ERROR "simulate ${ARGS}: output does not match '${MATCH}'\nstdout:\n${out}\nstderr:\n${err}")
endif()
