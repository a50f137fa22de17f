# Installs the build into WORK_DIR/prefix, then configures, builds and runs the
# consumer project against it (cmake -P script, driven by CTest).
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build
                        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_COMPILER=${CXX}
                        -DCMAKE_BUILD_TYPE=Release
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()

# The examples build on their own against the installed package too.
foreach(example quickstart pi simulation_farm svm_grid_search)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${EXAMPLES_DIR}/${example} -B ${WORK_DIR}/${example}
                          -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_COMPILER=${CXX}
                          -DCMAKE_BUILD_TYPE=Release
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc)
    execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/${example} RESULT_VARIABLE rc
                    OUTPUT_QUIET)
  endif()
  if(rc)
    message(FATAL_ERROR "example ${example} does not build against the installed package")
  endif()
  message(STATUS "example ${example} builds against the installed package")
endforeach()
