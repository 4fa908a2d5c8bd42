# dist/configure.cmake — included by cmake --install (see dist/CMakeLists.txt):
# writes HWG_IN to HWG_OUT with the installation's paths as they are at
# install time, so that `cmake --install --prefix P` (what `make install
# PREFIX=P` runs) gets units and a pkg-config file naming P, whatever
# prefix the build was configured with.
#
# In: HWG_IN, HWG_OUT, HWG_VERSION, and HWG_REL_<DIR> for SBINDIR, LIBDIR,
# INCLUDEDIR (GNUInstallDirs values: relative to the prefix, or absolute).
set(HWG_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(d SBINDIR LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${HWG_REL_${d}}")
    set(HWG_${d} "${HWG_REL_${d}}")
    set(HWG_PC_${d} "${HWG_REL_${d}}")
  else()
    set(HWG_${d} "${HWG_PREFIX}/${HWG_REL_${d}}")
    # pkg-config's own variable, so --define-variable=prefix=... moves it too
    set(HWG_PC_${d} "\${prefix}/${HWG_REL_${d}}")
  endif()
endforeach()
configure_file("${HWG_IN}" "${HWG_OUT}" @ONLY)
