# What `cmake --install` puts where (docs/service.md "systemd"). Packages and the unit expect
# CMAKE_INSTALL_PREFIX=/usr: binaries in /usr/bin, configuration in /etc/dmacycled, the unit in
# /usr/lib/systemd/system (lib/, not the multiarch libdir: systemd looks only there). Other
# prefixes work too: the installed unit names the real paths.
include(GNUInstallDirs)

install(TARGETS dmacycle dmacycle-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET dmacycled)
  install(TARGETS dmacycled RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# Configuration the service reads; the tokens file holds secrets and is made by the operator.
set(DMACYCLE_INSTALL_CONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/dmacycled)
install(FILES config/dmacycled.yaml DESTINATION ${DMACYCLE_INSTALL_CONFDIR} OPTIONAL)
install(DIRECTORY config/instruments config/rigs DESTINATION ${DMACYCLE_INSTALL_CONFDIR})
# What the programs ship with, found beside bin/ (io::shipped_config_dir): the profiles and rigs
# as shipped, and the job files, examples to copy (the main job is `dmacycle demo`'s).
install(DIRECTORY config/instruments config/rigs config/jobs
        DESTINATION ${CMAKE_INSTALL_DATADIR}/dmacycle)
install(FILES docs/service.md docs/api.md docs/job-files.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        OPTIONAL)

# The unit with this installation's paths in place of /usr/bin and /etc.
file(READ ${PROJECT_SOURCE_DIR}/systemd/dmacycled.service unit_text)
string(REPLACE "/usr/bin/dmacycled" "${CMAKE_INSTALL_FULL_BINDIR}/dmacycled" unit_text
               "${unit_text}")
string(REPLACE "/etc/dmacycled/" "${DMACYCLE_INSTALL_CONFDIR}/" unit_text "${unit_text}")
string(REPLACE "/usr/share/doc/dmacycle/" "${CMAKE_INSTALL_FULL_DOCDIR}/" unit_text
               "${unit_text}")
file(WRITE ${PROJECT_BINARY_DIR}/systemd/dmacycled.service "${unit_text}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/systemd/dmacycled.service)
install(FILES ${PROJECT_BINARY_DIR}/systemd/dmacycled.service
        DESTINATION lib/systemd/system)
install(FILES systemd/dmacycled.sysusers DESTINATION lib/sysusers.d
        RENAME dmacycled.conf)
# The tmpfiles entries name the tokens file in the configuration folder: its path too.
file(READ ${PROJECT_SOURCE_DIR}/systemd/dmacycled.tmpfiles tmpfiles_text)
string(REPLACE "/etc/dmacycled/" "${DMACYCLE_INSTALL_CONFDIR}/" tmpfiles_text
               "${tmpfiles_text}")
file(WRITE ${PROJECT_BINARY_DIR}/systemd/dmacycled.tmpfiles "${tmpfiles_text}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/systemd/dmacycled.tmpfiles)
install(FILES ${PROJECT_BINARY_DIR}/systemd/dmacycled.tmpfiles DESTINATION lib/tmpfiles.d
        RENAME dmacycled.conf)
