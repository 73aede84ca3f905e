# Debian package: `cpack -G DEB` in the build directory (see docs/deployment.md).
#
# The binary and its network module are the default install component (`cmake --install` puts
# them in <prefix>/bin and <prefix>/lib/metricsd, where the binary looks for the module). The
# unit, the default configuration and the documentation are the "package" component, excluded
# from a plain `cmake --install` because their paths are absolute (/etc, /lib/systemd): a
# developer's `sudo cmake --install build` must not drop a unit that points at /usr/bin.
set(METRICSD_DEPLOY_DIR ${PROJECT_SOURCE_DIR}/deploy)

install(FILES ${METRICSD_DEPLOY_DIR}/systemd/metricsd.service
        DESTINATION /lib/systemd/system COMPONENT package EXCLUDE_FROM_ALL)
install(FILES ${METRICSD_DEPLOY_DIR}/config/config.json
        DESTINATION /etc/metricsd COMPONENT package EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION /usr/share/doc/metricsd COMPONENT package EXCLUDE_FROM_ALL)
if(EXISTS ${PROJECT_SOURCE_DIR}/docs/deployment.md)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/deployment.md
          DESTINATION /usr/share/doc/metricsd COMPONENT package EXCLUDE_FROM_ALL)
endif()
# Prometheus rules, to copy next to prometheus.yml (docs/alerting.md); not conffiles, as
# they are read by Prometheus, not by metricsd.
install(FILES ${METRICSD_DEPLOY_DIR}/prometheus/metricsd-host.rules.yml
              ${METRICSD_DEPLOY_DIR}/prometheus/node-exporter-profile.rules.yml
              ${METRICSD_DEPLOY_DIR}/prometheus/metricsd-agent.rules.yml
        DESTINATION /usr/share/metricsd/prometheus COMPONENT package EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/alerting.md
        DESTINATION /usr/share/doc/metricsd COMPONENT package EXCLUDE_FROM_ALL)

# One package holding both components.
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${PROJECT_BINARY_DIR};${PROJECT_NAME};Unspecified;/"
    "${PROJECT_BINARY_DIR};${PROJECT_NAME};package;/")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_PACKAGE_NAME metricsd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "metricsd")
set(CPACK_PACKAGE_CONTACT "metricsd maintainers <metricsd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "lightweight host, GPU and application metrics agent")
set(CPACK_PACKAGE_DESCRIPTION
    "metricsd collects system metrics from /proc and /sys, NVIDIA GPU metrics through NVML and\n"
    "the metrics of application endpoints, and ships them with Prometheus remote write, HTTP\n"
    "JSON or InfluxDB line protocol over (mutual) TLS, buffering on disk while a receiver is\n"
    "down. It also serves /metrics, /health and /ready.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime libraries are found by dpkg-shlibdeps (dpkg-dev) from the binary itself.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst uses useradd/groupadd (passwd) and deb-systemd-helper (init-system-helpers). The
# unit's ExecReload runs /bin/kill, which is procps's and missing from minimal systems and
# container images (systemctl reload failed there with 203/EXEC).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd, ca-certificates, procps")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${METRICSD_DEPLOY_DIR}/debian/conffiles
    ${METRICSD_DEPLOY_DIR}/debian/postinst
    ${METRICSD_DEPLOY_DIR}/debian/prerm
    ${METRICSD_DEPLOY_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
