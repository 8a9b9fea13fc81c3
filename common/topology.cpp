#include "common/topology.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <sstream>

namespace locus {

uint32_t NodeTopology::coreCount() const {
  uint32_t n = 0;
  for (const auto& domain : numa) n += static_cast<uint32_t>(domain.cores.size());
  return n;
}

uint32_t NodeTopology::puCount() const {
  uint32_t n = 0;
  for (const auto& domain : numa) {
    for (const auto& core : domain.cores) n += static_cast<uint32_t>(core.pus.size());
  }
  return n;
}

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string gpuTypeName(const std::string& model) {
  std::string out = lower(model);
  for (char& c : out)
    if (c == ' ') c = '_';
  return out;
}

// The first word that names the model rather than its maker or product line:
// "Tesla V100-SXM3-32GB-H" -> "v100", "NVIDIA RTX A4000" -> "a4000", "NVIDIA H100 80GB HBM3" ->
// "h100", "AMD Instinct MI250X" -> "mi250x". Words are split at spaces and dashes.
std::string gpuShortModel(const std::string& model) {
  static const char* const kSkip[] = {"nvidia", "tesla",  "geforce", "quadro", "rtx", "amd",
                                      "radeon", "instinct", "intel", "data", "center", "gpu",
                                      "graphics", "(tm)", "(r)", "pro"};
  std::string text = lower(model);
  for (char& c : text)
    if (c == '-') c = ' ';
  std::istringstream words(text);
  std::string w;
  while (words >> w) {
    if (std::find(std::begin(kSkip), std::end(kSkip), w) != std::end(kSkip)) continue;
    // A model has a digit in it ("v100", "a4000"); "sxm3" after it is a form factor.
    if (std::any_of(w.begin(), w.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return w;
  }
  return "";
}

std::vector<std::string> discoveredFeatures(const NodeTopology& topology) {
  std::vector<std::string> out;
  for (const GpuInfo& g : topology.gpus) {
    if (g.name.empty()) continue;
    out.push_back(gpuTypeName(g.name));
    if (std::string s = gpuShortModel(g.name); !s.empty()) out.push_back(s);
  }
  if (!topology.gpus.empty()) out.push_back("gpu");
  const std::string cpu = lower(topology.cpu_model);
  if (cpu.find("intel") != std::string::npos) out.push_back("intel");
  if (cpu.find("amd") != std::string::npos) out.push_back("amd");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Runs of consecutive ids collapse to "first-last"; a run of two stays a range ("10-11"), as the
// kernel writes it. Example: {11, 0, 3, 1, 2, 8, 10, 3} -> sorted unique {0,1,2,3,8,10,11}
// -> "0-3,8,10-11".
std::string formatCpuList(std::vector<uint32_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(ids[i]);
    if (j > i) {
      out += '-';
      out += std::to_string(ids[j]);
    }
    i = j + 1;
  }
  return out;
}

std::optional<std::vector<uint32_t>> parseCpuList(std::string_view text) {
  std::vector<uint32_t> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const size_t dash = item.find('-');
    uint32_t first = 0, last = 0;
    auto parse = [](std::string_view s, uint32_t& v) {
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      return ec == std::errc() && end == s.data() + s.size() && !s.empty();
    };
    if (!parse(item.substr(0, dash), first)) return std::nullopt;
    last = first;
    if (dash != std::string_view::npos && !parse(item.substr(dash + 1), last)) return std::nullopt;
    if (last < first) return std::nullopt;
    for (uint32_t v = first; v <= last; ++v) out.push_back(v);
  }
  return out;
}

}  // namespace locus
