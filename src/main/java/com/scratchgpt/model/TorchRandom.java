package com.scratchgpt.model;

import java.nio.FloatBuffer;

/**
 * PyTorch's CPU random generator and the two fills its default initialisers use, reproduced bit for bit:
 * {@code at::mt19937} seeded by {@code torch.manual_seed}, {@code uniform_} and {@code normal_} on
 * float32 tensors as PyTorch's AVX2 CPU kernels compute them.
 */
public final class TorchRandom {

    private static final int N = 624;
    private static final int M = 397;
    private static final float TWO_PI = (float) (2.0 * Math.PI);
    private static final int CHUNK = 16 * 1024; // floats drawn before they are copied out, a multiple of 16
    private static final long BOX_MULLER_COST = 16 * 16; // a block of 16 in ParallelLoop's units, as 16 GELUs

    private final int[] state = new int[N];
    private final int[] draws = new int[N]; // the tempered outputs of the current state, handed out in order
    private int next = N;

    /** {@code torch.manual_seed(seed)}: the Knuth initialisation of mt19937 with the low 32 bits. */
    public TorchRandom(long seed) {
        state[0] = (int) seed;
        for (int j = 1; j < N; j++) {
            state[j] = 1812433253 * (state[j - 1] ^ (state[j - 1] >>> 30)) + j;
        }
    }

    /** One 32-bit draw of mt19937. */
    int nextInt() {
        if (next == N) {
            twist();
            temper();
            next = 0;
        }
        return draws[next++];
    }

    /** The next N words of the state, in place, in the generator's order (the wrap-around reads words already renewed). */
    private void twist() {
        int i = 0;
        for (; i < N - M; i++) {
            state[i] = state[i + M] ^ mix(state[i], state[i + 1]);
        }
        for (; i < N - 1; i++) {
            state[i] = state[i + M - N] ^ mix(state[i], state[i + 1]);
        }
        state[N - 1] = state[M - 1] ^ mix(state[N - 1], state[0]);
    }

    private static int mix(int upper, int lower) {
        int y = (upper & 0x80000000) | (lower & 0x7fffffff);
        return (y >>> 1) ^ (-(y & 1) & 0x9908b0df);
    }

    /** Each word of the state tempered into a draw: a loop of shifts and masks the JIT vectorises. */
    private void temper() {
        for (int i = 0; i < N; i++) {
            int y = state[i];
            y ^= y >>> 11;
            y ^= (y << 7) & 0x9d2c5680;
            y ^= (y << 15) & 0xefc60000;
            y ^= y >>> 18;
            draws[i] = y;
        }
    }

    /** uniform_real_distribution&lt;float&gt;(0, 1): the low 24 bits of a draw, scaled to [0, 1). */
    private float uniform01() {
        return (nextInt() & 0xFFFFFF) * 0x1.0p-24f;
    }

    /** {@code tensor.uniform_(from, to)} on {@code n} floats at {@code offset}, in memory order. */
    public void uniform(FloatBuffer data, int offset, int n, double from, double to) {
        float lo = (float) from;
        float range = (float) to - lo;
        float[] chunk = new float[Math.min(n, CHUNK)];
        for (int done = 0; done < n; done += chunk.length) {
            int k = Math.min(chunk.length, n - done);
            for (int i = 0; i < k; i++) {
                // the kernel computes x * (to - from) + from in float, compiled to a fused multiply-add
                chunk[i] = Math.fma(uniform01(), range, lo);
            }
            data.put(offset + done, chunk, 0, k);
        }
    }

    /**
     * {@code tensor.normal_(0, 1)} on {@code n >= 16} floats at {@code offset}: every element gets a
     * uniform first, then each block of 16 becomes 8 Box-Muller pairs (j, j + 8); when n is not a
     * multiple of 16 the last 16 elements are drawn and transformed again. Drawn a chunk at a time, in order,
     * and the chunk's blocks transformed on all cores: a block's transform reads only its own draws.
     */
    public void normal(FloatBuffer data, int offset, int n) {
        if (n < 16) {
            throw new IllegalArgumentException("normal_ of fewer than 16 values takes another PyTorch path; not supported");
        }
        float[] chunk = new float[Math.min(n, CHUNK)];
        for (int done = 0; done < n; done += chunk.length) {
            int k = Math.min(chunk.length, n - done);
            for (int i = 0; i < k; i++) {
                chunk[i] = uniform01();
            }
            ParallelLoop.forRange(k / 16, BOX_MULLER_COST, (from, to) -> {
                for (int block = from; block < to; block++) {
                    boxMuller16(chunk, 16 * block);
                }
            });
            data.put(offset + done, chunk, 0, k); // a partial last block stays uniform until the tail replaces it
        }
        if (n % 16 != 0) {
            for (int i = 0; i < 16; i++) {
                chunk[i] = uniform01();
            }
            boxMuller16(chunk, 0);
            data.put(offset + n - 16, chunk, 0, 16);
        }
    }

    /** normal_fill_16_AVX2 for mean 0, std 1. */
    private static void boxMuller16(float[] d, int at) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1f - d[at + j];
            float u2 = d[at + j + 8];
            float radius = (float) Math.sqrt(-2f * log(u1));
            long sinCos = sinCos(TWO_PI * u2);
            d[at + j] = radius * cosOf(sinCos);
            d[at + j + 8] = radius * sinOf(sinCos);
        }
    }

    // The Cephes polynomials of avx_mathfun.h (log256_ps, sincos256_ps) that PyTorch's kernel calls,
    // one lane at a time, with the fused multiply-adds the compiled kernel uses.

    static float log(float x0) {
        float x = Math.max(x0, Float.MIN_NORMAL);
        int bits = Float.floatToRawIntBits(x);
        int exponent = (bits >>> 23) - 0x7f;
        x = Float.intBitsToFloat((bits & ~0x7f800000) | Float.floatToRawIntBits(0.5f));
        float e = exponent + 1f;
        if (x < 0.707106781186547524f) {
            e -= 1f;
            x = x - 1f + x;
        } else {
            x = x - 1f;
        }
        float z = x * x;
        float y = 7.0376836292e-2f;
        y = Math.fma(y, x, -1.1514610310e-1f);
        y = Math.fma(y, x, 1.1676998740e-1f);
        y = Math.fma(y, x, -1.2420140846e-1f);
        y = Math.fma(y, x, 1.4249322787e-1f);
        y = Math.fma(y, x, -1.6668057665e-1f);
        y = Math.fma(y, x, 2.0000714765e-1f);
        y = Math.fma(y, x, -2.4999993993e-1f);
        y = Math.fma(y, x, 3.3333331174e-1f);
        y = y * x;
        y = Math.fma(y, z, e * -2.12194440e-4f);
        y = Math.fma(z, -0.5f, y);
        x = x + y;
        return Math.fma(e, 0.693359375f, x);
    }

    static float sin(float theta) {
        return sinOf(sinCos(theta));
    }

    static float cos(float theta) {
        return cosOf(sinCos(theta));
    }

    private static float sinOf(long sinCos) {
        return Float.intBitsToFloat((int) (sinCos >>> 32));
    }

    private static float cosOf(long sinCos) {
        return Float.intBitsToFloat((int) sinCos);
    }

    /** sincos256_ps on one lane: the bits of sin(theta) in the high half, of cos(theta) in the low half. */
    private static long sinCos(float theta) {
        int signSin = Float.floatToRawIntBits(theta) & 0x80000000;
        float x = Math.abs(theta);
        int j = (int) (x * 1.27323954473516f); // 4 / pi, truncated
        j = (j + 1) & ~1;
        float q = j;
        int swapSign = (j & 4) << 29;
        boolean firstPolynomial = (j & 2) == 0;
        signSin ^= swapSign;
        int signCos = (~(j - 2) & 4) << 29;
        // extended precision modular arithmetic
        x = Math.fma(q, -0.78515625f, x);
        x = Math.fma(q, -2.4187564849853515625e-4f, x);
        x = Math.fma(q, -3.77489497744594108e-8f, x);
        float z = x * x;
        float yc = Math.fma(2.443315711809948e-5f, z, -1.388731625493765e-3f);
        yc = Math.fma(yc, z, 4.166664568298827e-2f);
        yc = yc * z;
        yc = Math.fma(yc, z, -(z * 0.5f));
        yc = yc + 1f;
        float ys = Math.fma(-1.9515295891e-4f, z, 8.3321608736e-3f);
        ys = Math.fma(ys, z, -1.6666654611e-1f);
        ys = ys * z;
        ys = Math.fma(ys, x, x);
        float sinValue = firstPolynomial ? ys : yc;
        float cosValue = firstPolynomial ? yc : ys;
        int sinBits = Float.floatToRawIntBits(sinValue) ^ signSin;
        int cosBits = Float.floatToRawIntBits(cosValue) ^ signCos;
        return ((long) sinBits << 32) | (cosBits & 0xFFFFFFFFL);
    }
}
