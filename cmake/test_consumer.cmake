# ctest package.consumer: installs the build at BUILD_DIR into WORK_DIR/prefix, then builds and runs
# examples/consumer against it with find_package(rnnkit), and compiles its main.cpp again with pkg-config's flags.
# Then imports the installed Python package, where there is one.
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " command "${ARGV}")
    message(FATAL_ERROR "failed (${result}): ${command}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/consumer -B ${WORK_DIR}/consumer -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/consumer)

find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/${LIBDIR}/pkgconfig)
execute_process(COMMAND ${PKG_CONFIG} --static --cflags --libs rnnkit OUTPUT_VARIABLE flags
                RESULT_VARIABLE result OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "pkg-config --static --cflags --libs rnnkit failed")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} -std=c++20 ${SOURCE_DIR}/examples/consumer/main.cpp ${flags} -o ${WORK_DIR}/consumer_pkg_config)
run(${WORK_DIR}/consumer_pkg_config)

# The installed Python package, where the build made one: importable from the prefix's dist-packages.
file(GLOB installed_python ${prefix}/lib/python3*/dist-packages/rnnkit/_rnnkit*.so)
if(installed_python)
  list(GET installed_python 0 module)
  get_filename_component(package_dir ${module} DIRECTORY)
  get_filename_component(site_dir ${package_dir} DIRECTORY)
  set(ENV{PYTHONPATH} ${site_dir})
  run(/usr/bin/python3 -c "import rnnkit.keras as k; assert k.__file__.startswith('${site_dir}'), k.__file__; \
k.Sequential([k.layers.LSTM(2, input_shape=(3, 4))]).summary()")
endif()
