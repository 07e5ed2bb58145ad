#include "engine/medusa_tree.h"

#include <algorithm>
#include <numeric>
#include <queue>

namespace frugal {

int32_t MedusaTree::nodes_within_depth(int32_t max_depth) const {
  int32_t n = 0;
  while (n < size() && depth[static_cast<size_t>(n)] <= max_depth) ++n;
  return n;
}

double MedusaTree::expected_tokens(int32_t n) const {
  double e = 1;
  for (int32_t i = 0; i < std::min(n, size()); ++i) e += chance[static_cast<size_t>(i)];
  return e;
}

namespace {

// raw: nodes in best-first order (parents first) -> the same tree in breadth-first order (by depth,
// then by raw order), parents re-indexed.
MedusaTree breadth_first(const MedusaTree& raw) {
  std::vector<int32_t> order(static_cast<size_t>(raw.size()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return raw.depth[a] < raw.depth[b]; });
  std::vector<int32_t> new_index(order.size());
  for (size_t i = 0; i < order.size(); ++i) new_index[static_cast<size_t>(order[i])] = static_cast<int32_t>(i);
  MedusaTree tree;
  for (int32_t old : order) {
    const int32_t parent = raw.parent[static_cast<size_t>(old)];
    tree.parent.push_back(parent < 0 ? -1 : new_index[static_cast<size_t>(parent)]);
    tree.depth.push_back(raw.depth[static_cast<size_t>(old)]);
    tree.rank.push_back(raw.rank[static_cast<size_t>(old)]);
    tree.chance.push_back(raw.chance[static_cast<size_t>(old)]);
    tree.ranks_needed = std::max(tree.ranks_needed, tree.rank.back() + 1);
  }
  return tree;
}

}  // namespace

MedusaTree measured_medusa_tree(std::span<const int32_t> parent, std::span<const int32_t> rank,
                                std::span<const float> chance, int32_t n_nodes) {
  MedusaTree raw;
  const int32_t n = std::min<int32_t>(n_nodes, static_cast<int32_t>(parent.size()));
  for (int32_t i = 0; i < n; ++i) {
    const int32_t p = parent[static_cast<size_t>(i)];
    raw.parent.push_back(p);
    raw.depth.push_back(p < 0 ? 1 : raw.depth[static_cast<size_t>(p)] + 1);
    raw.rank.push_back(rank[static_cast<size_t>(i)]);
    raw.chance.push_back(chance[static_cast<size_t>(i)]);
  }
  return breadth_first(raw);
}

int32_t medusa_tree_depth(const MedusaTree& tree) {
  return tree.depth.empty() ? 0 : *std::max_element(tree.depth.begin(), tree.depth.end());
}

MedusaTree build_medusa_tree(std::span<const float> cumulative_accuracy, int32_t heads, int32_t ranks, int32_t n_nodes) {
  // p[k][r]: head k's rank-r candidate is right (differences of the cumulative table). A floor keeps
  // an untrained head's tree well-formed (a chain of its top-1 guesses).
  auto p = [&](int32_t k, int32_t r) {
    const size_t at = static_cast<size_t>(k * ranks + r);
    const double hit = cumulative_accuracy[at] - (r > 0 ? cumulative_accuracy[at - 1] : 0.0f);
    return std::max(hit, 1e-6 / (1 + r));
  };
  struct Candidate {
    double chance;
    int32_t parent, depth, rank;
    double parent_chance;
    bool operator<(const Candidate& o) const { return chance < o.chance; }
  };
  std::priority_queue<Candidate> frontier;
  frontier.push({p(0, 0), -1, 1, 0, 1.0});
  MedusaTree raw;
  while (raw.size() < n_nodes && !frontier.empty()) {
    const Candidate c = frontier.top();
    frontier.pop();
    const int32_t id = raw.size();
    raw.parent.push_back(c.parent);
    raw.depth.push_back(c.depth);
    raw.rank.push_back(c.rank);
    raw.chance.push_back(c.chance);
    if (c.depth < heads) frontier.push({c.chance * p(c.depth, 0), id, c.depth + 1, 0, c.chance});
    if (c.rank + 1 < ranks) frontier.push({c.parent_chance * p(c.depth - 1, c.rank + 1), c.parent, c.depth, c.rank + 1, c.parent_chance});
  }
  return breadth_first(raw);  // by depth, then by discovery (stable)
}

int32_t medusa_child(const MedusaTree& tree, std::span<const int32_t> tokens, int32_t node, int32_t token) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tree.parent[i] == node && tokens[i] == token) return static_cast<int32_t>(i);
  }
  return -1;
}

}  // namespace frugal
