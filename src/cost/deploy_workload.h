// An operator's traffic as input to the deployment planner (cost layer): requests per hour, the
// hourly shape of a day, burstiness, regions with their share and latency budget, the request-size
// mix (tokens in/out, or a video tier mix), and the model/hardware to serve it with. Read from a workload JSON file (schema in
// docs/COST-MODEL.md, examples in data/workloads/) or built from flags; every field is validated and
// an error names the file and the field (`w.json: field 'regions[1].share' must be >= 0 (got -0.2)`).
// Also the built-in region table: UTC offsets and round-trip times between regions.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/expected.h"

namespace frugal {

// One class of requests in the mix. `hard` requests go to the central large model in the hybrid
// architecture; the others can be served by the small edge model.
struct RequestClass {
  double share = 1.0;           // fraction of requests, the shares sum to 1
  int64_t prompt_tokens = 512;
  int64_t output_tokens = 256;
  bool hard = false;
};

// One tier of a video workload ("kind": "video"): a share of the videos at one model, size and
// step count. `hard` tiers stay on the central hardware in the hybrid architecture.
struct VideoTier {
  double share = 1.0;
  std::string model = "wan2.1-t2v-1.3b";  // video_model.h names
  std::string resolution = "480p";        // 480p, 720p, 1080p, 4k or WxH
  double seconds = 5;                     // clip length at 16 fps
  int64_t steps = 50;
  bool hard = false;
};

struct DeployRegion {
  std::string name;               // a known region (known_region_names())
  double share = 1.0;             // fraction of requests from this region, the shares sum to 1
  double latency_budget_s = 2.0;  // p99 time to first token seen by its users, network included
  int utc_offset_hours = 0;       // local time = UTC + offset (the profile is in local time)
};

// Prices and rates of the architectures, each with its source in docs/COST-MODEL.md ("Deployment
// architectures"); the workload's "pricing" object overrides any of them.
struct DeployPricing {
  double edge_price_factor = 1.0;         // edge site USD/h over the central on-demand price
  double access_rtt_s = 0.02;             // user to the nearest site in its own region (round trip)
  double max_utilisation = 0.9;           // per site and hour: headroom kept for failures and deploys
  double serverless_price_factor = 1.6;   // per GPU-second price over the on-demand hour price
  double serverless_cold_start_s = 30;    // container start + weight load
  double serverless_keep_warm_s = 60;     // idle time before a container scales to zero (billed)
  double spot_discount = 0.6;             // spot price = on-demand x (1 - discount)
  double spot_availability = 0.95;        // share of hours spot capacity can be had; else on-demand
  double spot_preemptions_per_hour = 0.01;  // per replica
  double spot_restart_s = 300;            // a preempted replica's replacement: boot + weight load
  double committed_1y_discount = 0.37;
  double committed_3y_discount = 0.55;
};

struct DeployWorkload {
  std::string name = "flags";
  std::string origin;                // file path (or "flags"), used in messages
  bool video = false;                // "kind": "video": requests are videos of video_mix's tiers
  std::string model = "llama-3-8b";  // named shape or FILE.gguf
  std::string weights = "fp8";
  std::string hardware = "h100-sxm";
  int devices_per_replica = 1;
  double requests_per_hour = 0;      // daily mean over all regions
  std::array<double, 24> profile{};  // fraction of a day's requests in each local hour; sums to 1
  double burstiness = 1.0;           // squared coefficient of variation of inter-arrival gaps (Poisson 1)
  double max_tpot_s = 0.05;          // time per output token target; sets the batch per replica
  std::string central_region;        // site of the centralized plans (default: the largest region)
  std::vector<DeployRegion> regions;
  std::vector<RequestClass> mix;     // LLM requests
  std::vector<VideoTier> video_mix;  // video requests (video = true)
  // Hybrid: the small model at the edge sites for the requests that are not hard.
  std::string edge_model = "llama-3-8b";
  std::string edge_weights = "fp8";
  std::string edge_hardware = "l40s";
  DeployPricing pricing;

  // Requests/s from `region_index` at UTC hour h (0..23).
  double region_rate_at(size_t region_index, int utc_hour) const;
  // Mean output tokens per request over the mix.
  double mean_output_tokens() const;
  // What the plans are priced per: a million output tokens, or a video.
  double units_per_request() const { return video ? 1.0 : mean_output_tokens() / 1e6; }
  const char* unit() const { return video ? "video" : "million output tokens"; }
};

// A flat profile (1/24 per hour).
std::array<double, 24> flat_profile();

// Parses and validates a workload document; `origin` names it in errors.
Expected<DeployWorkload> parse_deploy_workload(const std::string& json_text, const std::string& origin);
Expected<DeployWorkload> load_deploy_workload(const std::string& path);
// Checks a workload built in code or from flags (the same rules as the file).
Status validate_deploy_workload(DeployWorkload& w);

// The built-in region table (approximate public-cloud figures, see docs/COST-MODEL.md).
std::vector<std::string> known_region_names();
bool is_known_region(const std::string& name);
int region_utc_offset_hours(const std::string& name);
// Round trip between two regions' data centres (s); 0 for the same region.
double region_rtt_s(const std::string& a, const std::string& b);

}  // namespace frugal
