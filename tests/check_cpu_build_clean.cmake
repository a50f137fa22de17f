# The CPU build must carry no CUDA, NCCL, cuBLAS or cuSOLVER header or library in any
# compile or link line (cmake -P script run by CTest in builds without CUDA).
file(GLOB_RECURSE lines ${BUILD_DIR}/src/*flags.make ${BUILD_DIR}/src/*link.txt
     ${BUILD_DIR}/tests/*flags.make ${BUILD_DIR}/tests/*link.txt
     ${BUILD_DIR}/examples/*flags.make ${BUILD_DIR}/examples/*link.txt)
list(LENGTH lines count)
if(count LESS 5)
  message(FATAL_ERROR "found only ${count} flags.make/link.txt files under ${BUILD_DIR}")
endif()
set(bad "")
foreach(file ${lines})
  file(READ ${file} text)
  string(TOLOWER "${text}" text)
  # tessera's own object files (e.g. comm/no_nccl.cpp.o) are not dependencies.
  string(REGEX REPLACE "[^ \t\n]+\\.o([ \t\n]|$)" " " text "${text}")
  foreach(word "cuda" "nccl" "cublas" "cusolver" "nvcc")
    string(FIND "${text}" "${word}" at)
    if(NOT at EQUAL -1)
      list(APPEND bad "${file}: ${word}")
    endif()
  endforeach()
endforeach()
if(bad)
  string(REPLACE ";" "\n  " bad "${bad}")
  message(FATAL_ERROR "CUDA in the CPU build:\n  ${bad}")
endif()
message(STATUS "CPU build clean: ${count} compile/link lines without CUDA")
