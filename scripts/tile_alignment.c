/*
 * The weight kernels' 2 x 3 register tile (2 weight rows by 3 activation rows, float32, AVX2 + FMA) in C, over
 * rows that sit in L1, against the core's FMA peak: once with the rows 32-byte aligned, once 16 bytes off, where
 * the data of a Java float[] starts (its header is 16 bytes), so that every other 256-bit load crosses a cache
 * line. It bounds what the Java tiles (docs/BENCHMARKS.md, "Weight kernels") can reach on the same machine.
 *
 *   gcc -O2 -mavx2 -mfma -o /tmp/tile_alignment scripts/tile_alignment.c && /tmp/tile_alignment
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 768 /* GPT-2 small's width */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Ten independent FMA chains: the core's peak. */
__attribute__((noinline, noipa)) static float peak(long iterations) {
    __m256 x = _mm256_set1_ps(1e-9f);
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
    for (long i = 0; i < iterations; i++) {
        c0 = _mm256_fmadd_ps(x, x, c0);
        c1 = _mm256_fmadd_ps(x, x, c1);
        c2 = _mm256_fmadd_ps(x, x, c2);
        c3 = _mm256_fmadd_ps(x, x, c3);
        c4 = _mm256_fmadd_ps(x, x, c4);
        c5 = _mm256_fmadd_ps(x, x, c5);
        c6 = _mm256_fmadd_ps(x, x, c6);
        c7 = _mm256_fmadd_ps(x, x, c7);
        c8 = _mm256_fmadd_ps(x, x, c8);
        c9 = _mm256_fmadd_ps(x, x, c9);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(_mm256_add_ps(c6, c7), _mm256_add_ps(c8, c9))));
    return s[0];
}

/* The tile: six accumulators, each weight vector loaded once for three activation rows. */
__attribute__((noinline, noipa)) static float tile(const float *w0, const float *w1, const float *x0, const float *x1,
                                                    const float *x2, int n) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    for (int k = 0; k < n; k += 8) {
        __m256 a0 = _mm256_loadu_ps(x0 + k), a1 = _mm256_loadu_ps(x1 + k), a2 = _mm256_loadu_ps(x2 + k);
        __m256 v = _mm256_loadu_ps(w0 + k);
        c00 = _mm256_fmadd_ps(v, a0, c00);
        c01 = _mm256_fmadd_ps(v, a1, c01);
        c02 = _mm256_fmadd_ps(v, a2, c02);
        v = _mm256_loadu_ps(w1 + k);
        c10 = _mm256_fmadd_ps(v, a0, c10);
        c11 = _mm256_fmadd_ps(v, a1, c11);
        c12 = _mm256_fmadd_ps(v, a2, c12);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c00, c01), _mm256_add_ps(c02, c10)), _mm256_add_ps(c11, c12));
    return s[0];
}

/* GFLOP/s of the tile over rows starting `offset` bytes past a 64-byte boundary. */
static double tileRate(float *w, float *x, int offset, float *sink) {
    int skip = offset / (int) sizeof(float);
    float *w0 = w + skip, *w1 = w + N + 16 + skip; /* each row 64-byte aligned plus the offset */
    float *x0 = x + skip, *x1 = x + N + 16 + skip, *x2 = x + 2 * (N + 16) + skip;
    long reps = 200000;
    double start = now();
    for (long i = 0; i < reps; i++) {
        *sink += tile(w0, w1, x0, x1, x2, N);
    }
    return 2.0 * 6 * N * reps / (now() - start) / 1e9;
}

int main(void) {
    float *w = aligned_alloc(64, 2 * (N + 16) * sizeof(float));
    float *x = aligned_alloc(64, 3 * (N + 16) * sizeof(float));
    for (int i = 0; i < 2 * (N + 16); i++) {
        w[i] = rand() / (float) RAND_MAX;
    }
    for (int i = 0; i < 3 * (N + 16); i++) {
        x[i] = rand() / (float) RAND_MAX;
    }
    float sink = 0;
    printf("| round | FMA peak, one core | tile, rows 32-byte aligned | tile, rows 16 bytes off (Java's float[]) |\n");
    printf("| --- | --- | --- | --- |\n");
    for (int round = 1; round <= 5; round++) {
        long iterations = 50000000;
        double start = now();
        sink += peak(iterations);
        double top = 2.0 * 8 * 10 * iterations / (now() - start) / 1e9;
        double aligned = tileRate(w, x, 0, &sink);
        double off = tileRate(w, x, 16, &sink);
        printf("| %d | %.1f GFLOP/s | %.2f of it | %.2f of it |\n", round, top, aligned / top, off / top);
    }
    return sink == 42.0f;
}
