// The page served at "/": web/index.html with the bundle of web/main.js, its modules and Chart.js
// inlined, so the controller binary carries it whole and nothing is fetched from elsewhere (the
// machines are offline). esbuild bundles and minifies the script at build time and
// embed_page.cmake turns the page into dashboard_page_data.cpp (controller/CMakeLists.txt).
#include <cstddef>

#include "controller/dashboard/dashboard.hpp"

namespace locus::controller {
namespace generated {
extern const unsigned char kDashboardPage[];
extern const std::size_t kDashboardPageSize;
}  // namespace generated

std::string_view dashboardPage() {
  return {reinterpret_cast<const char*>(generated::kDashboardPage), generated::kDashboardPageSize};
}

}  // namespace locus::controller
