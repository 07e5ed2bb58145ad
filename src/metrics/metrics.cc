#include "metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string_view>
#include <unordered_map>

#include "core/check.h"

namespace frugal {

// ---- values ----

void Counter::inc(double amount) {
  DCHECK(amount >= 0.0, "a counter only goes up");
  value_.fetch_add(amount, std::memory_order_relaxed);
}
double Counter::value() const { return value_.load(std::memory_order_relaxed); }

void Gauge::set(double value) { value_.store(value, std::memory_order_relaxed); }
void Gauge::add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
double Gauge::value() const { return value_.load(std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), bucket_counts_(upper_bounds_.size() + 1) {
  CHECK(std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()), "histogram bounds must be sorted");
  CHECK(std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end()) == upper_bounds_.end(),
        "histogram bounds must be distinct");
  for (auto& count : bucket_counts_) count.store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  // Prometheus buckets are "less than or equal": the first bound >= value takes the sample;
  // NaN and values above every bound land in +Inf (index = bounds.size()).
  const auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  const size_t bucket_idx = std::isnan(value) ? upper_bounds_.size() : static_cast<size_t>(it - upper_bounds_.begin());
  bucket_counts_[bucket_idx].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.upper_bounds = upper_bounds_;
  snap.cumulative_counts.resize(bucket_counts_.size());
  uint64_t running = 0;
  for (size_t bucket_idx = 0; bucket_idx < bucket_counts_.size(); ++bucket_idx) {
    running += bucket_counts_[bucket_idx].load(std::memory_order_relaxed);
    snap.cumulative_counts[bucket_idx] = running;
  }
  // The count is derived from the buckets so that _count always equals the +Inf bucket even while
  // other threads observe concurrently (scrapers reject a histogram where they differ).
  snap.count = running;
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

std::vector<double> latency_buckets_seconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 120.0};
}

std::vector<double> step_time_buckets_seconds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
}

// ---- text exposition helpers ----
namespace {

// Shortest round-trip decimal ("0.1", "1e-05", "42"), "+Inf"/"-Inf"/"NaN" as Prometheus spells them.
std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, result.ptr);
}

// Label values escape backslash, double quote and newline (text format 0.0.4).
std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// HELP text escapes backslash and newline only.
std::string escape_help(std::string_view help) {
  std::string out;
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t char_idx = 0; char_idx < name.size(); ++char_idx) {
    const char c = name[char_idx];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && char_idx > 0)) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  return valid_metric_name(name) && name.find(':') == std::string_view::npos && name.rfind("__", 0) != 0;
}

// `{a="x",b="y"}` from names and values, plus an optional extra pair (the histogram's `le`).
std::string label_block(const std::vector<std::string>& names, const std::vector<std::string>& values,
                        std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t label_idx = 0; label_idx < names.size(); ++label_idx) {
    if (label_idx > 0) out += ',';
    out += names[label_idx] + "=\"" + escape_label_value(values[label_idx]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += std::string(extra_name) + "=\"" + escape_label_value(extra_value) + "\"";
  }
  out += '}';
  return out;
}

// A family's children keyed by label values; sorted so the output is deterministic.
template <typename Child>
class ChildMap {
 public:
  template <typename Factory>
  Child& get(const std::vector<std::string>& label_values, const Factory& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = children_.find(label_values);
    if (it == children_.end()) it = children_.emplace(label_values, make()).first;
    return *it->second;
  }
  template <typename Visit>
  void for_each(const Visit& visit) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [values, child] : children_) visit(values, *child);
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Child>> children_;
};

enum class FamilyType { kCounter, kGauge, kHistogram };

std::string_view family_type_name(FamilyType type) {
  switch (type) {
    case FamilyType::kCounter:
      return "counter";
    case FamilyType::kGauge:
      return "gauge";
    case FamilyType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

struct FamilyHeader {
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
};

void check_label_values(const FamilyHeader& header, const std::vector<std::string>& label_values) {
  CHECK(label_values.size() == header.label_names.size(),
        "metric " + header.name + ": wrong number of label values");
}

class RenderableFamily {
 public:
  virtual ~RenderableFamily() = default;
  virtual FamilyType type() const = 0;
  virtual const FamilyHeader& header() const = 0;
  virtual void render_samples(std::string& out) const = 0;
};

class CounterFamilyImpl final : public CounterFamily, public RenderableFamily {
 public:
  explicit CounterFamilyImpl(FamilyHeader header) : header_(std::move(header)) {}
  Counter& with(const std::vector<std::string>& label_values) override {
    check_label_values(header_, label_values);
    return children_.get(label_values, [] { return std::make_unique<Counter>(); });
  }
  FamilyType type() const override { return FamilyType::kCounter; }
  const FamilyHeader& header() const override { return header_; }
  void render_samples(std::string& out) const override {
    children_.for_each([&](const std::vector<std::string>& values, const Counter& counter) {
      out += header_.name + label_block(header_.label_names, values) + " " + format_number(counter.value()) + "\n";
    });
  }

 private:
  FamilyHeader header_;
  ChildMap<Counter> children_;
};

class GaugeFamilyImpl final : public GaugeFamily, public RenderableFamily {
 public:
  explicit GaugeFamilyImpl(FamilyHeader header) : header_(std::move(header)) {}
  Gauge& with(const std::vector<std::string>& label_values) override {
    check_label_values(header_, label_values);
    return children_.get(label_values, [] { return std::make_unique<Gauge>(); });
  }
  FamilyType type() const override { return FamilyType::kGauge; }
  const FamilyHeader& header() const override { return header_; }
  void render_samples(std::string& out) const override {
    children_.for_each([&](const std::vector<std::string>& values, const Gauge& gauge) {
      out += header_.name + label_block(header_.label_names, values) + " " + format_number(gauge.value()) + "\n";
    });
  }

 private:
  FamilyHeader header_;
  ChildMap<Gauge> children_;
};

class HistogramFamilyImpl final : public HistogramFamily, public RenderableFamily {
 public:
  HistogramFamilyImpl(FamilyHeader header, std::vector<double> upper_bounds)
      : header_(std::move(header)), upper_bounds_(std::move(upper_bounds)) {}
  Histogram& with(const std::vector<std::string>& label_values) override {
    check_label_values(header_, label_values);
    return children_.get(label_values, [this] { return std::make_unique<Histogram>(upper_bounds_); });
  }
  FamilyType type() const override { return FamilyType::kHistogram; }
  const FamilyHeader& header() const override { return header_; }
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  void render_samples(std::string& out) const override {
    children_.for_each([&](const std::vector<std::string>& values, const Histogram& histogram) {
      const Histogram::Snapshot snap = histogram.snapshot();
      for (size_t bucket_idx = 0; bucket_idx < snap.cumulative_counts.size(); ++bucket_idx) {
        const double bound = bucket_idx < snap.upper_bounds.size() ? snap.upper_bounds[bucket_idx] : INFINITY;
        out += header_.name + "_bucket" + label_block(header_.label_names, values, "le", format_number(bound)) + " " +
               std::to_string(snap.cumulative_counts[bucket_idx]) + "\n";
      }
      const std::string labels = label_block(header_.label_names, values);
      out += header_.name + "_sum" + labels + " " + format_number(snap.sum) + "\n";
      out += header_.name + "_count" + labels + " " + std::to_string(snap.count) + "\n";
    });
  }

 private:
  FamilyHeader header_;
  std::vector<double> upper_bounds_;
  ChildMap<Histogram> children_;
};

}  // namespace

// ---- registry ----

struct MetricsRegistry::Impl {
  mutable std::mutex mutex;
  std::vector<std::unique_ptr<RenderableFamily>> families;  // registration order
  std::unordered_map<std::string, RenderableFamily*> by_name;

  // Registering a name twice with the same type and labels returns the first family (so the
  // engine and the server may both ask for it); anything else is a programmer error.
  RenderableFamily* find_existing(const std::string& name, FamilyType type,
                                  const std::vector<std::string>& label_names) const {
    const auto it = by_name.find(name);
    if (it == by_name.end()) return nullptr;
    CHECK(it->second->type() == type, "metric " + name + " registered twice with different types");
    CHECK(it->second->header().label_names == label_names, "metric " + name + " registered with different labels");
    return it->second;
  }

  FamilyHeader make_header(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names) const {
    CHECK(valid_metric_name(name), "invalid metric name: " + name);
    for (const std::string& label : label_names) CHECK(valid_label_name(label), "invalid label name: " + label);
    return FamilyHeader{name, help, std::move(label_names)};
  }

  template <typename Family>
  Family* add(std::unique_ptr<Family> family) {
    Family* raw = family.get();
    by_name.emplace(raw->header().name, raw);
    families.push_back(std::move(family));
    // A family without labels has exactly one series: create it now so it renders as 0 from the start.
    if (raw->header().label_names.empty()) raw->with({});
    return raw;
  }
};

MetricsRegistry::MetricsRegistry() : impl_(std::make_unique<Impl>()) {}
MetricsRegistry::~MetricsRegistry() = default;

CounterFamily* MetricsRegistry::counter(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (auto* existing = impl_->find_existing(name, FamilyType::kCounter, label_names)) {
    return static_cast<CounterFamilyImpl*>(existing);
  }
  return impl_->add(std::make_unique<CounterFamilyImpl>(impl_->make_header(name, help, std::move(label_names))));
}

GaugeFamily* MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (auto* existing = impl_->find_existing(name, FamilyType::kGauge, label_names)) {
    return static_cast<GaugeFamilyImpl*>(existing);
  }
  return impl_->add(std::make_unique<GaugeFamilyImpl>(impl_->make_header(name, help, std::move(label_names))));
}

HistogramFamily* MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                            std::vector<double> upper_bounds, std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (auto* existing = impl_->find_existing(name, FamilyType::kHistogram, label_names)) {
    auto* family = static_cast<HistogramFamilyImpl*>(existing);
    CHECK(family->upper_bounds() == upper_bounds, "metric " + name + " registered with different buckets");
    return family;
  }
  for (const std::string& label : label_names) CHECK(label != "le", "histogram label 'le' is reserved");
  return impl_->add(std::make_unique<HistogramFamilyImpl>(impl_->make_header(name, help, std::move(label_names)),
                                                          std::move(upper_bounds)));
}

std::string MetricsRegistry::render() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::string out;
  for (const auto& family : impl_->families) {
    const FamilyHeader& header = family->header();
    out += "# HELP " + header.name + " " + escape_help(header.help) + "\n";
    out += "# TYPE " + header.name + " " + std::string(family_type_name(family->type())) + "\n";
    family->render_samples(out);
  }
  return out;
}

}  // namespace frugal
