#include "video/samplers/sampler_kind.h"

#include <array>
#include <string>

namespace frugal::video {
namespace {

constexpr std::array<SamplerKind, 3> kAllSamplerKinds = {SamplerKind::kUniPC, SamplerKind::kDpmPlusPlus,
                                                         SamplerKind::kEuler};

}  // namespace

std::string_view sampler_kind_name(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::kUniPC:
      return "unipc";
    case SamplerKind::kDpmPlusPlus:
      return "dpm++";
    case SamplerKind::kEuler:
      return "euler";
  }
  CHECK(false, "unknown SamplerKind");
  return "";
}

Expected<SamplerKind> parse_sampler_kind(std::string_view name) {
  std::string valid;
  for (SamplerKind kind : kAllSamplerKinds) {
    if (name == sampler_kind_name(kind)) return kind;
    if (!valid.empty()) valid += ", ";
    valid += '"' + std::string(sampler_kind_name(kind)) + '"';
  }
  return invalid_argument("unknown sampler \"" + std::string(name) + "\"; valid samplers: " + valid);
}

}  // namespace frugal::video
