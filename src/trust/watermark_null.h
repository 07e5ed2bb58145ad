// The detector's null distribution (trust layer): how large the watermark statistic can get on a
// video that does not carry this key's mark, as a bound that holds for any content.
//
// Per bit i the detector forms z_i = Σ_c chip_c e_c / sqrt(Σ_c e_c²) over the bit's cells, where e_c
// is a residual computed from the picture alone. Without the mark the keyed chips are fair coins
// independent of e, so z_i is a normalised Rademacher sum: E exp(t z_i) ≤ exp(t²/2) (Hoeffding's
// lemma), hence E exp(λ z_i²) ≤ (1 − 2λ)^(−1/2) for λ < 1/2, and the bits use disjoint cells, so
// they are independent. T = Σ_i z_i² over k bits therefore obeys the χ²_k Chernoff bound
//     P(T ≥ t) ≤ (t / k)^(k/2) · exp((k − t) / 2)      for t > k,
// whatever the video shows. The detector takes the best of H alignment hypotheses, so its
// false-positive rate is at most H times that (union bound).
#pragma once

namespace frugal::trust {

// ln of the bound above: ln P(T ≥ t) for T a sum of k squared normalised Rademacher sums (0 for t ≤ k).
double log_chi2_chernoff_tail(double t, int k);
// The smallest t with H · exp(log_chi2_chernoff_tail(t, k)) ≤ fpr (bisection; fpr in (0, 1), H ≥ 1).
double chi2_chernoff_threshold(int k, double fpr, int hypotheses);

}  // namespace frugal::trust
