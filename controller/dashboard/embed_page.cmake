# Generates the dashboard page's C++ source at build time (controller/CMakeLists.txt):
#   cmake -DHTML=web/index.html -DSCRIPT=bundle.js -DPAGE=dashboard.html -DOUT=page_data.cpp -P embed_page.cmake
# The page is HTML with the script bundle inlined where the "<!-- locus:script" comment line is,
# so "/" stays one self-contained response; OUT defines its bytes (dashboard_page.cpp serves them).
file(READ "${HTML}" html)
file(READ "${SCRIPT}" script)
string(FIND "${script}" "</script" closing)
if(NOT closing EQUAL -1)
  message(FATAL_ERROR "${SCRIPT} contains '</script', which would end the inlined script early")
endif()
string(REGEX MATCH "<!-- locus:script[^\n]*-->" marker "${html}")
if(marker STREQUAL "")
  message(FATAL_ERROR "${HTML} has no '<!-- locus:script ... -->' line to put the script at")
endif()
string(REPLACE "${marker}" "<script>\n${script}</script>" page "${html}")
file(WRITE "${PAGE}" "${page}")
file(READ "${PAGE}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "// Generated from ${HTML} and ${SCRIPT} by embed_page.cmake: do not edit.
#include <cstddef>
namespace locus::controller::generated {
extern const unsigned char kDashboardPage[];
extern const std::size_t kDashboardPageSize;
const unsigned char kDashboardPage[] = {${bytes}};
const std::size_t kDashboardPageSize = ${size};
}  // namespace locus::controller::generated
")
