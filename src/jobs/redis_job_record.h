// A job record as the Redis job store keeps it (jobs layer): the fields of its hash, as HGETALL
// answers them (field, value, field, value, ...), back into a JobRecord. The request is the "spec"
// JSON and the stage timings the "stages" JSON of job_record_json.h, as in the SQLite store.
#pragma once

#include <string>
#include <vector>

#include "jobs/job.h"
#include "jobs/redis_connection.h"

namespace frugal::jobs {

// `flat` from `first`: name, value pairs. Unknown fields are ignored, missing ones stay default.
JobRecord job_from_hash(const std::vector<RedisValue>& flat, size_t first = 0);
// A double as Redis stores it: shortest text that reads back the same value.
std::string redis_double(double value);

}  // namespace frugal::jobs
