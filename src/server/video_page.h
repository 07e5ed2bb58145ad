// The page at `/` for people (server layer): type a prompt, pick a tier, watch queue position,
// progress and ETA, see the cost, play the MP4. One self-contained HTML document (no external
// assets) that drives the Videos API with fetch(); an API key field sends Bearer auth when the
// server has keys.
#pragma once

#include <string>
#include <vector>

namespace frugal {

// The page, offering these tier names (the first is selected).
std::string video_page_html(const std::vector<std::string>& tiers);

}  // namespace frugal
