/* stream-ref: a STREAM-style memory-bandwidth reference for scripts/membw-check (not part of frugal's
 * build). Copy, scale, add and triad as in McCalpin's STREAM, plus a read-only sum kernel (what a
 * decode step does to its weights), on OpenMP threads with static contiguous slices. Arrays are
 * initialised in parallel (first touch) before timing; each kernel runs once untimed, then N times
 * timed; best, median and minimum GB/s (1e9 B/s) are printed. Byte counts follow STREAM: read 8 B per
 * element, copy and scale 16 B, add and triad 24 B; write-allocate traffic is not counted.
 *
 * Usage: stream-ref ARRAY_MIB REPETITIONS    (threads from OMP_NUM_THREADS)
 * Output: one line per kernel: "<kernel> <best> <median> <min>", after "# ..." comment lines.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

enum { kKernels = 5, kMaxReps = 1000 };
static const char* const kNames[kKernels] = {"read", "copy", "scale", "add", "triad"};
static const double kBytesPerElem[kKernels] = {8, 16, 16, 24, 24};

static int cmp_double(const void* x, const void* y) {
  const double a = *(const double*)x, b = *(const double*)y;
  return (a > b) - (a < b);
}

/* This thread's static slice [*begin, *end) of n elements. */
static void slice(long n, long* begin, long* end) {
  const int t = omp_get_thread_num(), nt = omp_get_num_threads();
  const long chunk = (n + nt - 1) / nt;
  *begin = chunk * t < n ? chunk * t : n;
  *end = *begin + chunk < n ? *begin + chunk : n;
}

static double run_kernel(int k, double* restrict a, double* restrict b, double* restrict c, long n) {
  const double s = 3.0;
  double total = 0;
  const double start = omp_get_wtime();
#pragma omp parallel reduction(+ : total)
  {
    long begin, end;
    slice(n, &begin, &end);
    if (k == 0) {
      double acc[16] = {0};
      long i = begin;
      for (; i + 16 <= end; i += 16)
        for (int l = 0; l < 16; ++l) acc[l] += a[i + l];
      for (; i < end; ++i) acc[0] += a[i];
      for (int l = 0; l < 16; ++l) total += acc[l];
    } else if (k == 1) {
      for (long i = begin; i < end; ++i) c[i] = a[i];
    } else if (k == 2) {
      for (long i = begin; i < end; ++i) b[i] = s * c[i];
    } else if (k == 3) {
      for (long i = begin; i < end; ++i) c[i] = a[i] + b[i];
    } else {
      for (long i = begin; i < end; ++i) a[i] = b[i] + s * c[i];
    }
  }
  const double seconds = omp_get_wtime() - start;
  if (total == -1.0) puts("");  /* keeps the read kernel's sum live */
  return seconds;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: stream-ref ARRAY_MIB REPETITIONS\n");
    return 2;
  }
  const long mib = atol(argv[1]);
  const int reps = atoi(argv[2]);
  if (mib < 1 || reps < 1 || reps > kMaxReps) {
    fprintf(stderr, "stream-ref: ARRAY_MIB must be >= 1 and REPETITIONS in [1, %d]\n", kMaxReps);
    return 2;
  }
  const long n = mib * 1024 * 1024 / (long)sizeof(double);
  double* a = aligned_alloc(64, (size_t)n * sizeof(double));
  double* b = aligned_alloc(64, (size_t)n * sizeof(double));
  double* c = aligned_alloc(64, (size_t)n * sizeof(double));
  if (!a || !b || !c) {
    fprintf(stderr, "stream-ref: cannot allocate 3 x %ld MiB\n", mib);
    return 1;
  }
#pragma omp parallel
  {
    long begin, end;
    slice(n, &begin, &end);
    for (long i = begin; i < end; ++i) a[i] = 1.0, b[i] = 2.0, c[i] = 0.0;
  }
  static double gbs[kKernels][kMaxReps];
  for (int rep = -1; rep < reps; ++rep) {
    for (int k = 0; k < kKernels; ++k) {
      const double seconds = run_kernel(k, a, b, c, n);
      if (rep >= 0) gbs[k][rep] = kBytesPerElem[k] * (double)n / seconds / 1e9;
    }
  }
  printf("# stream-ref: %d threads, 3 x %ld MiB arrays, best of %d after 1 warm-up\n", omp_get_max_threads(), mib, reps);
  for (int k = 0; k < kKernels; ++k) {
    qsort(gbs[k], (size_t)reps, sizeof(double), cmp_double);
    const double median = reps % 2 ? gbs[k][reps / 2] : 0.5 * (gbs[k][reps / 2 - 1] + gbs[k][reps / 2]);
    printf("%s %.3f %.3f %.3f\n", kNames[k], gbs[k][reps - 1], median, gbs[k][0]);
  }
  free(a);
  free(b);
  free(c);
  return 0;
}
