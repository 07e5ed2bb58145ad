// Prometheus-style metrics (metrics layer, depends on core only): counters, gauges and histograms
// with optional label values, registered once and updated from any thread, rendered in the
// Prometheus text exposition format (version 0.0.4) for GET /metrics.
// Threading contract: registration (the register_* calls) happens at start-up on one thread;
// updates (inc/set/observe) and render() are thread-safe and lock-free or short-locked.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace frugal {

// A monotonically increasing value. Family with fixed label names; each label-value combination
// is a child created on first use.
class Counter {
 public:
  void inc(double amount = 1.0);
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value);
  void add(double amount);
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // sorted, +Inf implied
  void observe(double value);
  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative_counts;  // per bound, then +Inf last
    double sum = 0.0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> upper_bounds_;
  std::vector<std::atomic<uint64_t>> bucket_counts_;  // non-cumulative, size bounds+1
  std::atomic<double> sum_{0.0};
  std::atomic<uint64_t> count_{0};
};

// Bucket layouts for latencies in seconds.
std::vector<double> latency_buckets_seconds();      // 1 ms .. 120 s, roughly ×2.5 steps
std::vector<double> step_time_buckets_seconds();    // 0.5 ms .. 10 s

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  // name: "frugal_requests_total" (snake_case, unit suffix per Prometheus conventions).
  // label_names may be empty. Returns the family; children are looked up by label values.
  class CounterFamily* counter(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  class GaugeFamily* gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  class HistogramFamily* histogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds,
                                   std::vector<std::string> label_names = {});
  // Prometheus text format, families in registration order.
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class CounterFamily {
 public:
  virtual ~CounterFamily() = default;
  virtual Counter& with(const std::vector<std::string>& label_values = {}) = 0;
};
class GaugeFamily {
 public:
  virtual ~GaugeFamily() = default;
  virtual Gauge& with(const std::vector<std::string>& label_values = {}) = 0;
};
class HistogramFamily {
 public:
  virtual ~HistogramFamily() = default;
  virtual Histogram& with(const std::vector<std::string>& label_values = {}) = 0;
};

}  // namespace frugal
