// The static sparse candidate tree of Medusa speculation (engine layer): which of the heads'
// candidates are verified together, as a tree rooted at the sequence's last token.
//
// Node i proposes head (depth_i - 1)'s rank_i-th candidate as the token depth_i positions after the
// root, after its parent's token (parent -1 = the root). Nodes are in breadth-first order (by depth,
// parents before children), so the nodes of depth <= d are a prefix and a node's index is at least
// depth - 1 (the KV compaction relies on it: medusa_runner.h).
//
// NOTE (how the tree is chosen): like Medusa's sparse trees, from measured acceptance. Heads files
// from the current trainer carry a tree measured on held-out greedy text from JOINT acceptance (a
// path counts when all its candidates are right together; the heads' errors are correlated, so
// this is likelier than the product of marginals); older files only a per-head table. With p(k, r)
// the probability that head k's rank-r candidate is the token the target picks (the trainer's
// held-out table) and heads taken as independent, a node's chance of being on the accepted path is
// the product of p along its path, and the expected tokens per verification are 1 + the sum of
// those over all nodes. Each node's chance is below its parent's, so taking the n most likely
// nodes (best-first search) is the best tree of n nodes under that model; n is set by measurement
// (`frugal bench --spec medusa --medusa-tree`, docs/PERFORMANCE.md).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace frugal {

struct MedusaTree {
  std::vector<int32_t> parent;  // [n] -1 = the root
  std::vector<int32_t> depth;   // [n] >= 1
  std::vector<int32_t> rank;    // [n] rank among head (depth - 1)'s candidates
  std::vector<double> chance;   // [n] modelled chance of the node being accepted
  int32_t ranks_needed = 0;     // 1 + the highest rank used
  int32_t size() const { return static_cast<int32_t>(parent.size()); }
  // Nodes of depth <= max_depth (a prefix of the node order).
  int32_t nodes_within_depth(int32_t max_depth) const;
  // Modelled tokens per verification with the first n nodes.
  double expected_tokens(int32_t n) const;
};

// cumulative_accuracy: [heads * ranks] cumulative top-r accuracy (MedusaHeads::accuracy()).
MedusaTree build_medusa_tree(std::span<const float> cumulative_accuracy, int32_t heads, int32_t ranks, int32_t n_nodes);

// A tree measured from JOINT acceptance (the trainer's medusa.tree.*): nodes listed most likely
// first, parents before children (parent -1 = the root). Takes the first n_nodes of them, in
// breadth-first order. The list must be valid (MedusaHeads::load checks it).
MedusaTree measured_medusa_tree(std::span<const int32_t> parent, std::span<const int32_t> rank,
                                std::span<const float> chance, int32_t n_nodes);

// The deepest node of the tree: how many heads its proposals need.
int32_t medusa_tree_depth(const MedusaTree& tree);

// The child of `node` (-1 = root) among the first tokens.size() nodes whose token is `token`, or -1.
int32_t medusa_child(const MedusaTree& tree, std::span<const int32_t> tokens, int32_t node, int32_t token);

}  // namespace frugal
